/**
 * Activation-boundary distillation (AB, Heo et al., AAAI 2019), as RepDistiller's `AB.py` computes it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertNumber, assertKnownOptions, assertSameShape } from '../validate';
import { featurePairs, valueChecks, type FeatureInput, type ValueCheckOption } from './common';

export interface AbLossOptions extends ValueCheckOption {
  /** Margin m of the activation boundary. Default 1. Must be >= 0. */
  margin?: number;
}

/**
 * Activation-boundary loss on pre-activation maps (before the ReLU). The student's map must already have the
 * teacher's shape (RepDistiller's `Connector`: a conv + BN when shapes differ, the identity otherwise).
 *
 * For one layer, summing over every element:
 *
 *   L = (1/B) Σ (s + m)² · [s > −m ∧ t ≤ 0] + (s − m)² · [s ≤ m ∧ t > 0]
 *
 * i.e. the student is pushed below −m where the teacher's neuron is off and above m where it is on.
 * Given two lists of n layers (RepDistiller: `feat[1:-1]`), the reference's full weighting applies:
 *
 *   L = (3/1000) · Σ_{i=0}^{n−1} 2^(i−n+1) · L_i
 *
 * (the last layer has weight 1, each earlier one half the next). The single-pair form returns L_i without
 * these factors, so `abLoss([s], [t])` = 0.003 · `abLoss(s, t)`.
 *
 * Reference use: two stages; 30 initialisation epochs train the connectors and the student's feature layers on
 * this loss alone, then training is cross-entropy only (β = 1 is ignored in the main stage).
 *
 * @example
 * const loss = abLoss([s1, s2, s3], [t1, t2, t3], { margin: 1 }); // pre-ReLU maps, equal shapes per pair
 */
export function abLoss(
  studentPreact: FeatureInput,
  teacherPreact: FeatureInput,
  options: AbLossOptions = {},
): tf.Scalar {
  const fn = 'abLoss';
  assertKnownOptions(fn, options, ['margin', 'checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const margin = assertNumber(fn, 'options.margin', options.margin ?? 1, { nonNegative: true });
  const pairs = featurePairs(fn, 'studentPreact', studentPreact, 'teacherPreact', teacherPreact, checks);
  for (const pair of pairs) assertSameShape(fn, pair.studentArg, pair.student, pair.teacherArg, pair.teacher);
  const batch = (pairs[0] as { student: tf.Tensor }).student.shape[0] as number;
  return tf.tidy(() => {
    const perLayer = pairs.map(({ student, teacher }) => tf.div(boundaryLoss(student, teacher, margin), batch));
    if (!Array.isArray(studentPreact)) return perLayer[0] as tf.Scalar;
    const layers = perLayer.length;
    const weighted = perLayer.map((loss, index) => tf.mul(loss, 2 ** (index - layers + 1)));
    return tf.mul(tf.addN(weighted), 3 / 1000) as tf.Scalar;
  });
}

/** Σ (s+m)²·[s > −m ∧ t ≤ 0] + (s−m)²·[s ≤ m ∧ t > 0]. */
function boundaryLoss(student: tf.Tensor, teacher: tf.Tensor, margin: number): tf.Scalar {
  // Indicators as products of steps (step(x) = [x > 0]): step has a zero gradient in tfjs, whereas the
  // boolean ops (logicalAnd) have none registered and would break tf.grad.
  const teacherOn = tf.step(teacher);
  const teacherOff = tf.sub(1, teacherOn);
  const tooHigh = tf.mul(tf.step(tf.add(student, margin)), teacherOff);
  const tooLow = tf.mul(tf.sub(1, tf.step(tf.sub(student, margin))), teacherOn);
  return tf.sum(
    tf.add(tf.mul(tf.square(tf.add(student, margin)), tooHigh), tf.mul(tf.square(tf.sub(student, margin)), tooLow)),
  );
}
