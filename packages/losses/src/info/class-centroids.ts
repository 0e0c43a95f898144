import * as tf from '@tensorflow/tfjs-core';
import { assertLabels, assertNumber } from '../validate';
import { assertKnownOptions, assertMatrix, oneHotFloat, valueChecks, type ValueCheckOption } from './shared';

/**
 * Batch class centroids of the softmax outputs (the Q̂_y of CMI, Yang et al. 2023):
 *
 *   Q_y = (1 / n_y) Σ_{i: y_i = y} softmax(z_i),   Q_y = uniform (1/C) when n_y = 0.
 *
 * Row y is the mean predicted distribution of the samples labelled y, so every row sums to 1. The
 * per-class sums are one matMul of the one-hot labels with the probabilities (no `tf.gather`).
 * Differentiable with respect to `logits`.
 *
 * @param logits float32 `[N, numClasses]`.
 * @param labels int32 `[N]`, each in `[0, numClasses)`.
 * @param numClasses the number of classes C (must equal `logits.shape[1]`).
 * @param options `checkValues` (see {@link ValueCheckOption}).
 * @returns float32 `[numClasses, numClasses]`.
 *
 * @example
 * const centroids = classCentroids(teacherLogits, labels, 10); // [10, 10]
 */
export function classCentroids(
  logits: tf.Tensor,
  labels: tf.Tensor,
  numClasses: number,
  options: ValueCheckOption = {},
): tf.Tensor2D {
  const fn = 'classCentroids';
  assertKnownOptions(fn, options, ['checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const classes = assertNumber(fn, 'numClasses', numClasses, { integer: true, min: 1 });
  const z = assertMatrix(fn, 'logits', logits, '[N, numClasses]', checks);
  if (z.shape[1] !== classes) {
    throw new Error(
      `${fn}: logits has ${z.shape[1]} classes (shape [${z.shape.join(',')}]) but numClasses is ${classes}`,
    );
  }
  const y = assertLabels(fn, 'labels', labels, classes, z.shape[0], checks);
  return tf.tidy(() => classCentroidsUnchecked(z, y, classes));
}

/** {@link classCentroids} without input checks, for callers that validated already. */
export function classCentroidsUnchecked(logits: tf.Tensor2D, labels: tf.Tensor1D, numClasses: number): tf.Tensor2D {
  const probabilities = tf.softmax(logits);
  const membership = oneHotFloat(labels, numClasses); // [N, K]
  const sums = tf.matMul(membership, probabilities, true, false); // [K, C]: Σ_{i ∈ y} P_i
  const counts = tf.reshape(tf.sum(membership, 0), [numClasses, 1]);
  const present = tf.greater(counts, 0);
  // max(n_y, 1) avoids 0/0 for absent classes; their rows are replaced by the uniform row below.
  const means = tf.div(sums, tf.maximum(counts, 1));
  const uniform = tf.fill([numClasses, numClasses], 1 / numClasses);
  return tf.where(tf.broadcastTo(present, [numClasses, numClasses]), means, uniform) as tf.Tensor2D;
}
