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
import { expectFiniteValueAndGradient } from './__fixtures__/checks';
import { attentionRows, at2, matchSizes, readMap } from './__fixtures__/reference';
import { attentionTransferLoss } from './attention-transfer-loss';

/** mean over N·HW of (a_s − a_t)², computed with loops. */
function referenceAt(student: tf.Tensor, teacher: tf.Tensor, p = 2): number {
  const [s, t] = matchSizes(readMap(student), readMap(teacher));
  const as = attentionRows(s, p);
  const at = attentionRows(t, p);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < as.length; i++) {
    for (let j = 0; j < (as[i] as number[]).length; j++) {
      sum += (at2(as, i, j) - at2(at, i, j)) ** 2;
      count++;
    }
  }
  return sum / count;
}

describeWithBackends('attentionTransferLoss', () => {
  it('matches a loop computation, pooling the larger map', () => {
    const student = randomTensor([3, 4, 4, 3], 1);
    const teacher = randomTensor([3, 2, 2, 5], 2);
    expectClose(scalarOf(attentionTransferLoss(student, teacher)), referenceAt(student, teacher));
    expectClose(scalarOf(attentionTransferLoss(teacher, student)), referenceAt(teacher, student));
    expectClose(scalarOf(attentionTransferLoss(student, teacher, { p: 3 })), referenceAt(student, teacher, 3));
    tf.dispose([student, teacher]);
  });

  it('sums the per-pair losses of two lists', () => {
    const s1 = randomTensor([2, 4, 4, 2], 3);
    const t1 = randomTensor([2, 4, 4, 3], 4);
    const s2 = randomTensor([2, 2, 2, 4], 5);
    const t2 = randomTensor([2, 2, 2, 6], 6);
    const expected = referenceAt(s1, t1) + referenceAt(s2, t2);
    expectClose(scalarOf(attentionTransferLoss([s1, s2], [t1, t2])), expected);
    tf.dispose([s1, t1, s2, t2]);
  });

  it('has the gradient of central finite differences', () => {
    const student = randomTensor([2, 4, 4, 2], 7);
    const teacher = randomTensor([2, 2, 2, 3], 8);
    expectGradientMatchesFiniteDifferences((x) => attentionTransferLoss(x, teacher), student, { step: 1e-3 });
    expectGradientMatchesFiniteDifferences((x) => attentionTransferLoss(student, x), teacher, { step: 1e-3 });
    tf.dispose([student, teacher]);
  });

  it('is zero for equal maps and invariant to scaling a map', () => {
    const teacher = randomTensor([2, 3, 3, 4], 9);
    const student = randomTensor([2, 3, 3, 2], 10);
    const scaled = tf.mul(student, -7.5);
    expect(scalarOf(attentionTransferLoss(teacher, teacher))).toBe(0);
    expectClose(scalarOf(attentionTransferLoss(scaled, teacher)), scalarOf(attentionTransferLoss(student, teacher)));
    tf.dispose([teacher, student, scaled]);
  });

  it('stays finite for activations of ±1e3 and for all-zero maps', () => {
    const student = randomTensor([2, 2, 2, 3], 11, -1e3, 1e3);
    const teacher = randomTensor([2, 2, 2, 3], 12, -1e3, 1e3);
    const zeros = tf.zeros([2, 2, 2, 3]);
    const value = scalarOf(attentionTransferLoss(student, teacher));
    expect(Number.isFinite(value)).toBe(true);
    expectClose(value, referenceAt(student, teacher));
    expectFiniteValueAndGradient((x) => attentionTransferLoss(x, teacher), student);
    expectFiniteValueAndGradient((x) => attentionTransferLoss(x, teacher), zeros);
    tf.dispose([student, teacher, zeros]);
  });

  it('rejects bad input naming the function and the argument', () => {
    const good = tf.zeros([2, 4, 4, 3]);
    const rank3 = tf.zeros([2, 4, 4]);
    const otherBatch = tf.zeros([3, 4, 4, 3]);
    const odd = tf.zeros([2, 3, 3, 3]);
    const nan = tf.fill([2, 4, 4, 3], Number.NaN);
    const ints = tf.zeros([2, 4, 4, 3], 'int32');
    const empty = tf.zeros([0, 4, 4, 3]);
    const fn = 'attentionTransferLoss';
    expectThrowsWith(() => attentionTransferLoss(rank3, good), fn, 'studentFeature', 'rank 4');
    expectThrowsWith(() => attentionTransferLoss(good, rank3), fn, 'teacherFeature', 'rank 4');
    expectThrowsWith(() => attentionTransferLoss(good, otherBatch), fn, 'batch sizes differ');
    expectThrowsWith(() => attentionTransferLoss(good, odd), fn, 'divide');
    expectThrowsWith(() => attentionTransferLoss(nan, good), fn, 'studentFeature', 'NaN');
    expectThrowsWith(() => attentionTransferLoss(good, nan), fn, 'teacherFeature', 'NaN');
    expectThrowsWith(() => attentionTransferLoss(ints, good), fn, 'studentFeature', 'float32');
    expectThrowsWith(() => attentionTransferLoss(empty, empty), fn, 'studentFeature', 'empty');
    expectThrowsWith(() => attentionTransferLoss(good, good, { p: 0.5 }), fn, 'options.p');
    expectThrowsWith(() => attentionTransferLoss(good, good, { p: Number.NaN }), fn, 'options.p');
    expectThrowsWith(() => attentionTransferLoss([good], good), fn, 'both be');
    expectThrowsWith(() => attentionTransferLoss([good, good], [good]), fn, 'studentFeatures', '2 maps');
    expectThrowsWith(() => attentionTransferLoss([], []), fn, 'studentFeatures', 'empty');
    expectThrowsWith(() => attentionTransferLoss([good, rank3], [good, good]), fn, 'studentFeatures[1]');
    expectThrowsWith(() => attentionTransferLoss([good, good], [good, otherBatch]), fn, 'teacherFeatures[1]', 'batch');
    expectThrowsWith(() => attentionTransferLoss(good, good, 3 as never), fn, 'options');
    tf.dispose([good, rank3, otherBatch, odd, nan, ints, empty]);
  });
});
