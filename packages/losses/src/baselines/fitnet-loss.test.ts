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
import { fitNetLoss } from './fitnet-loss';

function referenceMse(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += ((x[i] as number) - (y[i] as number)) ** 2;
  return sum / x.length;
}

describeWithBackends('fitNetLoss', () => {
  it('is the mean squared error of maps and of vectors', () => {
    const s = randomTensor([2, 3, 3, 4], 1);
    const t = randomTensor([2, 3, 3, 4], 2);
    const sv = randomTensor([3, 5], 3);
    const tv = randomTensor([3, 5], 4);
    expectClose(scalarOf(fitNetLoss(s, t)), referenceMse(s, t));
    expectClose(scalarOf(fitNetLoss(sv, tv)), referenceMse(sv, tv));
    tf.dispose([s, t, sv, tv]);
  });

  it('has the gradient of central finite differences and is zero for equal inputs', () => {
    const s = randomTensor([2, 2, 2, 3], 5);
    const t = randomTensor([2, 2, 2, 3], 6);
    expectGradientMatchesFiniteDifferences((x) => fitNetLoss(x, t), s);
    expect(scalarOf(fitNetLoss(t, t))).toBe(0);
    tf.dispose([s, t]);
  });

  it('stays finite for values of ±1e3', () => {
    const s = randomTensor([2, 2, 2, 3], 7, -1e3, 1e3);
    const t = randomTensor([2, 2, 2, 3], 8, -1e3, 1e3);
    expectClose(scalarOf(fitNetLoss(s, t)), referenceMse(s, t));
    expectFiniteValueAndGradient((x) => fitNetLoss(x, t), s);
    tf.dispose([s, t]);
  });

  it('rejects bad input naming the function and the argument', () => {
    const good = tf.zeros([2, 3, 3, 4]);
    const other = tf.zeros([2, 3, 3, 5]);
    const rank3 = tf.zeros([2, 3, 3]);
    const inf = tf.fill([2, 3, 3, 4], Number.POSITIVE_INFINITY);
    const fn = 'fitNetLoss';
    expectThrowsWith(() => fitNetLoss(rank3, good), fn, 'regressedStudent', 'rank 2 or 4');
    expectThrowsWith(() => fitNetLoss(good, rank3), fn, 'teacherFeature', 'rank 2 or 4');
    expectThrowsWith(() => fitNetLoss(good, other), fn, 'regressedStudent', 'teacherFeature', 'same shape');
    expectThrowsWith(() => fitNetLoss(inf, good), fn, 'regressedStudent', 'Infinity');
    expectThrowsWith(() => fitNetLoss(good, inf), fn, 'teacherFeature', 'Infinity');
    expectThrowsWith(() => fitNetLoss([good] as never, good), fn, 'regressedStudent', 'tf.Tensor');
    tf.dispose([good, other, rank3, inf]);
  });
});
