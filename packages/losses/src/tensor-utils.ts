/**
 * Tensor building blocks every part of @kd/losses shares: a gradient stop, PyTorch's `F.normalize`,
 * float one-hot rows, KL from log probabilities and the diagonal cross-entropy of contrastive losses.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * The identity in the forward pass with a zero gradient: PyTorch's `.detach()`. tfjs has no stopGradient op
 * (tensorflow/tfjs#7438), and a term the reference treats as a constant (a teacher-side term, a fixed
 * centroid, the output of a frozen module) must not pass updates back.
 */
export function stopGradient<T extends tf.Tensor>(tensor: T): T {
  const detach = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: tf.clone(inputs[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }));
  return detach(tensor) as T;
}

/**
 * PyTorch's `F.normalize(x, dim=axis)`: x / max(‖x‖₂, 1e-12). The maximum is taken on the squared norm
 * (max(Σx², 1e-24)) so a zero vector stays zero and gets a zero gradient instead of 0·∞ = NaN.
 */
export function l2Normalize<T extends tf.Tensor>(x: T, axis: number): T {
  return tf.tidy(() => tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), axis, true), 1e-24)))) as T;
}

/** {@link l2Normalize} over the rows of a matrix. */
export function l2NormalizeRows(matrix: tf.Tensor2D): tf.Tensor2D {
  return l2Normalize(matrix, 1);
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
