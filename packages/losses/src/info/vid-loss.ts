import * as tf from '@tensorflow/tfjs-core';
import {
  assertFiniteValues,
  assertFloat,
  assertNonEmptyBatch,
  assertNumber,
  assertRank,
  assertSameShape,
} from '../validate';
import { assertKnownOptions, valueChecks, type ValueCheckOption } from './shared';

export interface VidLossOptions extends ValueCheckOption {
  /** Variance floor ε added to softplus(α) (> 0). Default 1e-5, RepDistiller's value. */
  epsilon?: number;
}

/**
 * The Variational Information Distillation objective (Ahn et al., CVPR 2019): the negative log-likelihood,
 * constants dropped, of the teacher's feature under a Gaussian whose mean μ is predicted from the student
 * and whose variance is learned per channel (the last axis), averaged over all elements:
 *
 *   L = mean_{n,…,c} ½ [ log σ²_c + (t_{n…c} − μ_{n…c})² / σ²_c ],   σ²_c = softplus(α_c) + ε.
 *
 * Minimising it maximises a variational lower bound on I(t; s). The mean (not the paper's sum) follows
 * RepDistiller, so a loss weight of 1 matches its scale. Works on NHWC maps `[N, H, W, C]` (VID-I) and on
 * vectors `[N, C]` (VID-LP: teacher logits predicted from the student's penultimate vector). Gradients reach
 * `mean` and `alpha` (and `target`, which should come from a frozen teacher).
 *
 * @param target the teacher's feature, float32 `[N, C]` or `[N, H, W, C]`.
 * @param mean the predicted mean μ, same shape as `target`.
 * @param alpha the variance parameters α, float32 `[C]`; α = log(e^{5−ε} − 1) gives σ² = 5.
 *
 * @example
 * const loss = vidLoss(teacherFeature, regressor(studentFeature), alpha, { epsilon: 1e-5 });
 */
export function vidLoss(target: tf.Tensor, mean: tf.Tensor, alpha: tf.Tensor, options: VidLossOptions = {}): tf.Scalar {
  const fn = 'vidLoss';
  assertKnownOptions(fn, options, ['epsilon', 'checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const t = assertRank(fn, 'target', target, [2, 4], '[N, C] or [N, H, W, C]');
  const mu = assertRank(fn, 'mean', mean, [2, 4], '[N, C] or [N, H, W, C]');
  const a = assertRank(fn, 'alpha', alpha, 1, '[C]') as tf.Tensor1D;
  assertFloat(fn, 'target', t);
  assertFloat(fn, 'mean', mu);
  assertFloat(fn, 'alpha', a);
  assertSameShape(fn, 'target', t, 'mean', mu);
  assertNonEmptyBatch(fn, 'target', t);
  const channels = t.shape[t.rank - 1] as number;
  if (a.shape[0] !== channels) {
    throw new Error(
      `${fn}: alpha has ${a.shape[0]} entries but target has ${channels} channels (last axis of [${t.shape.join(',')}])`,
    );
  }
  const epsilon = assertNumber(fn, 'epsilon', options.epsilon ?? 1e-5, { positive: true });
  assertFiniteValues(fn, 'target', t, checks);
  assertFiniteValues(fn, 'mean', mu, checks);
  assertFiniteValues(fn, 'alpha', a, checks);

  return tf.tidy(() => {
    const variance = tf.add(tf.softplus(a), epsilon); // σ²_c, broadcast along the last axis
    // ½ (log σ² + (t − μ)² / σ²), averaged over every element
    const perElement = tf.mul(0.5, tf.add(tf.log(variance), tf.div(tf.squaredDifference(t, mu), variance)));
    return tf.mean(perElement) as tf.Scalar;
  });
}
