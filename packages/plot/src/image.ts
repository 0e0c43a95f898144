/** Host-side image and heat-map types shared by the renderers, and conversions from tensors. */
import { assertKnownOptions } from '@kd/internal';
import type * as tf from '@tensorflow/tfjs-core';
import { assertNumber, assertRank } from './validate';

/** An 8-bit image, row-major, channels interleaved: 1 = gray, 3 = RGB, 4 = RGBA. */
export interface RasterImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  /** `width · height · channels` bytes. */
  data: Uint8Array;
}

/** A single-channel float map (e.g. a CAM in [0, 1]), row-major. */
export interface HeatMap {
  width: number;
  height: number;
  /** `width · height` values. */
  data: Float32Array;
}

/** An RGB colour, 0–255 per component. */
export type Rgb = readonly [number, number, number];

/** A new image filled with `fill` (gray level, RGB or RGBA; default black, opaque). */
export function createImage(
  width: number,
  height: number,
  channels: 1 | 3 | 4,
  fill: readonly number[] = [],
): RasterImage {
  assertNumber('createImage', 'width', width, { integer: true, positive: true });
  assertNumber('createImage', 'height', height, { integer: true, positive: true });
  if (![1, 3, 4].includes(channels)) throw new Error(`createImage: channels must be 1, 3 or 4, got ${channels}`);
  const data = new Uint8Array(width * height * channels);
  const pixel = Array.from({ length: channels }, (_, channel) => fill[channel] ?? (channel === 3 ? 255 : 0));
  for (let offset = 0; offset < data.length; offset += channels) {
    for (let channel = 0; channel < channels; channel++) data[offset + channel] = pixel[channel] as number;
  }
  return { width, height, channels, data };
}

/** Throws unless `image` is a well-formed {@link RasterImage}. */
export function assertImage(fn: string, arg: string, image: unknown): RasterImage {
  const candidate = image as RasterImage;
  if (candidate === null || typeof candidate !== 'object' || !(candidate.data instanceof Uint8Array)) {
    throw new Error(`${fn}: ${arg} must be a RasterImage { width, height, channels, data: Uint8Array }`);
  }
  assertNumber(fn, `${arg}.width`, candidate.width, { integer: true, positive: true });
  assertNumber(fn, `${arg}.height`, candidate.height, { integer: true, positive: true });
  if (![1, 3, 4].includes(candidate.channels)) {
    throw new Error(`${fn}: ${arg}.channels must be 1, 3 or 4, got ${String(candidate.channels)}`);
  }
  const expected = candidate.width * candidate.height * candidate.channels;
  if (candidate.data.length !== expected) {
    throw new Error(`${fn}: ${arg}.data has ${candidate.data.length} bytes, width·height·channels = ${expected}`);
  }
  return candidate;
}

/** Throws unless `map` is a well-formed {@link HeatMap} with finite values. */
export function assertHeatMap(fn: string, arg: string, map: unknown): HeatMap {
  const candidate = map as HeatMap;
  if (candidate === null || typeof candidate !== 'object' || !(candidate.data instanceof Float32Array)) {
    throw new Error(`${fn}: ${arg} must be a HeatMap { width, height, data: Float32Array }`);
  }
  assertNumber(fn, `${arg}.width`, candidate.width, { integer: true, positive: true });
  assertNumber(fn, `${arg}.height`, candidate.height, { integer: true, positive: true });
  if (candidate.data.length !== candidate.width * candidate.height) {
    throw new Error(
      `${fn}: ${arg}.data has ${candidate.data.length} values, width·height = ${candidate.width * candidate.height}`,
    );
  }
  for (let index = 0; index < candidate.data.length; index++) {
    if (!Number.isFinite(candidate.data[index]))
      throw new Error(`${fn}: ${arg}.data[${index}] is ${candidate.data[index]}`);
  }
  return candidate;
}

/**
 * Copies `[H, W]` or `[N, H, W]` maps (e.g. from `@kd/cam`'s `eigenCam`) to the host as {@link HeatMap}s.
 * The tensor is not disposed.
 *
 * @example
 * const [first] = heatMapsFromTensor(eigenCam(features)); // then resize, colour, overlay
 */
export function heatMapsFromTensor(maps: tf.Tensor): HeatMap[] {
  const tensor = assertRank('heatMapsFromTensor', 'maps', maps, [2, 3], '[H, W] or [N, H, W]');
  const [count, height, width] = (tensor.rank === 2 ? [1, ...tensor.shape] : tensor.shape) as [number, number, number];
  const values = tensor.dataSync();
  return Array.from({ length: count }, (_, index) => ({
    width,
    height,
    data: Float32Array.from(values.subarray(index * width * height, (index + 1) * width * height)),
  }));
}

export interface ImageFromTensorOptions {
  /** Value mapped to 0. Default: the image's minimum. */
  low?: number;
  /** Value mapped to 255. Default: the image's maximum. */
  high?: number;
}

/**
 * Converts one `[H, W, C]` image tensor (C = 1, 3 or 4) to an 8-bit {@link RasterImage}:
 * byte = round(255 · clamp((x − low) / (high − low), 0, 1)). Normalised inputs (mean/std) come back visible
 * with the default min–max range. The tensor is not disposed.
 *
 * @example
 * const picture = imageFromTensor(tf.squeeze(tf.slice(images, [0, 0, 0, 0], [1, -1, -1, -1]), [0]), { low: 0, high: 1 });
 */
export function imageFromTensor(image: tf.Tensor, options: ImageFromTensorOptions = {}): RasterImage {
  const fn = 'imageFromTensor';
  assertKnownOptions(fn, options, ['low', 'high']);
  const tensor = assertRank(fn, 'image', image, 3, '[H, W, C]');
  const [height, width, channels] = tensor.shape as [number, number, number];
  if (![1, 3, 4].includes(channels)) throw new Error(`${fn}: image must have 1, 3 or 4 channels, got ${channels}`);
  const values = tensor.dataSync();
  let low = Infinity;
  let high = -Infinity;
  for (let index = 0; index < values.length; index++) {
    const value = values[index] as number;
    if (!Number.isFinite(value)) throw new Error(`${fn}: image contains NaN or Infinity`);
    low = Math.min(low, value);
    high = Math.max(high, value);
  }
  if (options.low !== undefined) low = assertNumber(fn, 'low', options.low);
  if (options.high !== undefined) high = assertNumber(fn, 'high', options.high);
  if (!(high >= low)) throw new Error(`${fn}: high (${high}) must be >= low (${low})`);
  const range = high - low;
  const data = new Uint8Array(values.length);
  for (let index = 0; index < values.length; index++) {
    const unit = range > 0 ? ((values[index] as number) - low) / range : 0;
    data[index] = Math.round(255 * Math.min(Math.max(unit, 0), 1));
  }
  return { width, height, channels: channels as 1 | 3 | 4, data };
}
