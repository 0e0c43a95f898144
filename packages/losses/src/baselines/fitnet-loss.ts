/**
 * FitNets hints (Romero et al., ICLR 2015), as RepDistiller's `FitNet.py` computes it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertSameShape } from '../validate';
import { checkFloatInput } from './common';

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
 * @example
 * const loss = fitNetLoss(regressor.apply(studentMap), teacherMap);
 */
export function fitNetLoss(regressedStudent: tf.Tensor, teacherFeature: tf.Tensor): tf.Scalar {
  const fn = 'fitNetLoss';
  const layout = '[N, H, W, C] or [N, D]';
  const s = checkFloatInput(fn, 'regressedStudent', regressedStudent, [2, 4], layout);
  const t = checkFloatInput(fn, 'teacherFeature', teacherFeature, [2, 4], layout);
  assertSameShape(fn, 'regressedStudent', s, 'teacherFeature', t);
  return tf.tidy(() => tf.mean(tf.squaredDifference(s, t)) as tf.Scalar);
}
