import * as tf from '@tensorflow/tfjs-core';
import { assertLabels, assertNumber } from '../validate';
import {
  assertKnownOptions,
  assertMatrixPair,
  klDivergencePerRow,
  oneHotFloat,
  valueChecks,
  type ValueCheckOption,
} from './shared';

export interface DkdLossOptions extends ValueCheckOption {
  /** Weight α of the target-class term TCKD (≥ 0). Default 1. */
  alpha?: number;
  /** Weight β of the non-target-class term NCKD (≥ 0). Default 8. */
  beta?: number;
  /** Softmax temperature T (> 0). Default 4. */
  temperature?: number;
}

/**
 * Decoupled knowledge distillation (Zhao et al., CVPR 2022). KD splits into a target-class part and a
 * non-target part, which DKD weights independently. With p = softmax(z / T) and y the label:
 *
 *   b = [p_y, 1 − p_y]                               (binary target / non-target masses)
 *   p̂_c = p_c / (1 − p_y),  c ≠ y                     (distribution among the non-target classes)
 *   TCKD = KL(b^T ‖ b^S),   NCKD = KL(p̂^T ‖ p̂^S)
 *   L = T² · (1/N) Σ_i ( α · TCKD_i + β · NCKD_i )
 *
 * Stable for logits of ±1e3: everything is in log space, with log(1 − p_y) = LSE_{c≠y}(z/T) − LSE_c(z/T),
 * and the non-target log-sum-exp is shifted by the largest non-target logit so it never sees the target
 * entry (no −Infinity masks, whose products give NaN gradients). Needs C ≥ 2.
 *
 * @param studentLogits float32 `[N, C]`.
 * @param teacherLogits float32 `[N, C]`.
 * @param labels int32 `[N]`, the ground-truth classes.
 *
 * @example
 * const loss = dkdLoss(studentLogits, teacherLogits, labels, { alpha: 1, beta: 8, temperature: 4 });
 */
export function dkdLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  labels: tf.Tensor,
  options: DkdLossOptions = {},
): tf.Scalar {
  const fn = 'dkdLoss';
  assertKnownOptions(fn, options, ['alpha', 'beta', 'temperature', 'checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const [student, teacher] = assertMatrixPair(fn, { studentLogits, teacherLogits }, '[N, C]', checks);
  const [batchSize, numClasses] = student.shape;
  if (numClasses < 2) throw new Error(`${fn}: studentLogits needs at least 2 classes, got ${numClasses}`);
  const y = assertLabels(fn, 'labels', labels, numClasses, batchSize, checks);
  const alpha = assertNumber(fn, 'alpha', options.alpha ?? 1, { nonNegative: true });
  const beta = assertNumber(fn, 'beta', options.beta ?? 8, { nonNegative: true });
  const temperature = assertNumber(fn, 'temperature', options.temperature ?? 4, { positive: true });

  return tf.tidy(() => {
    const targetMask = oneHotFloat(y, numClasses);
    const isTarget = tf.greater(targetMask, 0);
    const nonTargetMask = tf.sub(1, targetMask);
    const teacherParts = decouple(tf.div(teacher, temperature), isTarget, targetMask, nonTargetMask);
    const studentParts = decouple(tf.div(student, temperature), isTarget, targetMask, nonTargetMask);

    // TCKD_i = KL([p_y, 1 − p_y]^T ‖ [p_y, 1 − p_y]^S)
    const targetClassKd = klDivergencePerRow(teacherParts.logBinary, studentParts.logBinary);
    // NCKD_i = Σ_{c≠y} p̂^T_c (log p̂^T_c − log p̂^S_c); the target column is masked out of the sum
    const nonTargetKd = tf.sum(
      tf.mul(
        nonTargetMask,
        tf.mul(tf.exp(teacherParts.logNonTarget), tf.sub(teacherParts.logNonTarget, studentParts.logNonTarget)),
      ),
      1,
    );
    const perSample = tf.add(tf.mul(alpha, targetClassKd), tf.mul(beta, nonTargetKd));
    return tf.mul(tf.mean(perSample), temperature * temperature) as tf.Scalar;
  });
}

/**
 * Log of the binary distribution [p_y, 1 − p_y] (`[N, 2]`) and log p̂ over the non-target classes
 * (`[N, C]`, finite but meaningless in the target column) for logits already divided by T.
 */
function decouple(
  scaled: tf.Tensor2D,
  isTarget: tf.Tensor,
  targetMask: tf.Tensor,
  nonTargetMask: tf.Tensor,
): { logBinary: tf.Tensor2D; logNonTarget: tf.Tensor2D } {
  const logSumExpAll = tf.logSumExp(scaled, 1, true);
  // Put the target entry below every non-target one, so the row max is the largest non-target logit and
  // exp(entry − max) at the target is < 1 (finite) before the mask zeroes it.
  const belowEverything = tf.sub(tf.min(scaled, 1, true), 1);
  const withoutTarget = tf.where(isTarget, tf.broadcastTo(belowEverything, scaled.shape), scaled);
  const nonTargetMax = tf.max(withoutTarget, 1, true);
  const nonTargetSum = tf.sum(tf.mul(nonTargetMask, tf.exp(tf.sub(withoutTarget, nonTargetMax))), 1, true);
  const logSumExpNonTarget = tf.add(nonTargetMax, tf.log(nonTargetSum));
  const targetLogit = tf.sum(tf.mul(targetMask, scaled), 1, true);
  const logTarget = tf.sub(targetLogit, logSumExpAll); // log p_y
  const logRest = tf.sub(logSumExpNonTarget, logSumExpAll); // log(1 − p_y)
  return {
    logBinary: tf.concat([logTarget, logRest], 1) as tf.Tensor2D,
    logNonTarget: tf.sub(withoutTarget, logSumExpNonTarget) as tf.Tensor2D, // log p̂_c = z_c/T − LSE_{c≠y}
  };
}
