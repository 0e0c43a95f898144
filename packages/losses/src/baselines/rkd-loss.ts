/**
 * Relational KD (RKD, Park et al., CVPR 2019), as RepDistiller's `RKD.py` computes it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertNumber, assertKnownOptions } from '../validate';
import { checkFeaturePair, valueChecks, type PairSpec, type ValueCheckOption, stopGradient } from './common';

export interface RkdLossOptions extends ValueCheckOption {
  /** Weight w_d of the distance term. Default 25. */
  distanceWeight?: number;
  /** Weight w_a of the angle term. Default 50. */
  angleWeight?: number;
}

/**
 * Relational KD: distance-wise and angle-wise relations of the batch's embeddings.
 *
 *   d_ij = ‖x_i − x_j‖ / μ,   μ = mean of the B(B−1) off-diagonal distances (the nonzero ones)
 *   e_ab = (x_b − x_a) / ‖x_b − x_a‖,   angle_abc = ⟨e_ab, e_ac⟩
 *   L = w_d · mean_{ij} smoothL1(d^s_ij − d^t_ij) + w_a · mean_{abc} smoothL1(angle^s_abc − angle^t_abc)
 *
 * smoothL1(x) = ½x² for |x| < 1, |x| − ½ otherwise (Huber with δ = 1); the means run over all B² and B³
 * entries (diagonal and degenerate entries are 0 on both sides). The teacher side is a constant: its gradient
 * is zero (the reference computes it under `no_grad`). Norms follow the reference: distances are
 * sqrt(max(‖·‖², 1e-12)), unit vectors divide by max(‖·‖, 1e-12). Student and teacher widths may differ;
 * B ≥ 2. RepDistiller applies it to the pooled penultimate vectors `feat[-1]`.
 *
 * Reference weight in the total loss: β = 1 (γ = 1, α = 0); defaults w_d = 25, w_a = 50.
 *
 * @example
 * const loss = rkdLoss(studentPooled, teacherPooled); // [64,64] vs [64,256]
 */
export function rkdLoss(
  studentEmbedding: tf.Tensor,
  teacherEmbedding: tf.Tensor,
  options: RkdLossOptions = {},
): tf.Scalar {
  const fn = 'rkdLoss';
  assertKnownOptions(fn, options, ['distanceWeight', 'angleWeight', 'checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const distanceWeight = assertNumber(fn, 'options.distanceWeight', options.distanceWeight ?? 25, {
    nonNegative: true,
  });
  const angleWeight = assertNumber(fn, 'options.angleWeight', options.angleWeight ?? 50, { nonNegative: true });
  const spec: PairSpec = { ranks: 2, layout: '[N, D]', agree: 'batch' };
  const [s, t] = checkFeaturePair(fn, { studentEmbedding, teacherEmbedding }, spec, checks);
  const batch = s.shape[0] as number;
  if (batch < 2)
    throw new Error(`${fn}: studentEmbedding needs a batch of at least 2 (pairwise distances), got ${batch}`);
  return tf.tidy(() => {
    const teacher = stopGradient(t);
    const offDiagonal = tf.sub(1, tf.eye(batch));
    const studentDifferences = pairwiseDifferences(s);
    const teacherDifferences = pairwiseDifferences(teacher);
    const distanceTerm = smoothL1Mean(
      normalizedDistances(studentDifferences, offDiagonal, batch),
      normalizedDistances(teacherDifferences, offDiagonal, batch),
    );
    const angleTerm = smoothL1Mean(angles(studentDifferences, batch), angles(teacherDifferences, batch));
    return tf.add(tf.mul(distanceWeight, distanceTerm), tf.mul(angleWeight, angleTerm)) as tf.Scalar;
  });
}

/** D[a, b] = x_b − x_a, shape [B, B, D]. Differences directly, not ‖a‖² + ‖b‖² − 2ab, to avoid cancellation. */
function pairwiseDifferences(x: tf.Tensor): tf.Tensor3D {
  return tf.sub(tf.expandDims(x, 0), tf.expandDims(x, 1)) as tf.Tensor3D;
}

/** d_ij = sqrt(max(‖x_i − x_j‖², 1e-12)) off the diagonal, 0 on it, divided by the mean off-diagonal distance. */
function normalizedDistances(differences: tf.Tensor3D, offDiagonal: tf.Tensor, batch: number): tf.Tensor {
  const distances = tf.mul(tf.sqrt(tf.maximum(tf.sum(tf.square(differences), 2), 1e-12)), offDiagonal);
  // Every off-diagonal distance is ≥ 1e-6 > 0, so the reference's mean of the nonzero entries is over B(B−1).
  const meanDistance = tf.div(tf.sum(distances), batch * (batch - 1));
  return tf.div(distances, meanDistance);
}

/** angle[a, b, c] = ⟨e_ab, e_ac⟩ with e_ab the unit vector of x_b − x_a (zero when b = a). */
function angles(differences: tf.Tensor3D, batch: number): tf.Tensor3D {
  // The norm is clamped at 1e-12 like F.normalize; on the diagonal (where x_a − x_a = 0) it is set to 1
  // instead, which leaves the value 0 but keeps the gradient free of a 1e12 factor.
  const squaredNorms = tf.add(tf.sum(tf.square(differences), 2, true), tf.expandDims(tf.eye(batch), 2));
  const units = tf.div(differences, tf.sqrt(tf.maximum(squaredNorms, 1e-24))) as tf.Tensor3D;
  return tf.matMul(units, units, false, true);
}

/** mean of smoothL1(a − b): ½x² for |x| < 1, |x| − ½ otherwise, written as ½q² + (|x| − q) with q = min(|x|, 1). */
function smoothL1Mean(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  const absolute = tf.abs(tf.sub(a, b));
  const quadratic = tf.minimum(absolute, 1);
  return tf.mean(tf.add(tf.mul(0.5, tf.square(quadratic)), tf.sub(absolute, quadratic)));
}
