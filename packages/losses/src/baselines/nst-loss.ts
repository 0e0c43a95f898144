/**
 * Neuron selectivity transfer (NST, Huang & Wang, 2017), as RepDistiller's `NST.py` computes it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { matchSpatialSize } from '../spatial';
import {
  assertKnownOptions,
  featurePairs,
  l2Normalize,
  stopGradient,
  valueChecks,
  type FeatureInput,
  type ValueCheckOption,
} from './common';

/**
 * Neuron-selectivity-transfer loss: the squared MMD, under the polynomial kernel k(a, b) = (aᵀb)², between
 * the student's and the teacher's channels seen as points in R^{H·W}.
 *
 * Per pair of maps, with every channel's H·W activations L2-normalised (f̂_c = f_c / max(‖f_c‖, 1e-12)):
 *
 *   L = mean_{c,c'} k(t̂_c, t̂_c') + mean_{c,c'} k(ŝ_c, ŝ_c') − 2 · mean_{c,c'} k(ŝ_c, t̂_c')
 *
 * each mean also running over the batch. The teacher–teacher term carries no gradient (the reference detaches
 * it). The larger map is average-pooled to the smaller one. Channel counts may differ (the cross term averages
 * over the C_s × C_t pairs). Given two lists of maps (RepDistiller: every stage output `feat[1:-1]`), the
 * per-pair losses are summed.
 *
 * Reference weight in the total loss: β = 50 (γ = 1, α = 0).
 *
 * @param options `checkValues` (see {@link ValueCheckOption}).
 *
 * @example
 * const loss = nstLoss([s1, s2, s3], [t1, t2, t3]);
 */
export function nstLoss(
  studentFeature: FeatureInput,
  teacherFeature: FeatureInput,
  options: ValueCheckOption = {},
): tf.Scalar {
  const fn = 'nstLoss';
  assertKnownOptions(fn, options, ['checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const pairs = featurePairs(fn, 'studentFeature', studentFeature, 'teacherFeature', teacherFeature, checks);
  return tf.tidy(() => {
    const perPair = pairs.map(({ student, teacher }) => {
      const [s, t] = matchSpatialSize({ fn, student, teacher });
      const studentChannels = normalizedChannels(s);
      const teacherChannels = normalizedChannels(t);
      const detachedTeacher = stopGradient(teacherChannels);
      return tf.sub(
        tf.add(
          meanPolynomialKernel(detachedTeacher, detachedTeacher),
          meanPolynomialKernel(studentChannels, studentChannels),
        ),
        tf.mul(2, meanPolynomialKernel(studentChannels, teacherChannels)),
      );
    });
    return tf.addN(perPair) as tf.Scalar;
  });
}

/** [N, H, W, C] → [N, H·W, C] with every channel (column) L2-normalised over the positions. */
function normalizedChannels(feature: tf.Tensor4D): tf.Tensor3D {
  const [batch, height, width, channels] = feature.shape;
  return l2Normalize(tf.reshape(feature, [batch, height * width, channels]), 1) as tf.Tensor3D;
}

/** mean over n, c, c' of (a_{n,:,c} · b_{n,:,c'})². */
function meanPolynomialKernel(a: tf.Tensor3D, b: tf.Tensor3D): tf.Scalar {
  return tf.mean(tf.square(tf.matMul(a, b, true, false)));
}
