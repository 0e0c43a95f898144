/**
 * Seeded augmentation on uint8 NHWC images, fused with the float conversion and normalisation:
 * random crop from a zero-padded image (torchvision `RandomCrop(size, padding)`), then a horizontal flip
 * with probability ½ (`RandomHorizontalFlip`), then x̂ = (x/255 − mean_c)/std_c. Padding is zero *pixels*, as
 * torchvision pads the PIL image before `ToTensor`/`Normalize`, so padded pixels become −mean_c/std_c.
 */
import { assertKnownOptions, assertSeed } from '@kd/internal';
import type { Dataset } from './dataset';
import { assertDataset } from './dataset';
import type { Normalization } from './normalization';
import { assertNormalization, normalizationCoefficients } from './normalization';
import { Random } from './random';
import { assertNumber } from './validate';

export interface AugmentOptions {
  /** Pad every side with `padding` zero pixels, then crop back to the original size at a uniform offset. */
  randomCrop?: { padding: number };
  /** Mirror left–right with probability ½. */
  horizontalFlip?: boolean;
}

/** The RepDistiller CIFAR recipe: crop with padding 4, horizontal flip. */
export const CIFAR_AUGMENTATION: AugmentOptions = { randomCrop: { padding: 4 }, horizontalFlip: true };

/**
 * Per-sample random choices of a batch. `top`/`left` are the crop's corner in the padded image
 * (0 ≤ top, left ≤ 2·padding; `padding` means no shift), `flip` is 1 to mirror.
 */
export interface AugmentationPlan {
  padding: number;
  top: Int32Array;
  left: Int32Array;
  flip: Uint8Array;
}

/** Throws unless `augment` is a valid {@link AugmentOptions}. */
export function assertAugmentOptions(fn: string, arg: string, augment: unknown): AugmentOptions {
  assertKnownOptions(fn, augment, ['randomCrop', 'horizontalFlip'], arg);
  const a = (augment ?? {}) as AugmentOptions;
  if (a.randomCrop !== undefined) {
    if (a.randomCrop === null || typeof a.randomCrop !== 'object')
      throw new Error(`${fn}: ${arg}.randomCrop must be { padding: number }`);
    assertKnownOptions(fn, a.randomCrop, ['padding'], `${arg}.randomCrop`);
    assertNumber(fn, `${arg}.randomCrop.padding`, a.randomCrop.padding, { integer: true, nonNegative: true });
  }
  if (a.horizontalFlip !== undefined && typeof a.horizontalFlip !== 'boolean') {
    throw new Error(`${fn}: ${arg}.horizontalFlip must be a boolean, got ${String(a.horizontalFlip)}`);
  }
  return a;
}

/**
 * Draws the random choices for `count` samples from `random`, in this order per sample: crop top, crop left
 * (each uniform in [0, 2·padding]), then flip (uniform < ½).
 */
export function planAugmentation({
  count,
  augment,
  random,
}: {
  count: number;
  augment: AugmentOptions;
  random: Random;
}): AugmentationPlan {
  const padding = augment.randomCrop?.padding ?? 0;
  const top = new Int32Array(count).fill(padding);
  const left = new Int32Array(count).fill(padding);
  const flip = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    if (augment.randomCrop) {
      top[i] = random.nextInt(2 * padding + 1);
      left[i] = random.nextInt(2 * padding + 1);
    }
    if (augment.horizontalFlip) flip[i] = random.nextFloat() < 0.5 ? 1 : 0;
  }
  return { padding, top, left, flip };
}

/** The work of one batch: dataset rows plus the random choices and the normalisation, all explicit. */
export interface AugmentJob {
  /** Dataset rows of the batch, in batch order. */
  rows: Int32Array;
  /** Crop padding; `top`/`left` equal to it mean no shift. */
  padding: number;
  /** Crop corner of each sample in the padded image, in [0, 2·padding]. */
  top: Int32Array;
  left: Int32Array;
  /** 1 to mirror the sample left–right. */
  flip: Uint8Array;
  /** Per-channel factor applied to the raw byte (1/(255·std_c), or 1/255 without normalisation). */
  scale: Float32Array;
  /** Per-channel offset added after scaling (−mean_c/std_c, or 0). */
  bias: Float32Array;
}

/** The pixels a job reads: a {@link Dataset}'s `images`, `height`, `width` and `channels`. */
export type AugmentSource = Pick<Dataset, 'images' | 'height' | 'width' | 'channels'>;

export interface AugmentBatchIntoOptions {
  /** uint8 NHWC pixels of the whole set (a `Dataset` works as it is). */
  source: AugmentSource;
  /** Rows, crops, flips and normalisation of the batch. */
  job: AugmentJob;
  /** Receives `[job.rows.length, height, width, channels]` float32 values. */
  out: Float32Array;
}

/**
 * The hot loop, shared by the main thread and the worker pool (it is sent to workers as source text, so it
 * must stay self-contained: no imports, no closures, no helpers). Unchecked; {@link augmentBatchInto} checks.
 */
export function augmentBatchKernel({ source, job, out }: AugmentBatchIntoOptions): void {
  const { images, height, width, channels } = source;
  const { rows, padding, top, left, flip, scale, bias } = job;
  const rowStride = width * channels;
  const imageSize = height * rowStride;
  for (let i = 0; i < rows.length; i++) {
    const base = rows[i]! * imageSize;
    const shiftY = top[i]! - padding;
    const shiftX = left[i]! - padding;
    const mirrored = flip[i] === 1;
    // Output columns whose source column lies inside the image.
    const xStart = mirrored ? Math.max(0, shiftX) : Math.max(0, -shiftX);
    const xEnd = mirrored ? Math.min(width, width + shiftX) : Math.min(width, width - shiftX);
    let o = i * imageSize;
    for (let y = 0; y < height; y++) {
      const sourceY = y + shiftY;
      if (sourceY < 0 || sourceY >= height || xStart >= xEnd) {
        for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) out[o++] = bias[c]!;
        continue;
      }
      const rowBase = base + sourceY * rowStride;
      for (let x = 0; x < xStart; x++) for (let c = 0; c < channels; c++) out[o++] = bias[c]!;
      if (mirrored) {
        for (let x = xStart; x < xEnd; x++) {
          let s = rowBase + (width - 1 - x + shiftX) * channels;
          for (let c = 0; c < channels; c++) out[o++] = images[s++]! * scale[c]! + bias[c]!;
        }
      } else {
        let s = rowBase + (xStart + shiftX) * channels;
        for (let x = xStart; x < xEnd; x++) {
          for (let c = 0; c < channels; c++) out[o++] = images[s++]! * scale[c]! + bias[c]!;
        }
      }
      for (let x = xEnd; x < width; x++) for (let c = 0; c < channels; c++) out[o++] = bias[c]!;
    }
  }
}

/**
 * Crops, flips and normalises the rows of one batch into `out` (what the loader's producers run per batch).
 * For sample i (source row `rows[i]`) with shifts sy = top[i] − padding, sx = left[i] − padding:
 *   out[i, y, x, c] = images[rows[i], y + sy, x' + sx, c]·scale_c + bias_c,  x' = flip[i] ? W − 1 − x : x,
 * and bias_c alone (a zero pixel) where the source position falls outside the image.
 *
 * @example
 * const plan = planAugmentation({ count: 2, augment: CIFAR_AUGMENTATION, random: new Random({ seed: 1 }) });
 * const { scale, bias } = { scale: new Float32Array(3).fill(1 / 255), bias: new Float32Array(3) };
 * const out = new Float32Array(2 * 32 * 32 * 3);
 * augmentBatchInto({ source: train, job: { rows: Int32Array.of(0, 1), ...plan, scale, bias }, out });
 */
export function augmentBatchInto(options: AugmentBatchIntoOptions): void {
  const fn = 'augmentBatchInto';
  assertKnownOptions(fn, options, ['source', 'job', 'out']);
  const { source, job, out } = options;
  if (source === null || typeof source !== 'object') {
    throw new Error(`${fn}: options.source must be a Dataset-like object, got ${String(source)}`);
  }
  if (!(source.images instanceof Uint8Array)) {
    throw new Error(`${fn}: options.source.images must be a Uint8Array (NHWC uint8)`);
  }
  for (const key of ['height', 'width', 'channels'] as const) {
    assertNumber(fn, `options.source.${key}`, source[key], { integer: true, positive: true });
  }
  if (job === null || typeof job !== 'object') {
    throw new Error(`${fn}: options.job must be an AugmentJob, got ${String(job)}`);
  }
  assertKnownOptions(fn, job, ['rows', 'padding', 'top', 'left', 'flip', 'scale', 'bias'], 'options.job');
  const { rows, padding, top, left, flip, scale, bias } = job;
  if (!(rows instanceof Int32Array)) throw new Error(`${fn}: options.job.rows must be an Int32Array`);
  assertNumber(fn, 'options.job.padding', padding, { integer: true, nonNegative: true });
  const count = rows.length;
  const imageSize = source.height * source.width * source.channels;
  const available = Math.floor(source.images.length / imageSize);
  rows.forEach((row, i) => {
    if (!(row >= 0 && row < available)) {
      throw new Error(`${fn}: options.job.rows[${i}] = ${row} is out of range [0, ${available})`);
    }
  });
  const choices = [
    ['top', top, Int32Array],
    ['left', left, Int32Array],
    ['flip', flip, Uint8Array],
  ] as const;
  for (const [key, array, type] of choices) {
    if (!(array instanceof type) || array.length !== count) {
      throw new Error(`${fn}: options.job.${key} must be an ${type.name} of ${count} entries (one per row)`);
    }
  }
  for (let i = 0; i < count; i++) {
    for (const [key, array] of [
      ['top', top],
      ['left', left],
    ] as const) {
      const value = array[i] as number;
      if (!(value >= 0 && value <= 2 * padding)) {
        throw new Error(`${fn}: options.job.${key}[${i}] = ${value} is out of range [0, ${2 * padding}]`);
      }
    }
  }
  for (const [key, array] of [
    ['scale', scale],
    ['bias', bias],
  ] as const) {
    if (!(array instanceof Float32Array) || array.length !== source.channels) {
      const channels = source.channels;
      throw new Error(`${fn}: options.job.${key} must be a Float32Array of ${channels} entries (one per channel)`);
    }
  }
  if (!(out instanceof Float32Array) || out.length < count * imageSize) {
    const got = out instanceof Float32Array ? `${out.length} entries` : String(out);
    const needed = `${count}·${imageSize} = ${count * imageSize}`;
    throw new Error(`${fn}: options.out must be a Float32Array of at least ${needed} entries, got ${got}`);
  }
  augmentBatchKernel({ source, job, out });
}

export interface AugmentImagesOptions {
  dataset: Dataset;
  /** Dataset rows to take, in batch order. Default: every row. */
  positions?: Int32Array;
  augment?: AugmentOptions;
  normalize?: Normalization;
  /** Seed of the random choices. Required when `augment` draws anything. */
  seed?: number;
  /** Explicit choices instead of drawing them (e.g. to test a crop at a known offset). */
  plan?: AugmentationPlan;
}

/**
 * Augments and normalises samples of `dataset` into a float32 NHWC array `[positions.length, H, W, C]`.
 * Deterministic: the same seed gives the same crops and flips.
 *
 * @example
 * const x = augmentImages({ dataset: train, positions: Int32Array.of(0, 1), augment: CIFAR_AUGMENTATION,
 *   normalize: CIFAR100_NORMALIZATION, seed: 7 });
 */
export function augmentImages(options: AugmentImagesOptions): Float32Array {
  const fn = 'augmentImages';
  assertKnownOptions(fn, options, ['dataset', 'positions', 'augment', 'normalize', 'seed', 'plan']);
  const dataset = assertDataset(fn, 'options.dataset', options.dataset);
  const augment = assertAugmentOptions(fn, 'options.augment', options.augment);
  if (options.normalize !== undefined)
    assertNormalization(fn, 'options.normalize', options.normalize, dataset.channels);
  const count = dataset.labels.length;
  const positions = options.positions ?? Int32Array.from({ length: count }, (_, i) => i);
  if (!(positions instanceof Int32Array)) throw new Error(`${fn}: options.positions must be an Int32Array`);
  positions.forEach((row, i) => {
    if (row < 0 || row >= count)
      throw new Error(`${fn}: options.positions[${i}] = ${row} is out of range [0, ${count})`);
  });
  let plan = options.plan;
  if (plan === undefined) {
    const draws = augment.randomCrop !== undefined || augment.horizontalFlip === true;
    if (draws && options.seed === undefined)
      throw new Error(`${fn}: options.seed is required when options.augment draws random crops or flips`);
    plan = planAugmentation({
      count: positions.length,
      augment,
      random: new Random({ seed: assertSeed(fn, 'options.seed', options.seed ?? 0) }),
    });
  } else {
    assertPlan(fn, plan, positions.length);
  }
  const { scale, bias } = normalizationCoefficients(options.normalize, dataset.channels);
  const out = new Float32Array(positions.length * dataset.height * dataset.width * dataset.channels);
  const { padding, top, left, flip } = plan;
  augmentBatchKernel({ source: dataset, job: { rows: positions, padding, top, left, flip, scale, bias }, out });
  return out;
}

function assertPlan(fn: string, plan: AugmentationPlan, count: number): void {
  assertNumber(fn, 'options.plan.padding', plan.padding, { integer: true, nonNegative: true });
  for (const key of ['top', 'left', 'flip'] as const) {
    if (plan[key].length !== count)
      throw new Error(`${fn}: options.plan.${key} has ${plan[key].length} entries, expected ${count}`);
  }
  for (let i = 0; i < count; i++) {
    for (const key of ['top', 'left'] as const) {
      const value = plan[key][i] as number;
      if (!(value >= 0 && value <= 2 * plan.padding)) {
        throw new Error(`${fn}: options.plan.${key}[${i}] = ${value} is out of range [0, ${2 * plan.padding}]`);
      }
    }
  }
}

/**
 * Crops one uint8 HWC image from its zero-padded version: the H×W window whose top-left corner is
 * (top, left) in the image padded by `padding` on every side.
 */
export function cropWithPadding(options: {
  image: Uint8Array;
  height: number;
  width: number;
  channels: number;
  padding: number;
  top: number;
  left: number;
}): Uint8Array {
  assertKnownOptions('cropWithPadding', options, ['image', 'height', 'width', 'channels', 'padding', 'top', 'left']);
  const { image, height, width, channels, padding, top, left } = options;
  const fn = 'cropWithPadding';
  checkImage(fn, image, height, width, channels);
  assertNumber(fn, 'padding', padding, { integer: true, nonNegative: true });
  assertNumber(fn, 'top', top, { integer: true, min: 0, max: 2 * padding });
  assertNumber(fn, 'left', left, { integer: true, min: 0, max: 2 * padding });
  const out = new Uint8Array(image.length);
  for (let y = 0; y < height; y++) {
    const sourceY = y + top - padding;
    if (sourceY < 0 || sourceY >= height) continue;
    for (let x = 0; x < width; x++) {
      const sourceX = x + left - padding;
      if (sourceX < 0 || sourceX >= width) continue;
      for (let c = 0; c < channels; c++)
        out[(y * width + x) * channels + c] = image[(sourceY * width + sourceX) * channels + c]!;
    }
  }
  return out;
}

/** Mirrors one uint8 HWC image left–right: out[y, x] = image[y, W − 1 − x]. */
export function flipHorizontal(options: {
  image: Uint8Array;
  height: number;
  width: number;
  channels: number;
}): Uint8Array {
  assertKnownOptions('flipHorizontal', options, ['image', 'height', 'width', 'channels']);
  const { image, height, width, channels } = options;
  checkImage('flipHorizontal', image, height, width, channels);
  const out = new Uint8Array(image.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++)
        out[(y * width + x) * channels + c] = image[(y * width + (width - 1 - x)) * channels + c]!;
    }
  }
  return out;
}

export function checkImage(fn: string, image: unknown, height: number, width: number, channels: number): void {
  if (!(image instanceof Uint8Array)) throw new Error(`${fn}: image must be a Uint8Array (HWC uint8)`);
  assertNumber(fn, 'height', height, { integer: true, positive: true });
  assertNumber(fn, 'width', width, { integer: true, positive: true });
  assertNumber(fn, 'channels', channels, { integer: true, positive: true });
  if (image.length !== height * width * channels) {
    throw new Error(
      `${fn}: image has ${image.length} bytes, expected H·W·C = ${height}·${width}·${channels} = ${height * width * channels}`,
    );
  }
}
