/**
 * Correlation congruence (CC, Peng et al., ICCV 2019), as RepDistiller's `CC.py` computes it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertKnownOptions, checkFeaturePair, valueChecks, type PairSpec, type ValueCheckOption } from './common';

/**
 * Correlation-congruence loss on embeddings (RepDistiller embeds both penultimate vectors to 128 dims with
 * trainable linear heads first):
 *
 *   δ_i = |e_s,i − e_t,i|,   L = (1 / (B − 1)) Σ_{i=1}^{B−1} ⟨δ_i, δ_{i+1}⟩
 *
 * i.e. the mean over the B − 1 consecutive pairs of the batch of the inner product of their absolute
 * differences (the reference's `mean((delta[:-1] * delta[1:]).sum(1))`). Needs B ≥ 2 and equal shapes.
 *
 * Reference weight in the total loss: β = 0.02 (γ = 1, α = 0).
 *
 * @param options `checkValues` (see {@link ValueCheckOption}).
 *
 * @example
 * const loss = correlationCongruenceLoss(studentEmbedding, teacherEmbedding); // [64,128] each
 */
export function correlationCongruenceLoss(
  studentEmbedding: tf.Tensor,
  teacherEmbedding: tf.Tensor,
  options: ValueCheckOption = {},
): tf.Scalar {
  const fn = 'correlationCongruenceLoss';
  assertKnownOptions(fn, options, ['checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const spec: PairSpec = { ranks: 2, layout: '[N, D]', agree: 'shape' };
  const [s, t] = checkFeaturePair(fn, { studentEmbedding, teacherEmbedding }, spec, checks);
  const [batch, dim] = s.shape as [number, number];
  if (batch < 2)
    throw new Error(`${fn}: studentEmbedding needs a batch of at least 2 (consecutive pairs), got ${batch}`);
  return tf.tidy(() => {
    const difference = tf.sub(s, t);
    // |d| written as d·sign(d): the same value, and a zero gradient at d = 0 like PyTorch's abs (tfjs's abs
    // gradient is −1 there).
    const delta = tf.mul(difference, tf.sign(difference));
    const previous = tf.slice(delta, [0, 0], [batch - 1, dim]);
    const next = tf.slice(delta, [1, 0], [batch - 1, dim]);
    return tf.mean(tf.sum(tf.mul(previous, next), 1)) as tf.Scalar;
  });
}
