/**
 * Bilinear resizing of uint8 HWC images with antialiasing, the way PIL's `Image.resize(..., BILINEAR)` (and so
 * torchvision's `Resize` on PIL images, used by the STL-10 / Tiny ImageNet transfer code) does it: a triangle
 * filter whose support widens by the scale factor when shrinking. For output pixel o along an axis with
 * s = in/out and f = max(s, 1):
 *   centre = (o + ½)·s,  w_i = max(0, 1 − |i + ½ − centre| / f),  out_o = Σ_i w_i·in_i / Σ_i w_i,
 * over the source pixels i inside the image. When enlarging (f = 1) this is plain half-pixel bilinear with edge
 * clamping. Rows are filtered first, then columns, in float64; the result is rounded and clamped to [0, 255].
 */
import { assertKnownOptions } from '@kd/internal';
import type { Dataset } from './dataset';
import { assertDataset } from './dataset';
import { checkImage } from './augment';
import { assertNumber } from './validate';

interface AxisWeights {
  first: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  taps: number;
}

function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const start = Math.max(0, Math.floor(centre - support));
    const end = Math.min(inSize, Math.ceil(centre + support));
    let total = 0;
    let n = 0;
    for (let i = start; i < end; i++) {
      const w = Math.max(0, 1 - Math.abs(i + 0.5 - centre) / filterScale);
      weights[o * taps + n] = w;
      total += w;
      n++;
    }
    for (let k = 0; k < n; k++) weights[o * taps + k] = (weights[o * taps + k] as number) / total;
    first[o] = start;
    count[o] = n;
  }
  return { first, count, weights, taps };
}

/**
 * Resizes one uint8 HWC image to `targetHeight × targetWidth` (antialiased bilinear, see the module note).
 *
 * @example
 * const small = resizeImage({ image, height: 96, width: 96, channels: 3, targetHeight: 32, targetWidth: 32 });
 */
export function resizeImage(options: {
  image: Uint8Array;
  height: number;
  width: number;
  channels: number;
  targetHeight: number;
  targetWidth: number;
}): Uint8Array {
  assertKnownOptions('resizeImage', options, ['image', 'height', 'width', 'channels', 'targetHeight', 'targetWidth']);
  const { image, height, width, channels, targetHeight, targetWidth } = options;
  checkImage('resizeImage', image, height, width, channels);
  assertNumber('resizeImage', 'targetHeight', targetHeight, { integer: true, positive: true });
  assertNumber('resizeImage', 'targetWidth', targetWidth, { integer: true, positive: true });
  const out = new Uint8Array(targetHeight * targetWidth * channels);
  resizeInto(
    image,
    0,
    height,
    width,
    channels,
    axisWeights(height, targetHeight),
    axisWeights(width, targetWidth),
    out,
    0,
    new Float64Array(height * targetWidth * channels),
  );
  return out;
}

function resizeInto(
  source: Uint8Array,
  sourceOffset: number,
  height: number,
  width: number,
  channels: number,
  rows: AxisWeights,
  columns: AxisWeights,
  out: Uint8Array,
  outOffset: number,
  scratch: Float64Array,
): void {
  const targetHeight = rows.first.length;
  const targetWidth = columns.first.length;
  // Horizontal pass: scratch[y, ox, c] = Σ_k w_k · source[y, first + k, c].
  for (let y = 0; y < height; y++) {
    for (let ox = 0; ox < targetWidth; ox++) {
      const start = columns.first[ox]!;
      const n = columns.count[ox]!;
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let k = 0; k < n; k++)
          sum +=
            columns.weights[ox * columns.taps + k]! * source[sourceOffset + (y * width + start + k) * channels + c]!;
        scratch[(y * targetWidth + ox) * channels + c] = sum;
      }
    }
  }
  // Vertical pass, rounding to the nearest uint8.
  for (let oy = 0; oy < targetHeight; oy++) {
    const start = rows.first[oy]!;
    const n = rows.count[oy]!;
    for (let ox = 0; ox < targetWidth; ox++) {
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let k = 0; k < n; k++)
          sum += rows.weights[oy * rows.taps + k]! * scratch[((start + k) * targetWidth + ox) * channels + c]!;
        out[outOffset + (oy * targetWidth + ox) * channels + c] = Math.min(255, Math.max(0, Math.round(sum)));
      }
    }
  }
}

/**
 * Resizes every image of `dataset` (STL-10 96×96 and Tiny ImageNet 64×64 → 32×32 for the transfer protocol).
 * Labels, indices and class names are kept.
 *
 * @example
 * const stl32 = resize({ dataset: stl10Train, height: 32, width: 32 });
 */
export function resize(options: { dataset: Dataset; height: number; width: number }): Dataset {
  assertKnownOptions('resize', options, ['dataset', 'height', 'width']);
  const dataset = assertDataset('resize', 'options.dataset', options.dataset);
  const height = assertNumber('resize', 'options.height', options.height, { integer: true, positive: true });
  const width = assertNumber('resize', 'options.width', options.width, { integer: true, positive: true });
  const count = dataset.labels.length;
  const channels = dataset.channels;
  const rows = axisWeights(dataset.height, height);
  const columns = axisWeights(dataset.width, width);
  const scratch = new Float64Array(dataset.height * width * channels);
  const images = new Uint8Array(count * height * width * channels);
  const inSize = dataset.height * dataset.width * channels;
  const outSize = height * width * channels;
  for (let i = 0; i < count; i++)
    resizeInto(
      dataset.images,
      i * inSize,
      dataset.height,
      dataset.width,
      channels,
      rows,
      columns,
      images,
      i * outSize,
      scratch,
    );
  return { ...dataset, images, height, width };
}
