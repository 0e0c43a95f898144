/** A labelled grid of images: rows = models (e.g. MLL teacher / MCMI teacher / student), columns = images. */
import { assertKnownOptions } from '@kd/internal';
import { assertNumber } from './validate';
import { fillRect, pasteImage } from './draw';
import { drawText, measureText } from './font';
import { assertImage, createImage, type RasterImage, type Rgb } from './image';

export interface GridRow {
  /** Drawn left of the row. */
  label: string;
  /** One image per column (any sizes; each is centred in its cell). */
  images: RasterImage[];
}

export interface GridOptions {
  rows: GridRow[];
  /** Drawn above the columns; when given, one per column. */
  columnLabels?: string[];
  /** Drawn above everything. */
  title?: string;
  /** Space between cells and around the grid, in pixels. Default 4. */
  padding?: number;
  /** Integer magnification of the 5×7 font. Default 1. */
  textScale?: number;
  /** Default white. */
  background?: Rgb;
  /** Default black. */
  textColor?: Rgb;
}

/**
 * Lays images out in a labelled grid and returns one RGB image. Cells are as large as the largest image; every
 * row must have the same number of images.
 *
 * @example
 * const grid = renderGrid({
 *   rows: [{ label: 'MLL teacher', images: mllOverlays }, { label: 'MCMI teacher', images: mcmiOverlays }],
 *   columnLabels: ['cat', 'ship'],
 *   textScale: 2,
 * });
 */
export function renderGrid(options: GridOptions): RasterImage {
  const fn = 'renderGrid';
  assertKnownOptions(fn, options, ['rows', 'columnLabels', 'title', 'padding', 'textScale', 'background', 'textColor']);
  if (options === undefined || !Array.isArray(options.rows) || options.rows.length === 0) {
    throw new Error(`${fn}: rows must be a non-empty array of { label, images }`);
  }
  const { rows, columnLabels, title } = options;
  const padding = assertNumber(fn, 'padding', options.padding ?? 4, { integer: true, nonNegative: true });
  const scale = assertNumber(fn, 'textScale', options.textScale ?? 1, { integer: true, positive: true });
  const background = options.background ?? [255, 255, 255];
  const textColor = options.textColor ?? [0, 0, 0];
  const columns = rows[0]?.images.length ?? 0;
  if (columns === 0) throw new Error(`${fn}: rows[0].images is empty`);
  let cellWidth = 0;
  let cellHeight = 0;
  rows.forEach((row, rowIndex) => {
    if (typeof row?.label !== 'string') throw new Error(`${fn}: rows[${rowIndex}].label must be a string`);
    if (!Array.isArray(row.images) || row.images.length !== columns) {
      throw new Error(`${fn}: rows[${rowIndex}] has ${row.images?.length} images, rows[0] has ${columns}`);
    }
    row.images.forEach((image, column) => {
      assertImage(fn, `rows[${rowIndex}].images[${column}]`, image);
      cellWidth = Math.max(cellWidth, image.width);
      cellHeight = Math.max(cellHeight, image.height);
    });
  });
  if (columnLabels !== undefined && (!Array.isArray(columnLabels) || columnLabels.length !== columns)) {
    throw new Error(`${fn}: columnLabels must have one label per column (${columns}), got ${columnLabels?.length}`);
  }
  const textHeight = measureText('', { scale }).height;
  const labelWidth = Math.max(0, ...rows.map((row) => measureText(row.label, { scale }).width));
  const labelColumn = labelWidth > 0 ? labelWidth + padding : 0;
  const titleHeight = title ? textHeight + padding : 0;
  const columnLabelHeight = columnLabels ? textHeight + padding : 0;
  const gridWidth = padding + labelColumn + columns * (cellWidth + padding);
  const contentWidth = title ? Math.max(gridWidth, measureText(title, { scale }).width + 2 * padding) : gridWidth;
  const top = padding + titleHeight + columnLabelHeight;
  const height = top + rows.length * (cellHeight + padding);
  const canvas = createImage(contentWidth, height, 3, [...background]);
  fillRect(canvas, 0, 0, contentWidth, height, background);
  if (title) drawText(canvas, title, { x: padding, y: padding, color: textColor, scale });
  const cellX = (column: number) => padding + labelColumn + column * (cellWidth + padding);
  columnLabels?.forEach((label, column) => {
    const width = measureText(label, { scale }).width;
    drawText(canvas, label, {
      x: cellX(column) + Math.floor((cellWidth - width) / 2),
      y: padding + titleHeight,
      color: textColor,
      scale,
    });
  });
  rows.forEach((row, rowIndex) => {
    const y = top + rowIndex * (cellHeight + padding);
    drawText(canvas, row.label, {
      x: padding,
      y: y + Math.floor((cellHeight - textHeight) / 2),
      color: textColor,
      scale,
    });
    row.images.forEach((image, column) => {
      pasteImage(
        canvas,
        image,
        cellX(column) + Math.floor((cellWidth - image.width) / 2),
        y + Math.floor((cellHeight - image.height) / 2),
      );
    });
  });
  return canvas;
}
