/** A minimal line-plot renderer (axes, ticks, labels, legend) for training curves and study figures. */
import { assertKnownOptions } from '@kd/internal';
import { assertNumber } from './validate';
import { drawLine, fillRect } from './draw';
import { drawText, measureText } from './font';
import { createImage, type RasterImage, type Rgb } from './image';

export interface LineSeries {
  /** Shown in the legend. */
  name: string;
  /** [x, y] pairs in drawing order; a non-finite y breaks the line (a gap), as for a diverged run. */
  points: ReadonlyArray<readonly [number, number]>;
  /** Default: the next colour of the tab10 palette. */
  color?: Rgb;
}

export interface LinePlotOptions {
  series: LineSeries[];
  /** Default 640. */
  width?: number;
  /** Default 400. */
  height?: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Fixed y range [min, max]; default: the data's range plus 5 % each side. */
  yRange?: readonly [number, number];
}

/** matplotlib's tab10 palette. */
export const seriesPalette: readonly Rgb[] = [
  [0x1f, 0x77, 0xb4],
  [0xff, 0x7f, 0x0e],
  [0x2c, 0xa0, 0x2c],
  [0xd6, 0x27, 0x28],
  [0x94, 0x67, 0xbd],
  [0x8c, 0x56, 0x4b],
  [0xe3, 0x77, 0xc2],
  [0x7f, 0x7f, 0x7f],
  [0xbc, 0xbd, 0x22],
  [0x17, 0xbe, 0xcf],
];

/**
 * "Nice" tick positions covering [low, high]: step = 10^⌊log₁₀ r⌋ × (1, 2 or 5), r = (high − low) / target,
 * ticks = the multiples of step inside [low, high].
 *
 * @example
 * niceTicks(0, 1); // { step: 0.2, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] }
 */
export function niceTicks(low: number, high: number, target = 5): { step: number; ticks: number[] } {
  assertNumber('niceTicks', 'low', low);
  assertNumber('niceTicks', 'high', high);
  if (!(high > low)) throw new Error(`niceTicks: high (${high}) must be > low (${low})`);
  const raw = (high - low) / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  const step = (fraction <= 1.5 ? 1 : fraction <= 3 ? 2 : fraction <= 7 ? 5 : 10) * magnitude;
  const ticks: number[] = [];
  for (let k = Math.ceil(low / step - 1e-9); k * step <= high + step * 1e-9; k++) {
    ticks.push(Number((k * step).toPrecision(12))); // drop float noise such as 0.30000000000000004
  }
  return { step, ticks };
}

/** Tick label with as many decimals as the step needs; exponent form for very large or small magnitudes. */
export function formatTick(value: number, step: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-4) return value.toExponential(1);
  return value.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
}

/**
 * Renders line series to an RGBA image (white background): axes with nice ticks and labels, light grid lines,
 * an optional title and axis labels, a legend in the top-right corner. Every finite point must have finite x.
 *
 * @example
 * const png = encodePng(renderLinePlot({
 *   series: [{ name: 'train loss', points: losses.map((loss, epoch) => [epoch, loss]) }],
 *   title: 'resnet8 / CE', xLabel: 'epoch',
 * }));
 */
export function renderLinePlot(options: LinePlotOptions): RasterImage {
  const fn = 'renderLinePlot';
  assertKnownOptions(fn, options, ['series', 'width', 'height', 'title', 'xLabel', 'yLabel', 'yRange']);
  if (options === undefined || !Array.isArray(options.series) || options.series.length === 0) {
    throw new Error(`${fn}: series must be a non-empty array of { name, points }`);
  }
  const width = assertNumber(fn, 'width', options.width ?? 640, { integer: true, min: 64 });
  const height = assertNumber(fn, 'height', options.height ?? 400, { integer: true, min: 64 });
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  options.series.forEach((series, seriesIndex) => {
    if (typeof series?.name !== 'string') throw new Error(`${fn}: series[${seriesIndex}].name must be a string`);
    if (!Array.isArray(series.points))
      throw new Error(`${fn}: series[${seriesIndex}].points must be an array of [x, y]`);
    series.points.forEach((point, pointIndex) => {
      const [x, y] = point;
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        throw new Error(`${fn}: series[${seriesIndex}].points[${pointIndex}] has a non-finite x (${String(x)})`);
      }
      if (typeof y !== 'number')
        throw new Error(`${fn}: series[${seriesIndex}].points[${pointIndex}] has a non-numeric y`);
      if (!Number.isFinite(y)) return;
      xMin = Math.min(xMin, x);
      xMax = Math.max(xMax, x);
      yMin = Math.min(yMin, y);
      yMax = Math.max(yMax, y);
    });
  });
  if (!Number.isFinite(xMin)) throw new Error(`${fn}: no series has a point with finite x and y`);
  if (xMax === xMin) [xMin, xMax] = [xMin - 0.5, xMax + 0.5];
  if (options.yRange !== undefined) {
    yMin = assertNumber(fn, 'yRange[0]', options.yRange[0]);
    yMax = assertNumber(fn, 'yRange[1]', options.yRange[1]);
    if (!(yMax > yMin)) throw new Error(`${fn}: yRange must be [min, max] with max > min`);
  } else if (yMax === yMin) {
    const half = Math.abs(yMin) > 0 ? Math.abs(yMin) * 0.1 : 0.5;
    [yMin, yMax] = [yMin - half, yMax + half];
  } else {
    const margin = (yMax - yMin) * 0.05;
    [yMin, yMax] = [yMin - margin, yMax + margin];
  }

  const canvas = createImage(width, height, 4, [255, 255, 255, 255]);
  const black: Rgb = [0, 0, 0];
  const gridColor: Rgb = [225, 225, 225];
  const textHeight = measureText('').height;
  const xTicks = niceTicks(xMin, xMax, Math.max(2, Math.floor(width / 100)));
  const yTicks = niceTicks(yMin, yMax, Math.max(2, Math.floor(height / 60)));
  const yTickLabels = yTicks.ticks.map((tick) => formatTick(tick, yTicks.step));
  const left = 8 + Math.max(...yTickLabels.map((label) => measureText(label).width)) + 6;
  const top = 8 + (options.title ? textHeight + 8 : 0) + (options.yLabel ? textHeight + 4 : 0);
  const bottom = height - (8 + textHeight + 6 + (options.xLabel ? textHeight + 6 : 0));
  const right = width - 12;
  if (right - left < 16 || bottom - top < 16) throw new Error(`${fn}: ${width}×${height} leaves no room for the plot`);
  // Data → pixel: px = left + (x − xMin)/(xMax − xMin)·(right − left), py = bottom − (y − yMin)/(yMax − yMin)·(bottom − top).
  const toPixelX = (x: number) => left + ((x - xMin) / (xMax - xMin)) * (right - left);
  const toPixelY = (y: number) => bottom - ((y - yMin) / (yMax - yMin)) * (bottom - top);

  if (options.title) {
    drawText(canvas, options.title, {
      x: Math.max(4, Math.floor((width - measureText(options.title).width) / 2)),
      y: 8,
      color: black,
    });
  }
  if (options.yLabel) drawText(canvas, options.yLabel, { x: 8, y: top - textHeight - 6, color: black });
  if (options.xLabel) {
    drawText(canvas, options.xLabel, {
      x: Math.floor((left + right - measureText(options.xLabel).width) / 2),
      y: height - 8 - textHeight,
      color: black,
    });
  }
  yTicks.ticks.forEach((tick, index) => {
    const y = Math.round(toPixelY(tick));
    drawLine(canvas, left, y, right, y, gridColor);
    drawLine(canvas, left - 4, y, left, y, black);
    const label = yTickLabels[index] as string;
    drawText(canvas, label, {
      x: left - 6 - measureText(label).width,
      y: y - Math.floor(textHeight / 2),
      color: black,
    });
  });
  xTicks.ticks.forEach((tick) => {
    const x = Math.round(toPixelX(tick));
    drawLine(canvas, x, top, x, bottom, gridColor);
    drawLine(canvas, x, bottom, x, bottom + 4, black);
    const label = formatTick(tick, xTicks.step);
    drawText(canvas, label, { x: x - Math.floor(measureText(label).width / 2), y: bottom + 6, color: black });
  });
  drawLine(canvas, left, top, left, bottom, black);
  drawLine(canvas, left, bottom, right, bottom, black);

  options.series.forEach((series, seriesIndex) => {
    const color = series.color ?? (seriesPalette[seriesIndex % seriesPalette.length] as Rgb);
    let previous: readonly [number, number] | undefined;
    for (const [x, y] of series.points) {
      if (!Number.isFinite(y)) {
        previous = undefined; // a gap
        continue;
      }
      const clampedY = Math.min(Math.max(y, yMin), yMax); // a fixed yRange clips, it does not wrap
      const point = [toPixelX(x), toPixelY(clampedY)] as const;
      if (previous) drawLine(canvas, previous[0], previous[1], point[0], point[1], color, 2);
      else fillRect(canvas, Math.round(point[0]) - 1, Math.round(point[1]) - 1, 3, 3, color);
      previous = point;
    }
  });

  const legendWidth = Math.max(...options.series.map((series) => measureText(series.name).width)) + 28;
  const legendHeight = options.series.length * (textHeight + 4) + 6;
  const legendX = right - legendWidth - 4;
  const legendY = top + 4;
  fillRect(canvas, legendX, legendY, legendWidth, legendHeight, [255, 255, 255]);
  drawLine(canvas, legendX, legendY, legendX + legendWidth - 1, legendY, gridColor);
  drawLine(
    canvas,
    legendX,
    legendY + legendHeight - 1,
    legendX + legendWidth - 1,
    legendY + legendHeight - 1,
    gridColor,
  );
  drawLine(canvas, legendX, legendY, legendX, legendY + legendHeight - 1, gridColor);
  drawLine(
    canvas,
    legendX + legendWidth - 1,
    legendY,
    legendX + legendWidth - 1,
    legendY + legendHeight - 1,
    gridColor,
  );
  options.series.forEach((series, seriesIndex) => {
    const color = series.color ?? (seriesPalette[seriesIndex % seriesPalette.length] as Rgb);
    const y = legendY + 4 + seriesIndex * (textHeight + 4);
    fillRect(canvas, legendX + 4, y + Math.floor(textHeight / 2) - 1, 16, 3, color);
    drawText(canvas, series.name, { x: legendX + 24, y, color: black });
  });
  return canvas;
}
