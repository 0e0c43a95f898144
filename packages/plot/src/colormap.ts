/** Colour maps for heat maps: jet (the Grad-CAM convention) and viridis (perceptually uniform). */
import { assertKnownOptions } from '@kd/internal';
import { assertOneOf } from './validate';
import { assertHeatMap, type HeatMap, type RasterImage, type Rgb } from './image';

export const colorMapNames = ['jet', 'viridis'] as const;
export type ColorMapName = (typeof colorMapNames)[number];

/**
 * Viridis control points: the 10 equally spaced colours of R viridisLite `viridis(10)`, sampled from matplotlib's
 * 256-entry table (#440154 … #FDE725). Interpolating them linearly stays within a few levels of the full table.
 */
const viridisControlPoints: readonly Rgb[] = [
  [0x44, 0x01, 0x54],
  [0x48, 0x28, 0x78],
  [0x3e, 0x4a, 0x89],
  [0x31, 0x68, 0x8e],
  [0x26, 0x82, 0x8e],
  [0x1f, 0x9e, 0x89],
  [0x35, 0xb7, 0x79],
  [0x6d, 0xcd, 0x59],
  [0xb4, 0xde, 0x2c],
  [0xfd, 0xe7, 0x25],
];

function clampUnit(value: number): number {
  return Math.min(Math.max(value, 0), 1);
}

/** MATLAB jet: r = clamp(1.5 − |4t − 3|), g = clamp(1.5 − |4t − 2|), b = clamp(1.5 − |4t − 1|). */
function jet(t: number): Rgb {
  return [
    Math.round(255 * clampUnit(1.5 - Math.abs(4 * t - 3))),
    Math.round(255 * clampUnit(1.5 - Math.abs(4 * t - 2))),
    Math.round(255 * clampUnit(1.5 - Math.abs(4 * t - 1))),
  ];
}

/** Piecewise-linear interpolation between the viridis control points. */
function viridis(t: number): Rgb {
  const position = t * (viridisControlPoints.length - 1);
  const lower = Math.min(Math.floor(position), viridisControlPoints.length - 2);
  const fraction = position - lower;
  const a = viridisControlPoints[lower] as Rgb;
  const b = viridisControlPoints[lower + 1] as Rgb;
  return [0, 1, 2].map((channel) =>
    Math.round((1 - fraction) * a[channel]! + fraction * b[channel]!),
  ) as unknown as Rgb;
}

/**
 * The colour of value t ∈ [0, 1] (clamped) under a colour map.
 *
 * @example
 * colorAt(0, 'jet'); // [0, 0, 128], dark blue; colorAt(1, 'viridis') → [253, 231, 37]
 */
export function colorAt(t: number, colorMap: ColorMapName = 'jet'): Rgb {
  assertOneOf('colorAt', 'colorMap', colorMap, colorMapNames);
  if (Number.isNaN(t)) throw new Error('colorAt: t must be a number, got NaN');
  const value = clampUnit(t);
  return colorMap === 'jet' ? jet(value) : viridis(value);
}

/**
 * A 256-entry lookup table: entry i is the colour of t = i / 255.
 *
 * @example
 * const table = colorMapTable('viridis'); // Uint8Array(768), RGB triples
 */
export function colorMapTable(colorMap: ColorMapName = 'jet'): Uint8Array {
  assertOneOf('colorMapTable', 'colorMap', colorMap, colorMapNames);
  const table = new Uint8Array(256 * 3);
  for (let index = 0; index < 256; index++) table.set(colorAt(index / 255, colorMap), index * 3);
  return table;
}

export interface ColorizeOptions {
  /** Default `'jet'`. */
  colorMap?: ColorMapName;
}

/**
 * Colours a heat map (values clamped to [0, 1]) into an RGB image: pixel = table[round(255 · v)].
 *
 * @example
 * const rgb = colorizeHeatMap(map, { colorMap: 'viridis' });
 */
export function colorizeHeatMap(map: HeatMap, options: ColorizeOptions = {}): RasterImage {
  const fn = 'colorizeHeatMap';
  assertHeatMap(fn, 'map', map);
  assertKnownOptions(fn, options, ['colorMap']);
  const colorMap = assertOneOf(fn, 'colorMap', options.colorMap ?? 'jet', colorMapNames);
  const table = colorMapTable(colorMap);
  const data = new Uint8Array(map.width * map.height * 3);
  for (let index = 0; index < map.data.length; index++) {
    const level = Math.round(255 * clampUnit(map.data[index] as number));
    data[index * 3] = table[level * 3] as number;
    data[index * 3 + 1] = table[level * 3 + 1] as number;
    data[index * 3 + 2] = table[level * 3 + 2] as number;
  }
  return { width: map.width, height: map.height, channels: 3, data };
}
