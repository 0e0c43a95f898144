import * as tf from '@tensorflow/tfjs-core';
import { assertNumber } from '../validate';
import { assertKnownOptions, assertMatrixPair, klDivergencePerRow, valueChecks, type ValueCheckOption } from './shared';

export interface KdLossOptions extends ValueCheckOption {
  /** Softmax temperature T (> 0). Default 4, RepDistiller's `--kd_T`. */
  temperature?: number;
}

/**
 * Hinton knowledge distillation (Hinton, Vinyals & Dean 2015):
 *
 *   L = T² · (1/N) Σ_i KL( softmax(t_i / T) ‖ softmax(s_i / T) )
 *
 * The T² factor keeps the gradient scale independent of T. Both distributions are handled as log
 * probabilities (logSoftmax), so logits of ±1e3 give finite values and gradients. Gradients reach both
 * arguments: compute the teacher's logits outside the gradient closure to keep the teacher fixed.
 *
 * @param studentLogits float32 `[N, C]`.
 * @param teacherLogits float32 `[N, C]`.
 * @returns a scalar in nats (times T²).
 *
 * @example
 * const loss = kdLoss(studentLogits, teacherLogits, { temperature: 4 });
 */
export function kdLoss(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, options: KdLossOptions = {}): tf.Scalar {
  const fn = 'kdLoss';
  assertKnownOptions(fn, options, ['temperature', 'checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const [student, teacher] = assertMatrixPair(fn, { studentLogits, teacherLogits }, '[N, C]', checks);
  const temperature = assertNumber(fn, 'temperature', options.temperature ?? 4, { positive: true });

  return tf.tidy(() => {
    const teacherLogProbabilities = tf.logSoftmax(tf.div<tf.Tensor2D>(teacher, temperature));
    const studentLogProbabilities = tf.logSoftmax(tf.div<tf.Tensor2D>(student, temperature));
    // T² · mean_i KL(p_t,i ‖ p_s,i)
    const divergence = tf.mean(klDivergencePerRow(teacherLogProbabilities, studentLogProbabilities));
    return tf.mul(divergence, temperature * temperature) as tf.Scalar;
  });
}
