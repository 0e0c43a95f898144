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
import { at2, attentionRows, matchSizes, readMap } from './__fixtures__/reference';
import { factorTransferLoss } from './factor-transfer-loss';

/** mean over N·HW of |a_s − a_t|^p2 with a = normalise(mean_c |f|^p1), with loops. */
function referenceFt(student: tf.Tensor, teacher: tf.Tensor, p1 = 2, p2 = 1): number {
  const [s, t] = matchSizes(readMap(student), readMap(teacher));
  const as = attentionRows(s, p1);
  const at = attentionRows(t, p1);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < as.length; i++) {
    for (let j = 0; j < (as[i] as number[]).length; j++) {
      sum += Math.abs(at2(as, i, j) - at2(at, i, j)) ** p2;
      count++;
    }
  }
  return sum / count;
}

describeWithBackends('factorTransferLoss', () => {
  it('matches a loop computation, pooling the larger map, for other exponents', () => {
    const s = randomTensor([2, 2, 2, 3], 1);
    const t = randomTensor([2, 4, 4, 2], 2);
    expectClose(scalarOf(factorTransferLoss(s, t)), referenceFt(s, t));
    expectClose(scalarOf(factorTransferLoss(s, t, { p1: 1, p2: 2 })), referenceFt(s, t, 1, 2));
    expectClose(scalarOf(factorTransferLoss(s, t, { p1: 3, p2: 1.5 })), referenceFt(s, t, 3, 1.5));
    tf.dispose([s, t]);
  });

  it('has the gradient of central finite differences', () => {
    const s = randomTensor([2, 2, 2, 3], 3);
    const t = randomTensor([2, 2, 2, 2], 4);
    expectGradientMatchesFiniteDifferences((x) => factorTransferLoss(x, t), s, { step: 1e-3 });
    expectGradientMatchesFiniteDifferences((x) => factorTransferLoss(x, t, { p2: 2 }), s, { step: 1e-3 });
    tf.dispose([s, t]);
  });

  it('is zero for equal factors and invariant to scaling a factor', () => {
    const s = randomTensor([2, 3, 3, 2], 5);
    const t = randomTensor([2, 3, 3, 4], 6);
    const scaled = tf.mul(s, -3);
    expect(scalarOf(factorTransferLoss(t, t))).toBe(0);
    expectClose(scalarOf(factorTransferLoss(scaled, t)), scalarOf(factorTransferLoss(s, t)));
    tf.dispose([s, t, scaled]);
  });

  it('stays finite for values of ±1e3', () => {
    const s = randomTensor([2, 2, 2, 3], 7, -1e3, 1e3);
    const t = randomTensor([2, 2, 2, 3], 8, -1e3, 1e3);
    expectClose(scalarOf(factorTransferLoss(s, t)), referenceFt(s, t));
    expectFiniteValueAndGradient((x) => factorTransferLoss(x, t), s);
    tf.dispose([s, t]);
  });

  it('rejects bad input naming the function and the argument', () => {
    const good = tf.zeros([2, 2, 2, 3]);
    const vector = tf.zeros([2, 3]);
    const otherBatch = tf.zeros([3, 2, 2, 3]);
    const nan = tf.fill([2, 2, 2, 3], Number.NaN);
    const fn = 'factorTransferLoss';
    expectThrowsWith(() => factorTransferLoss(vector, good), fn, 'studentFactor', 'rank 4');
    expectThrowsWith(() => factorTransferLoss(good, vector), fn, 'teacherFactor', 'rank 4');
    expectThrowsWith(() => factorTransferLoss(good, otherBatch), fn, 'batch sizes differ');
    expectThrowsWith(() => factorTransferLoss(nan, good), fn, 'studentFactor', 'NaN');
    expectThrowsWith(() => factorTransferLoss([good] as never, [good] as never), fn, 'not arrays');
    expectThrowsWith(() => factorTransferLoss(good, good, { p1: 0 }), fn, 'options.p1');
    expectThrowsWith(() => factorTransferLoss(good, good, { p2: Number.POSITIVE_INFINITY }), fn, 'options.p2');
    tf.dispose([good, vector, otherBatch, nan]);
  });
});
