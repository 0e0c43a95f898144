/**
 * Pooling with PyTorch semantics on NHWC tensors.
 */
import { assertKnownOptions } from '@kd/internal';
import * as tf from '@tensorflow/tfjs-core';

export interface PoolOptions {
  kernelSize: number;
  /** Default kernelSize. */
  stride?: number;
  /** Zero padding on every side. Default 0. */
  padding?: number;
}

export interface AvgPoolOptions extends PoolOptions {
  /**
   * Output size ⌈(H + 2p − k)/s⌉ + 1 instead of ⌊·⌋ + 1; the extra windows overhang the input and average
   * only the elements inside it (PyTorch `ceil_mode=True`). Only with padding 0. Default false.
   */
  ceilMode?: boolean;
}

/**
 * Average pooling: y = (1/k²)·Σ over the k×k window of the zero-padded input (padding counts in the
 * divisor, PyTorch's default `count_include_pad=True`); with `ceilMode` the overhanging last windows divide
 * by the number of input elements they cover.
 *
 * @example
 * avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }); // ShuffleNetV1's stride-2 shortcut
 */
export function avgPool2d(x: tf.Tensor4D, options: AvgPoolOptions): tf.Tensor4D {
  assertKnownOptions('avgPool2d', options, ['kernelSize', 'stride', 'padding', 'ceilMode']);
  const { kernelSize, stride = kernelSize, padding = 0, ceilMode = false } = options;
  if (ceilMode) {
    if (padding !== 0) throw new Error(`avgPool2d: ceilMode is only supported with padding 0, got padding ${padding}`);
    const [, height, width] = x.shape;
    const extraHeight = overhang(height, kernelSize, stride);
    const extraWidth = overhang(width, kernelSize, stride);
    // tfjs's avgPool divides each window by the number of non-padding elements it covers, which is exactly
    // PyTorch's ceil-mode divisor when padding is 0.
    return tf.avgPool(x, kernelSize, stride, [
      [0, 0],
      [0, extraHeight],
      [0, extraWidth],
      [0, 0],
    ]);
  }
  const padded =
    padding === 0
      ? x
      : tf.pad(x, [
          [0, 0],
          [padding, padding],
          [padding, padding],
          [0, 0],
        ]);
  return tf.avgPool(padded, kernelSize, stride, 'valid');
}

/** Rows of padding that make the floor-mode output equal the ceil-mode one. */
function overhang(size: number, kernelSize: number, stride: number): number {
  const ceilOutput = Math.ceil((size - kernelSize) / stride) + 1;
  return Math.max(0, (ceilOutput - 1) * stride + kernelSize - size);
}

/**
 * Max pooling over k×k windows, y = max over the window (padding never wins).
 *
 * @example
 * maxPool2d(x, { kernelSize: 2 }); // VGG's 2×2 stride-2 pool
 */
export function maxPool2d(x: tf.Tensor4D, options: PoolOptions): tf.Tensor4D {
  assertKnownOptions('maxPool2d', options, ['kernelSize', 'stride', 'padding']);
  const { kernelSize, stride = kernelSize, padding = 0 } = options;
  return tf.maxPool(x, kernelSize, stride, padding === 0 ? 'valid' : padding);
}

/**
 * Global average pooling: y[n, c] = mean over (h, w) of x[n, h, w, c], `[N, H, W, C]` → `[N, C]`. For the
 * 32×32 CIFAR inputs this is exactly the reference's final AvgPool (8 for ResNet/WRN, 4 for ShuffleNets,
 * 2 in ceil mode for MobileNetV2, adaptive for VGG/ResNet50), and it keeps working for other input sizes.
 */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}
