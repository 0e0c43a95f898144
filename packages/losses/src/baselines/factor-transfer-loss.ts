/**
 * Factor transfer (FT, Kim et al., NeurIPS 2018), as RepDistiller's `FT.py` computes it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { matchSpatialSize } from '../spatial';
import { assertKnownOptions } from '../validate';
import { attentionMap } from './attention-transfer-loss';
import { absolutePower, exponentOption, featurePairs, valueChecks, type ValueCheckOption } from './common';

export interface FactorTransferLossOptions extends ValueCheckOption {
  /** Exponent p1 of the factor map mean_c(|factor|^p1). Default 2. Must be >= 1. */
  p1?: number;
  /** Distance exponent p2: 1 = mean absolute error (the reference), 2 = mean squared error. Default 1. Must be >= 1. */
  p2?: number;
}

/**
 * Factor-transfer loss between the student's translated factor and the teacher's paraphrased factor (NHWC
 * maps; the paraphraser and translator are trainable heads).
 *
 * With a(f) = L2-normalise over the H·W positions of mean_c(|f|^p1) (AT's attention map):
 *
 *   L = mean over the N·H·W entries of |a(F_s) − a(F_t)|^p2
 *
 * p1 = 2, p2 = 1 by default, i.e. the mean absolute difference of the normalised factor maps. The larger map
 * is average-pooled to the smaller one; channel counts may differ.
 *
 * Reference use: the paraphraser is pretrained 30 epochs on reconstruction, then frozen; β = 200 (γ = 1, α = 0).
 *
 * @example
 * const loss = factorTransferLoss(translator(studentMap), paraphraserEncoder(teacherMap));
 */
export function factorTransferLoss(
  studentFactor: tf.Tensor,
  teacherFactor: tf.Tensor,
  options: FactorTransferLossOptions = {},
): tf.Scalar {
  const fn = 'factorTransferLoss';
  assertKnownOptions(fn, options, ['p1', 'p2', 'checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const p1 = exponentOption(fn, 'options.p1', options.p1 ?? 2);
  const p2 = exponentOption(fn, 'options.p2', options.p2 ?? 1);
  if (Array.isArray(studentFactor) || Array.isArray(teacherFactor)) {
    throw new Error(`${fn}: studentFactor and teacherFactor must be single tensors [N, H, W, C], not arrays`);
  }
  const [pair] = featurePairs(fn, 'studentFactor', studentFactor, 'teacherFactor', teacherFactor, checks);
  const { student, teacher } = pair as { student: tf.Tensor; teacher: tf.Tensor };
  return tf.tidy(() => {
    const [s, t] = matchSpatialSize({ fn, student, teacher });
    return tf.mean(absolutePower(tf.sub(attentionMap(s, p1), attentionMap(t, p1)), p2)) as tf.Scalar;
  });
}
