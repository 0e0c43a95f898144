/**
 * Similarity-preserving KD (Tung & Mori, ICCV 2019), as RepDistiller's `SP.py` computes it.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  assertKnownOptions,
  checkFeaturePair,
  l2Normalize,
  valueChecks,
  type PairSpec,
  type ValueCheckOption,
} from './common';

/**
 * Similarity-preserving loss: compares the batch's sample-similarity (Gram) matrices.
 *
 * With F the inputs flattened to [B, D] (D may differ between student and teacher):
 *
 *   G = normalise_rows(F Fᵀ)   (B × B, each row L2-normalised)
 *   L = ‖G_t − G_s‖²_F / B²
 *
 * RepDistiller uses the last convolutional map `feat[-2]`. Accepts `[N, H, W, C]` maps or `[N, D]` vectors.
 *
 * Reference weight in the total loss: β = 3000 (γ = 1, α = 0).
 *
 * @param options `checkValues` (see {@link ValueCheckOption}).
 *
 * @example
 * const loss = similarityPreservingLoss(studentLastMap, teacherLastMap); // [64,8,8,64] vs [64,8,8,256]
 */
export function similarityPreservingLoss(
  studentFeature: tf.Tensor,
  teacherFeature: tf.Tensor,
  options: ValueCheckOption = {},
): tf.Scalar {
  const fn = 'similarityPreservingLoss';
  assertKnownOptions(fn, options, ['checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const spec: PairSpec = { ranks: [2, 4], layout: '[N, H, W, C] or [N, D]', agree: 'batch' };
  const [s, t] = checkFeaturePair(fn, { studentFeature, teacherFeature }, spec, checks);
  const batch = s.shape[0] as number;
  return tf.tidy(() => {
    const gramStudent = normalizedGram(s, batch);
    const gramTeacher = normalizedGram(t, batch);
    return tf.div(tf.sum(tf.squaredDifference(gramTeacher, gramStudent)), batch * batch) as tf.Scalar;
  });
}

/** G = F Fᵀ with every row L2-normalised. */
function normalizedGram(feature: tf.Tensor, batch: number): tf.Tensor2D {
  const flat = tf.reshape(feature, [batch, -1]) as tf.Tensor2D;
  return l2Normalize(tf.matMul(flat, flat, false, true), 1) as tf.Tensor2D;
}
