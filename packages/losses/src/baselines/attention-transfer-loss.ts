/**
 * Attention transfer (AT), Zagoruyko & Komodakis, ICLR 2017, as RepDistiller's `AT.py` computes it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { matchSpatialSize } from '../spatial';
import { assertKnownOptions } from '../validate';
import {
  absolutePower,
  exponentOption,
  featurePairs,
  l2Normalize,
  valueChecks,
  type FeatureInput,
  type ValueCheckOption,
} from './common';

export interface AttentionTransferLossOptions extends ValueCheckOption {
  /** Exponent p of the attention map mean_c(|f|^p). Default 2 (the reference). Must be >= 1. */
  p?: number;
}

/**
 * Attention-transfer loss between student and teacher feature maps (NHWC).
 *
 * Per pair of maps, with a(f) = L2-normalise over the H·W positions of mean_c(|f|^p):
 *
 *   L = mean over the N·H·W entries of (a(f_s) − a(f_t))²
 *
 * When the spatial sizes differ the larger map is average-pooled to the smaller one (the reference's
 * `adaptive_avg_pool2d`); channel counts may differ. Given two lists of maps (one per stage, RepDistiller uses
 * every stage output `feat[1:-1]`), the per-pair losses are summed. For even p this equals the reference's
 * `f.pow(p)`; for odd p the reference keeps signs, this uses |f| as in the paper.
 *
 * Reference weight in the total loss: β = 1000 (γ = 1, α = 0).
 *
 * @example
 * const loss = attentionTransferLoss(studentMap, teacherMap); // [64,16,16,32] vs [64,8,8,64]
 * const total = attentionTransferLoss([s1, s2, s3], [t1, t2, t3]); // summed over stages
 */
export function attentionTransferLoss(
  studentFeature: FeatureInput,
  teacherFeature: FeatureInput,
  options: AttentionTransferLossOptions = {},
): tf.Scalar {
  const fn = 'attentionTransferLoss';
  assertKnownOptions(fn, options, ['p', 'checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const p = exponentOption(fn, 'options.p', options.p ?? 2);
  const pairs = featurePairs(fn, 'studentFeature', studentFeature, 'teacherFeature', teacherFeature, checks);
  return tf.tidy(() => {
    const perPair = pairs.map(({ student, teacher }) => {
      const [s, t] = matchSpatialSize({ fn, student, teacher });
      return tf.mean(tf.square(tf.sub(attentionMap(s, p), attentionMap(t, p))));
    });
    return tf.addN(perPair) as tf.Scalar;
  });
}

/** a(f) = F.normalize(mean_c(|f|^p) reshaped to [N, H·W]), the spatial attention map of AT. */
export function attentionMap(feature: tf.Tensor4D, p: number): tf.Tensor2D {
  const [batch, height, width] = feature.shape;
  const channelMean = tf.mean(absolutePower(feature, p), 3);
  return l2Normalize(tf.reshape(channelMean, [batch, height * width]), 1) as tf.Tensor2D;
}
