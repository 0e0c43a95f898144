import * as tf from '@tensorflow/tfjs-core';
import { assertNumber } from '../validate';
import {
  assertKnownOptions,
  assertMatrixPair,
  assertNumberOrScalar,
  diagonalCrossEntropy,
  klDivergencePerRow,
  l2NormalizeRows,
  valueChecks,
  type ValueCheckOption,
} from './shared';

export interface IcdLossOptions extends ValueCheckOption {
  /**
   * κ, multiplying the cosine similarities (> 0): a number, or a scalar tensor such as ICD's learnable
   * min(exp θ, 10) (gradients flow into it). Required.
   */
  logitScale: number | tf.Scalar;
  /** b, added to every similarity logit: a number or a scalar tensor. Default 0. */
  bias?: number | tf.Scalar;
  /** Weight α of the invariance term (≥ 0). Default 0.5, the authors' constructor default. */
  alpha?: number;
}

/**
 * The ICD/DCD objective (Giakoumoglou & Stathaki 2024, "Invariant Consistency for Knowledge Distillation",
 * later "DCD"), written from the authors' definitions. With rows L2-normalised,
 *
 *   L_ij = κ · ⟨z^S_i, z^T_j⟩ + b,
 *   contrastive = −(1/N) Σ_i log P_i(i),                 P_i = softmax of row i of L,
 *   invariance  = (1/N) Σ_i KL( R_i ‖ P_i ),              R_i = softmax of column i of L,
 *   loss        = contrastive + α · invariance.
 *
 * The contrastive term is one-directional in-batch InfoNCE (student anchors, teacher candidates); the
 * invariance term asks student i's distribution over teachers to agree with teacher i's distribution over
 * students. Neither distribution is detached. Note that b shifts every logit equally, so it cancels in
 * every softmax: the loss does not depend on b and its gradient is 0 (as in the authors' code). Needs N ≥ 2.
 *
 * @param studentEmbeddings float32 `[N, D]` (the projected student vectors; normalised here).
 * @param teacherEmbeddings float32 `[N, D]`.
 *
 * @example
 * const loss = icdLoss(studentEmbedding, teacherEmbedding, { logitScale: Math.E, alpha: 0.5 });
 */
export function icdLoss(
  studentEmbeddings: tf.Tensor,
  teacherEmbeddings: tf.Tensor,
  options: IcdLossOptions,
): tf.Scalar {
  const fn = 'icdLoss';
  if (options === undefined) throw new Error(`${fn}: options with logitScale are required`);
  assertKnownOptions(fn, options, ['logitScale', 'bias', 'alpha', 'checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const [student, teacher] = assertMatrixPair(fn, { studentEmbeddings, teacherEmbeddings }, '[N, D]', checks);
  if (student.shape[0] < 2) {
    throw new Error(
      `${fn}: studentEmbeddings needs at least 2 rows (the other rows are the negatives), got ${student.shape[0]}`,
    );
  }
  if (options.logitScale === undefined)
    throw new Error(`${fn}: logitScale is required (a number or a scalar tensor > 0)`);
  const logitScale = assertNumberOrScalar(fn, 'logitScale', options.logitScale, { positive: true, checks });
  const bias = assertNumberOrScalar(fn, 'bias', options.bias ?? 0, { checks });
  const alpha = assertNumber(fn, 'alpha', options.alpha ?? 0.5, { nonNegative: true });

  return tf.tidy(() => {
    // L = κ · z_s z_tᵀ + b
    const similarity = tf.matMul(l2NormalizeRows(student), l2NormalizeRows(teacher), false, true);
    const logits = tf.add<tf.Tensor2D>(tf.mul(logitScale, similarity), bias);
    const contrastive = diagonalCrossEntropy(logits);
    // KL(R_i ‖ P_i): row i of logSoftmax(Lᵀ) is log R_i (column i of L), row i of logSoftmax(L) is log P_i.
    const invariance = tf.mean(klDivergencePerRow(tf.logSoftmax(tf.transpose(logits)), tf.logSoftmax(logits)));
    return tf.add(contrastive, tf.mul(alpha, invariance)) as tf.Scalar;
  });
}
