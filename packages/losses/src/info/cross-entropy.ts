import * as tf from '@tensorflow/tfjs-core';
import { assertLabels } from '../validate';
import { assertKnownOptions, assertMatrix, oneHotFloat, valueChecks, type ValueCheckOption } from './shared';

/**
 * Mean softmax cross-entropy with integer labels:
 *
 *   CE = −(1/N) Σ_i log softmax(z_i)_{y_i}
 *
 * The target log-probability is picked with a one-hot mask (oneHot · logSoftmax) rather than `tf.gather`,
 * whose gradient needs `UnsortedSegmentSum`, a kernel the wasm backend lacks.
 *
 * @param logits float32 `[N, C]`.
 * @param labels int32 `[N]`, each in `[0, C)`.
 * @param options `checkValues` (see {@link ValueCheckOption}).
 *
 * @example
 * const loss = crossEntropy(logits, tf.tensor1d([3, 0, 7], 'int32'));
 */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor, options: ValueCheckOption = {}): tf.Scalar {
  const fn = 'crossEntropy';
  assertKnownOptions(fn, options, ['checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const z = assertMatrix(fn, 'logits', logits, '[N, C]', checks);
  const [batchSize, numClasses] = z.shape;
  const y = assertLabels(fn, 'labels', labels, numClasses, batchSize, checks);
  return tf.tidy(() => crossEntropyUnchecked(z, y));
}

/** {@link crossEntropy} without input checks, for callers that validated already. */
export function crossEntropyUnchecked(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const [batchSize, numClasses] = logits.shape;
  const targets = oneHotFloat(labels, numClasses);
  // −(1/N) Σ_i Σ_c onehot_ic · log p_ic
  return tf.neg(tf.div(tf.sum(tf.mul(targets, tf.logSoftmax(logits))), batchSize)) as tf.Scalar;
}
