/**
 * FitNets hints (Romero et al., ICLR 2015), as RepDistiller's `FitNet.py` computes it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertKnownOptions, checkFeaturePair, valueChecks, type PairSpec, type ValueCheckOption } from './common';

/**
 * FitNet hint loss: the mean squared error between the regressed student feature and the teacher feature,
 *
 *   L = mean over all elements of (r(f_s) − f_t)²
 *
 * where r is the trainable regressor (`FitNetRegularizer` builds it from the spatial sizes). Both inputs must
 * have the same shape, `[N, H, W, C]` maps or `[N, D]` vectors. RepDistiller hints the output of stage 2 and
 * trains the regressor jointly with the student.
 *
 * Reference weight in the total loss: β = 100 (γ = 1, α = 0).
 *
 * @param options `checkValues` (see {@link ValueCheckOption}).
 *
 * @example
 * const loss = fitNetLoss(regressor.apply(studentMap), teacherMap);
 */
export function fitNetLoss(
  regressedStudent: tf.Tensor,
  teacherFeature: tf.Tensor,
  options: ValueCheckOption = {},
): tf.Scalar {
  const fn = 'fitNetLoss';
  assertKnownOptions(fn, options, ['checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const spec: PairSpec = { ranks: [2, 4], layout: '[N, H, W, C] or [N, D]', agree: 'shape' };
  const [s, t] = checkFeaturePair(fn, { regressedStudent, teacherFeature }, spec, checks);
  return tf.tidy(() => tf.mean(tf.squaredDifference(s, t)) as tf.Scalar);
}
