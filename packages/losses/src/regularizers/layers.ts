/**
 * The functional building blocks of the regularizers' small heads: dense and convolution layers applied
 * with plain tfjs-core ops to weights the regularizer owns, batch and layer normalisation, and PyTorch's
 * default initialisation (so a head starts at the scale the reference methods were tuned with).
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * What the weight initialisers of the regularizers' heads draw from: `count` values uniform in [−bound, bound),
 * in a fixed order for a given seed (the heads pass the package's seeded generator).
 */
export interface UniformSampler {
  uniformArray(count: number, bound: number): Float32Array;
}

/** PyTorch's default (kaiming-uniform with a = √5) bound for weights and biases: 1/√fan_in. */
export function defaultInitBound(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}

/** `[count]` values uniform in ±1/√fanIn drawn from `random`. */
export function defaultInit(random: UniformSampler, count: number, fanIn: number): Float32Array {
  return random.uniformArray(count, defaultInitBound(fanIn));
}

/**
 * An `[inputs, units]` kernel near the identity, Deep InfoMax's shortcut initialisation: uniform ±0.01
 * with ones on the diagonal. Only used when units ≥ inputs (an identity embedding exists).
 */
export function nearIdentityInit(random: UniformSampler, inputs: number, units: number): Float32Array {
  const values = random.uniformArray(inputs * units, 0.01);
  for (let index = 0; index < Math.min(inputs, units); index++) values[index * units + index] = 1;
  return values;
}

/** x·W (+ b) for x `[N, in]`, W `[in, out]`. */
export function dense(x: tf.Tensor2D, kernel: tf.Tensor, bias?: tf.Tensor): tf.Tensor2D {
  const product: tf.Tensor2D = tf.matMul(x, kernel as tf.Tensor2D);
  return bias === undefined ? product : (tf.add(product, bias) as tf.Tensor2D);
}

/** A 1×1 convolution as a matrix product over the flattened positions of an NHWC map. */
export function conv1x1(x: tf.Tensor4D, kernel: tf.Tensor, bias?: tf.Tensor): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const flat = dense(tf.reshape(x, [n * h * w, c]), kernel, bias);
  return tf.reshape(flat, [n, h, w, flat.shape[1]]);
}

/** A 2-D convolution (NHWC, kernel `[kh, kw, in, out]`) with PyTorch-style symmetric zero padding. */
export function conv2d(
  x: tf.Tensor4D,
  kernel: tf.Tensor,
  bias: tf.Tensor | undefined,
  { stride = 1, padding = 0 }: { stride?: number; padding?: number } = {},
): tf.Tensor4D {
  const pad: 'valid' | [[number, number], [number, number], [number, number], [number, number]] =
    padding === 0
      ? 'valid'
      : [
          [0, 0],
          [padding, padding],
          [padding, padding],
          [0, 0],
        ];
  const output = tf.conv2d(x, kernel as tf.Tensor4D, stride, pad);
  return bias === undefined ? output : tf.add(output, bias);
}

/**
 * A transposed convolution with PyTorch's semantics: kernel `[kh, kw, out, in]`, output size
 * (H − 1)·stride − 2·padding + kh. tfjs defines it as the gradient of the forward convolution with the same
 * stride and padding, which is exactly that size.
 */
export function conv2dTranspose(
  x: tf.Tensor4D,
  kernel: tf.Tensor,
  bias: tf.Tensor | undefined,
  { stride, padding }: { stride: number; padding: number },
): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const [kh, kw, out] = kernel.shape as [number, number, number, number];
  const outputShape: [number, number, number, number] = [
    n,
    (h - 1) * stride - 2 * padding + kh,
    (w - 1) * stride - 2 * padding + kw,
    out,
  ];
  const output = tf.conv2dTranspose(x, kernel as tf.Tensor4D, outputShape, stride, padding === 0 ? 'valid' : padding);
  return bias === undefined ? output : tf.add(output, bias);
}

/**
 * Batch normalisation in training mode: every axis but the last is reduced with the batch's own statistics,
 * y = γ·(x − mean)/√(var + ε) + β with the biased variance and ε = 1e-5 (PyTorch's defaults). The heads use
 * it only to compute a loss during training, so no running statistics are kept.
 */
export function batchNormTraining<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, epsilon = 1e-5): T {
  const axes = x.shape.slice(0, -1).map((_, axis) => axis);
  const { mean, variance } = tf.moments(x, axes);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), gamma), beta) as T;
}

/** Layer normalisation over the last axis: y = γ·(x − mean)/√(var + ε) + β, ε = 1e-5. */
export function layerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, epsilon = 1e-5): T {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), gamma), beta) as T;
}

export { l2NormalizeRows, stopGradient } from '../tensor-utils';
