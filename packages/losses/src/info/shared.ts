/**
 * Small helpers shared by the information-theoretic losses: option checks that `validate.ts` does not
 * cover, a gradient stop, and the numerically careful building blocks (row normalisation, KL from log
 * probabilities, diagonal cross-entropy).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertFiniteValues, assertFloat, assertNonEmptyBatch, assertOptions, assertRank, getValidationConfig } from '../validate';

/**
 * Throws on option keys the function does not know: a misspelt option (`temprature`) would otherwise be
 * ignored silently and the default used.
 */
export function assertKnownOptions(fn: string, options: unknown, known: readonly string[]): void {
  assertOptions(fn, options);
  if (options === undefined) return;
  for (const key of Object.keys(options as object)) {
    if (!known.includes(key)) {
      throw new Error(`${fn}: unknown option '${key}' (known options: ${known.join(', ')})`);
    }
  }
}

/** Throws unless `value` is a non-empty float32 rank-2 `[N, C]` tensor of finite values; returns it typed. */
export function assertMatrix(fn: string, arg: string, value: unknown, layout = '[N, C]'): tf.Tensor2D {
  const tensor = assertRank(fn, arg, value, 2, layout) as tf.Tensor2D;
  assertFloat(fn, arg, tensor);
  assertNonEmptyBatch(fn, arg, tensor);
  if (tensor.shape[1] < 1) throw new Error(`${fn}: ${arg} must have at least one column, got [${tensor.shape.join(',')}]`);
  assertFiniteValues(fn, arg, tensor);
  return tensor;
}

/** Throws unless `value` is a finite number or a finite float32 scalar tensor; `positive` also requires > 0. */
export function assertNumberOrScalar(
  fn: string,
  arg: string,
  value: unknown,
  { positive = false }: { positive?: boolean } = {},
): number | tf.Scalar {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${fn}: ${arg} must be a finite number, got ${value}`);
    if (positive && !(value > 0)) throw new Error(`${fn}: ${arg} must be > 0, got ${value}`);
    return value;
  }
  if (!(value instanceof tf.Tensor)) {
    throw new Error(`${fn}: ${arg} must be a number or a scalar tf.Tensor, got ${value === null ? 'null' : typeof value}`);
  }
  if (value.isDisposed) throw new Error(`${fn}: ${arg} has been disposed`);
  if (value.rank !== 0) throw new Error(`${fn}: ${arg} must be a scalar (rank 0), got rank ${value.rank} [${value.shape.join(',')}]`);
  if (value.dtype !== 'float32') throw new Error(`${fn}: ${arg} must be float32, got ${value.dtype}`);
  assertFiniteValues(fn, arg, value);
  if (positive && getValidationConfig().checkValues) {
    const scalar = value.dataSync()[0] as number;
    if (!(scalar > 0)) throw new Error(`${fn}: ${arg} must be > 0, got ${scalar}`);
  }
  return value as tf.Scalar;
}

/** Throws when a tensor holds a negative value (only when value checks are on). */
export function assertNonNegativeValues(fn: string, arg: string, tensor: tf.Tensor): void {
  if (!getValidationConfig().checkValues) return;
  const minimum = tf.tidy(() => tf.min(tensor));
  const value = minimum.dataSync()[0] as number;
  minimum.dispose();
  if (value < 0) throw new Error(`${fn}: ${arg} must be non-negative, found ${value}`);
}

/**
 * The identity in the forward pass with a zero gradient: tfjs has no `stopGradient`, and a tensor that is
 * "treated as a constant" must not receive updates even when it was computed from a trainable variable.
 */
export function stopGradient<T extends tf.Tensor>(tensor: T): T {
  const detach = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: tf.clone(inputs[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }));
  return detach(tensor) as T;
}

/**
 * One-hot rows as float32, `[N, depth]`. Built as int32 and cast, never with `tf.oneHot(..., 'float32')`: the
 * wasm backend's OneHot kernel (tfjs 4.22) ignores the dtype and writes int32 bits into a float32 tensor, so
 * every 1 reads back as 1.4e-45.
 */
export function oneHotFloat(labels: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(labels, depth), 'float32') as tf.Tensor2D;
}

/**
 * Rows divided by their L2 norm, x / max(‖x‖, 1e-12) (PyTorch's `F.normalize`): a zero row stays zero
 * instead of becoming NaN, and so does its gradient.
 */
export function l2NormalizeRows(matrix: tf.Tensor2D): tf.Tensor2D {
  const squaredNorm = tf.sum(tf.square(matrix), 1, true);
  return tf.mul(matrix, tf.rsqrt(tf.maximum(squaredNorm, 1e-24)));
}

/**
 * KL(P ‖ Q) per row from log probabilities: Σ_c exp(log P_c) · (log P_c − log Q_c). Computing it from logs
 * keeps every term finite for saturated distributions: an entry with P_c = 0 contributes 0 · (finite) = 0.
 */
export function klDivergencePerRow(logP: tf.Tensor2D, logQ: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), 1);
}

/**
 * Cross-entropy of every row of a square logit matrix with the diagonal as target, averaged:
 * −(1/N) Σ_i log softmax(L_i)_i. The diagonal is picked with an identity mask, not `tf.gather` (whose
 * gradient needs a kernel the wasm backend lacks).
 */
export function diagonalCrossEntropy(logits: tf.Tensor2D): tf.Scalar {
  const size = logits.shape[0];
  const logProbabilities = tf.logSoftmax(logits);
  return tf.neg(tf.div(tf.sum(tf.mul(logProbabilities, tf.eye(size))), size)) as tf.Scalar;
}
