import {
  describeWithBackends,
  expectClose,
  expectGradientMatchesFiniteDifferences,
  expectThrowsWith,
  randomTensor,
  scalarOf,
  tf,
} from '@kd/test-utils';
import { expect, it } from 'vitest';
import { abLoss } from './ab-loss';
import { expectFiniteValueAndGradient } from './__fixtures__/checks';

/** (1/B) Σ (s+m)²[s > −m ∧ t ≤ 0] + (s−m)²[s ≤ m ∧ t > 0], with loops. */
function referenceAb(student: tf.Tensor, teacher: tf.Tensor, margin = 1): number {
  const s = student.dataSync();
  const t = teacher.dataSync();
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    const x = s[i] as number;
    const y = t[i] as number;
    if (x > -margin && y <= 0) sum += (x + margin) ** 2;
    if (x <= margin && y > 0) sum += (x - margin) ** 2;
  }
  return sum / (student.shape[0] as number);
}

describeWithBackends('abLoss', () => {
  it('matches a loop computation for one layer and for other margins', () => {
    const s = randomTensor([3, 2, 2, 4], 1, -2, 2);
    const t = randomTensor([3, 2, 2, 4], 2);
    expectClose(scalarOf(abLoss(s, t)), referenceAb(s, t));
    expectClose(scalarOf(abLoss(s, t, { margin: 0.5 })), referenceAb(s, t, 0.5));
    expectClose(scalarOf(abLoss(s, t, { margin: 0 })), referenceAb(s, t, 0));
    tf.dispose([s, t]);
  });

  it('applies the layer weights 2^(i−n+1) and 3/1000 to a list of layers', () => {
    const s1 = randomTensor([2, 4, 4, 2], 3, -2, 2);
    const t1 = randomTensor([2, 4, 4, 2], 4);
    const s2 = randomTensor([2, 2, 2, 3], 5, -2, 2);
    const t2 = randomTensor([2, 2, 2, 3], 6);
    const s3 = randomTensor([2, 1, 1, 5], 7, -2, 2);
    const t3 = randomTensor([2, 1, 1, 5], 8);
    const expected = (3 / 1000) * (0.25 * referenceAb(s1, t1) + 0.5 * referenceAb(s2, t2) + referenceAb(s3, t3));
    expectClose(scalarOf(abLoss([s1, s2, s3], [t1, t2, t3])), expected);
    expectClose(scalarOf(abLoss([s3], [t3])), 0.003 * referenceAb(s3, t3));
    tf.dispose([s1, t1, s2, t2, s3, t3]);
  });

  it('has the gradient of central finite differences', () => {
    const s = randomTensor([2, 2, 2, 3], 9, -2, 2);
    const t = randomTensor([2, 2, 2, 3], 10);
    expectGradientMatchesFiniteDifferences((x) => abLoss(x, t), s);
    tf.dispose([s, t]);
  });

  it("is zero exactly when the student is beyond the margin on the teacher's side", () => {
    const t = tf.tensor4d([1, -1, 0.2, -0.3], [1, 2, 2, 1]);
    const s = tf.tensor4d([1, -1, 3, -2], [1, 2, 2, 1]);
    const inside = tf.tensor4d([0.9, -1, 3, -2], [1, 2, 2, 1]);
    expect(scalarOf(abLoss(s, t))).toBe(0);
    expectClose(scalarOf(abLoss(inside, t)), 0.1 ** 2);
    tf.dispose([t, s, inside]);
  });

  it('stays finite for values of ±1e3', () => {
    const s = randomTensor([2, 2, 2, 3], 11, -1e3, 1e3);
    const t = randomTensor([2, 2, 2, 3], 12, -1e3, 1e3);
    expectClose(scalarOf(abLoss(s, t)), referenceAb(s, t));
    expectFiniteValueAndGradient((x) => abLoss(x, t), s);
    tf.dispose([s, t]);
  });

  it('rejects bad input naming the function and the argument', () => {
    const good = tf.zeros([2, 2, 2, 3]);
    const otherShape = tf.zeros([2, 2, 2, 4]);
    const vector = tf.zeros([2, 3]);
    const nan = tf.fill([2, 2, 2, 3], Number.NaN);
    const fn = 'abLoss';
    expectThrowsWith(() => abLoss(vector, good), fn, 'studentPreact', 'rank 4');
    expectThrowsWith(() => abLoss(good, otherShape), fn, 'studentPreact', 'teacherPreact', 'same shape');
    expectThrowsWith(() => abLoss([good, good], [good, otherShape]), fn, 'teacherPreacts[1]', 'same shape');
    expectThrowsWith(() => abLoss(nan, good), fn, 'studentPreact', 'NaN');
    expectThrowsWith(() => abLoss(good, good, { margin: -1 }), fn, 'options.margin');
    expectThrowsWith(() => abLoss(good, good, { margin: Number.NaN }), fn, 'options.margin');
    tf.dispose([good, otherShape, vector, nan]);
  });
});
