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
import { readMatrix } from './__fixtures__/reference';
import { correlationCongruenceLoss } from './correlation-congruence-loss';

/** mean over i < B−1 of Σ_d |s−t|_{i,d} · |s−t|_{i+1,d}, with loops. */
function referenceCc(student: tf.Tensor, teacher: tf.Tensor): number {
  const s = readMatrix(student);
  const t = readMatrix(teacher);
  let total = 0;
  for (let i = 0; i + 1 < s.length; i++) {
    for (let d = 0; d < (s[i] as number[]).length; d++) {
      const here = Math.abs(((s[i] as number[])[d] as number) - ((t[i] as number[])[d] as number));
      const next = Math.abs(((s[i + 1] as number[])[d] as number) - ((t[i + 1] as number[])[d] as number));
      total += here * next;
    }
  }
  return total / (s.length - 1);
}

describeWithBackends('correlationCongruenceLoss', () => {
  it('matches a loop computation over consecutive pairs', () => {
    const s = randomTensor([5, 6], 1);
    const t = randomTensor([5, 6], 2);
    expectClose(scalarOf(correlationCongruenceLoss(s, t)), referenceCc(s, t));
    const pair = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const zero = tf.zeros([2, 2]);
    expectClose(scalarOf(correlationCongruenceLoss(pair, zero)), 1 * 3 + 2 * 4);
    tf.dispose([s, t, pair, zero]);
  });

  it('has the gradient of central finite differences, zero at equal inputs', () => {
    const s = randomTensor([4, 3], 3);
    const t = randomTensor([4, 3], 4);
    expectGradientMatchesFiniteDifferences((x) => correlationCongruenceLoss(x, t), s);
    expect(scalarOf(correlationCongruenceLoss(t, t))).toBe(0);
    const gradient = tf.grad((x: tf.Tensor) => correlationCongruenceLoss(x, t))(t);
    expect(Array.from(gradient.dataSync()).every((g) => g === 0)).toBe(true);
    tf.dispose([s, t, gradient]);
  });

  it('stays finite for values of ±1e3', () => {
    const s = randomTensor([4, 3], 5, -1e3, 1e3);
    const t = randomTensor([4, 3], 6, -1e3, 1e3);
    expectClose(scalarOf(correlationCongruenceLoss(s, t)), referenceCc(s, t));
    expectFiniteValueAndGradient((x) => correlationCongruenceLoss(x, t), s);
    tf.dispose([s, t]);
  });

  it('rejects bad input naming the function and the argument', () => {
    const good = tf.zeros([3, 4]);
    const wide = tf.zeros([3, 5]);
    const single = tf.zeros([1, 4]);
    const map = tf.zeros([3, 2, 2, 1]);
    const nan = tf.fill([3, 4], Number.NaN);
    const fn = 'correlationCongruenceLoss';
    expectThrowsWith(() => correlationCongruenceLoss(map, good), fn, 'studentEmbedding', 'rank 2');
    expectThrowsWith(() => correlationCongruenceLoss(good, map), fn, 'teacherEmbedding', 'rank 2');
    expectThrowsWith(() => correlationCongruenceLoss(good, wide), fn, 'same shape');
    expectThrowsWith(() => correlationCongruenceLoss(single, single), fn, 'at least 2');
    expectThrowsWith(() => correlationCongruenceLoss(nan, good), fn, 'studentEmbedding', 'NaN');
    expectThrowsWith(() => correlationCongruenceLoss(good, nan), fn, 'teacherEmbedding', 'NaN');
    tf.dispose([good, wide, single, map, nan]);
  });
});
