import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { colorAt, colorizeHeatMap, colorMapTable } from './colormap';

describeWithBackends('colour maps', () => {
  it('jet endpoints and midpoint: dark blue, green-ish, dark red', () => {
    expect(colorAt(0, 'jet')).toEqual([0, 0, 128]); // b = 1.5 − |0 − 1| = 0.5
    expect(colorAt(0.5, 'jet')).toEqual([128, 255, 128]);
    expect(colorAt(1, 'jet')).toEqual([128, 0, 0]);
    expect(colorAt(0.25, 'jet')).toEqual([0, 128, 255]);
  });

  it("viridis endpoints are matplotlib's first and last entries", () => {
    expect(colorAt(0, 'viridis')).toEqual([68, 1, 84]);
    expect(colorAt(1, 'viridis')).toEqual([253, 231, 37]);
    // matplotlib's entry 128 is (33, 145, 140); the piecewise-linear table is within 2 levels.
    const middle = colorAt(0.5, 'viridis');
    [33, 145, 140].forEach((value, channel) => expect(Math.abs(middle[channel]! - value)).toBeLessThanOrEqual(2));
  });

  it('viridis CIE lightness L* increases along the 256-entry table (up to 8-bit rounding)', () => {
    const linear = (value: number) =>
      value / 255 <= 0.04045 ? value / 255 / 12.92 : ((value / 255 + 0.055) / 1.055) ** 2.4;
    const lightness = (r: number, g: number, b: number) => {
      const y = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
      return y > 0.008856 ? 116 * Math.cbrt(y) - 16 : 903.3 * y;
    };
    const table = colorMapTable('viridis');
    expect(table.length).toBe(768);
    const values = Array.from({ length: 256 }, (_, index) =>
      lightness(table[index * 3]!, table[index * 3 + 1]!, table[index * 3 + 2]!),
    );
    for (let index = 1; index < 256; index++) expect(values[index]!).toBeGreaterThan(values[index - 1]! - 0.1);
    expect(values[255]! - values[0]!).toBeGreaterThan(75); // matplotlib: L* ≈ 15 → 91
  });

  it('clamps values outside [0, 1] and colours a heat map pixel by pixel', () => {
    const image = colorizeHeatMap({ width: 2, height: 2, data: new Float32Array([0, 1, -3, 7]) }, { colorMap: 'jet' });
    expect(image.channels).toBe(3);
    expect(Array.from(image.data)).toEqual([0, 0, 128, 128, 0, 0, 0, 0, 128, 128, 0, 0]);
  });

  it('rejects unknown colour maps and NaN', () => {
    expect(() => colorAt(0.5, 'hot' as 'jet')).toThrow(
      "colorAt: colorMap must be one of 'jet', 'viridis', got 'hot' (a string)",
    );
    expect(() => colorAt(NaN)).toThrow('colorAt: t must be a number, got NaN');
    expect(() => colorizeHeatMap({ width: 1, height: 1, data: new Float32Array([NaN]) })).toThrow(
      'colorizeHeatMap: map.data[0] is NaN',
    );
  });
});
