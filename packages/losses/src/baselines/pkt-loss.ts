/**
 * Probabilistic knowledge transfer (PKT, Passalis & Tefas, ECCV 2018), as RepDistiller's `PKT.py` computes it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertNumber, assertKnownOptions } from '../validate';
import { checkFeaturePair, valueChecks, type PairSpec, type ValueCheckOption } from './common';

export interface PktLossOptions extends ValueCheckOption {
  /** ε added to norms and probabilities. Default 1e-7 (the reference). */
  epsilon?: number;
}

/**
 * Probabilistic knowledge transfer: match the batch's conditional-probability distributions built from
 * cosine similarities.
 *
 *   x̂_i = x_i / (‖x_i‖ + ε),   S = (x̂ x̂ᵀ + 1) / 2,   P_ij = S_ij / Σ_k S_ik
 *   L = mean over all B² entries of P^t_ij · log((P^t_ij + ε) / (P^s_ij + ε))
 *
 * Student and teacher widths may differ. RepDistiller applies it to the pooled vectors `feat[-1]`.
 *
 * Reference weight in the total loss: β = 30000 (γ = 1, α = 0).
 *
 * @example
 * const loss = pktLoss(studentPooled, teacherPooled); // [64,64] vs [64,256]
 */
export function pktLoss(
  studentEmbedding: tf.Tensor,
  teacherEmbedding: tf.Tensor,
  options: PktLossOptions = {},
): tf.Scalar {
  const fn = 'pktLoss';
  assertKnownOptions(fn, options, ['epsilon', 'checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const epsilon = assertNumber(fn, 'options.epsilon', options.epsilon ?? 1e-7, { positive: true });
  const spec: PairSpec = { ranks: 2, layout: '[N, D]', agree: 'batch' };
  const [s, t] = checkFeaturePair(fn, { studentEmbedding, teacherEmbedding }, spec, checks);
  return tf.tidy(() => {
    const studentProbabilities = similarityProbabilities(s, epsilon);
    const teacherProbabilities = similarityProbabilities(t, epsilon);
    const logRatio = tf.sub(
      tf.log(tf.add(teacherProbabilities, epsilon)),
      tf.log(tf.add(studentProbabilities, epsilon)),
    );
    return tf.mean(tf.mul(teacherProbabilities, logRatio)) as tf.Scalar;
  });
}

/** P = rows-sum-to-one of (cos-similarity + 1) / 2. */
function similarityProbabilities(x: tf.Tensor, epsilon: number): tf.Tensor2D {
  // ‖x‖ = sqrt(max(Σx², 1e-30)): the same value up to 1e-15, but a finite gradient for an all-zero row.
  const norms = tf.sqrt(tf.maximum(tf.sum(tf.square(x), 1, true), 1e-30));
  const unit = tf.div(x, tf.add(norms, epsilon)) as tf.Tensor2D;
  const similarity = tf.div(tf.add(tf.matMul(unit, unit, false, true), 1), 2);
  return tf.div(similarity, tf.sum(similarity, 1, true)) as tf.Tensor2D;
}
