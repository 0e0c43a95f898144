import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { measureText } from './font';
import { renderGrid } from './grid';
import { createImage } from './image';

const solid = (value: number) => createImage(4, 4, 3, [value, 0, 255 - value]);
const pixel = (image: { width: number; data: Uint8Array }, x: number, y: number) =>
  Array.from(image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3));

describeWithBackends('renderGrid', () => {
  it('places each image in its cell with labels (size from the layout formula)', () => {
    const grid = renderGrid({
      rows: [
        { label: 'A', images: [solid(10), solid(20), solid(30)] },
        { label: 'BB', images: [solid(40), solid(50), solid(60)] },
      ],
      columnLabels: ['x', 'y', 'z'],
      padding: 2,
    });
    // width = padding + (labelWidth + padding) + 3·(cell + padding) = 2 + (11 + 2) + 3·6 = 33
    // height = padding + (textHeight + padding) + 2·(cell + padding) = 2 + 9 + 12 = 23
    expect([grid.width, grid.height, grid.channels]).toEqual([33, 23, 3]);
    const cellX = (column: number) => 2 + 13 + column * 6;
    const cellY = (row: number) => 11 + row * 6;
    expect(pixel(grid, cellX(2) + 1, cellY(1) + 2)).toEqual([60, 0, 195]);
    expect(pixel(grid, cellX(0), cellY(0))).toEqual([10, 0, 245]);
    expect(pixel(grid, cellX(0) - 1, cellY(0))).toEqual([255, 255, 255]); // padding stays background
    // Row label 'BB' is drawn in black somewhere in its band.
    let ink = 0;
    for (let y = cellY(1); y < cellY(1) + 4; y++)
      for (let x = 2; x < 2 + measureText('BB').width; x++) if (pixel(grid, x, y)[0] === 0) ink++;
    expect(ink).toBeGreaterThan(0);
  });

  it('centres smaller images and accepts gray ones', () => {
    const big = createImage(6, 6, 3, [1, 2, 3]);
    const small = createImage(2, 2, 1, [77]);
    const grid = renderGrid({ rows: [{ label: '', images: [big, small] }], padding: 0 });
    expect([grid.width, grid.height]).toEqual([12, 6]);
    expect(pixel(grid, 6 + 2, 2)).toEqual([77, 77, 77]);
    expect(pixel(grid, 6, 0)).toEqual([255, 255, 255]);
  });

  it('rejects ragged rows and wrong label counts', () => {
    expect(() =>
      renderGrid({
        rows: [
          { label: 'a', images: [solid(1)] },
          { label: 'b', images: [] },
        ],
      }),
    ).toThrow('renderGrid: rows[1] has 0 images, rows[0] has 1');
    expect(() => renderGrid({ rows: [{ label: 'a', images: [solid(1)] }], columnLabels: ['x', 'y'] })).toThrow(
      'renderGrid: columnLabels must have one label per column (1), got 2',
    );
    expect(() => renderGrid({ rows: [] })).toThrow('renderGrid: rows must be a non-empty array');
  });
});
