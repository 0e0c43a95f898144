/**
 * Per-channel normalisation constants (mean and std of pixel/255 over the training split), as the reference
 * training code uses them: x̂_c = (x/255 − mean_c) / std_c.
 */
import type { Dataset } from './dataset';
import { assertDataset } from './dataset';
import { assertKnownOptions } from '@kd/internal';

export interface Normalization {
  /** Mean of pixel/255 per channel. */
  readonly mean: readonly number[];
  /** Standard deviation of pixel/255 per channel (> 0). */
  readonly std: readonly number[];
}

/** CIFAR-100 train split; the RepDistiller / MCMI recipe's constants. */
export const CIFAR100_NORMALIZATION: Normalization = { mean: [0.5071, 0.4867, 0.4408], std: [0.2675, 0.2565, 0.2761] };
/** CIFAR-10 train split (the std over all pixels, not the often-quoted 0.2023/0.1994/0.2010 of per-image stds). */
export const CIFAR10_NORMALIZATION: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
/** Fashion-MNIST train split; verified against the real files in normalization.test.ts. */
export const FASHION_MNIST_NORMALIZATION: Normalization = { mean: [0.286], std: [0.353] };
/** MNIST train split. */
export const MNIST_NORMALIZATION: Normalization = { mean: [0.1307], std: [0.3081] };

/** Throws unless `normalization` has one finite mean and one positive finite std per channel. */
export function assertNormalization(fn: string, arg: string, normalization: unknown, channels: number): Normalization {
  const n = normalization as Partial<Normalization> | null;
  if (n === null || typeof n !== 'object' || !Array.isArray(n.mean) || !Array.isArray(n.std)) {
    throw new Error(`${fn}: ${arg} must be { mean: number[], std: number[] }`);
  }
  if (n.mean.length !== channels || n.std.length !== channels) {
    throw new Error(
      `${fn}: ${arg} must have ${channels} means and stds (one per channel), got ${n.mean.length} and ${n.std.length}`,
    );
  }
  n.mean.forEach((value, c) => {
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new Error(`${fn}: ${arg}.mean[${c}] must be a finite number, got ${String(value)}`);
  });
  n.std.forEach((value, c) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
      throw new Error(`${fn}: ${arg}.std[${c}] must be a finite number > 0, got ${String(value)}`);
    }
  });
  return n as Normalization;
}

/**
 * The affine map x̂ = x·scale_c + bias_c equal to (x/255 − mean_c)/std_c: scale_c = 1/(255·std_c),
 * bias_c = −mean_c/std_c. Without a normalisation, x̂ = x/255.
 */
export function normalizationCoefficients(
  normalization: Normalization | undefined,
  channels: number,
): { scale: Float32Array; bias: Float32Array } {
  const scale = new Float32Array(channels);
  const bias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const mean = normalization ? (normalization.mean[c] as number) : 0;
    const std = normalization ? (normalization.std[c] as number) : 1;
    scale[c] = 1 / (255 * std);
    bias[c] = -mean / std;
  }
  return { scale, bias };
}

/**
 * Mean and (population) standard deviation of pixel/255 per channel over every pixel of `dataset`:
 * mean_c = Σ x/255 / (N·H·W), std_c = sqrt(Σ (x/255)² / (N·H·W) − mean_c²). Accumulated in float64.
 *
 * @example
 * const { mean, std } = computeNormalization({ dataset: train }); // Fashion-MNIST: [0.2860], [0.3530]
 */
export function computeNormalization({ dataset }: { dataset: Dataset }): Normalization {
  assertDataset('computeNormalization', 'dataset', dataset);
  const { images, channels } = dataset;
  const sums = new Float64Array(channels);
  const squares = new Float64Array(channels);
  // Integer histograms per channel are exact and far faster than float sums over 47M pixels.
  const histogram = new Float64Array(channels * 256);
  for (let i = 0; i < images.length; i++) {
    const slot = (i % channels) * 256 + (images[i] as number);
    histogram[slot] = (histogram[slot] as number) + 1;
  }
  for (let c = 0; c < channels; c++) {
    for (let value = 0; value < 256; value++) {
      const count = histogram[c * 256 + value] as number;
      sums[c] = (sums[c] as number) + count * (value / 255);
      squares[c] = (squares[c] as number) + count * (value / 255) ** 2;
    }
  }
  const pixels = images.length / channels;
  const mean = Array.from(sums, (sum) => sum / pixels);
  const std = Array.from(squares, (square, c) => Math.sqrt(square / pixels - (mean[c] as number) ** 2));
  return { mean, std };
}

/**
 * Normalises uint8 NHWC pixels into float32: x̂ = (x/255 − mean_c)/std_c, c = index mod channels.
 *
 * @example
 * const x = normalizeImages({ images: dataset.images, channels: 3, normalization: CIFAR100_NORMALIZATION });
 */
export function normalizeImages(options: {
  images: Uint8Array;
  channels: number;
  normalization?: Normalization;
}): Float32Array {
  assertKnownOptions('normalizeImages', options, ['images', 'channels', 'normalization']);
  const { images, channels, normalization } = options;
  if (!(images instanceof Uint8Array)) throw new Error('normalizeImages: images must be a Uint8Array');
  if (!Number.isInteger(channels) || channels < 1)
    throw new Error(`normalizeImages: channels must be a positive integer, got ${channels}`);
  if (images.length % channels !== 0)
    throw new Error(`normalizeImages: images has ${images.length} bytes, not a multiple of channels = ${channels}`);
  if (normalization !== undefined) assertNormalization('normalizeImages', 'normalization', normalization, channels);
  const { scale, bias } = normalizationCoefficients(normalization, channels);
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) {
    const c = i % channels;
    out[i] = (images[i] as number) * (scale[c] as number) + (bias[c] as number);
  }
  return out;
}
