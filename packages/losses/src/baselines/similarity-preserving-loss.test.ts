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
import { dot, normalizeRow, type Matrix } from './__fixtures__/reference';
import { similarityPreservingLoss } from './similarity-preserving-loss';

function rowsOf(tensor: tf.Tensor): Matrix {
  const batch = tensor.shape[0] as number;
  const values = Array.from(tensor.dataSync());
  const width = values.length / batch;
  return Array.from({ length: batch }, (_, i) => values.slice(i * width, (i + 1) * width));
}

function normalizedGram(rows: Matrix): Matrix {
  return rows.map((a) => normalizeRow(rows.map((b) => dot(a, b))));
}

/** ‖G_t − G_s‖²_F / B² with loops. */
function referenceSp(student: tf.Tensor, teacher: tf.Tensor): number {
  const gs = normalizedGram(rowsOf(student));
  const gt = normalizedGram(rowsOf(teacher));
  let sum = 0;
  for (let i = 0; i < gs.length; i++) {
    for (let j = 0; j < gs.length; j++)
      sum += (((gt[i] as number[])[j] as number) - ((gs[i] as number[])[j] as number)) ** 2;
  }
  return sum / (gs.length * gs.length);
}

describeWithBackends('similarityPreservingLoss', () => {
  it('matches a loop computation for maps of different widths and for vectors', () => {
    const s = randomTensor([4, 2, 2, 3], 1);
    const t = randomTensor([4, 4, 4, 2], 2);
    const sv = randomTensor([3, 6], 3);
    expectClose(scalarOf(similarityPreservingLoss(s, t)), referenceSp(s, t));
    const t3 = tf.slice(t, [0, 0, 0, 0], [3, 4, 4, 2]);
    expectClose(scalarOf(similarityPreservingLoss(sv, t3)), referenceSp(sv, t3));
    tf.dispose([s, t, sv, t3]);
  });

  it('has the gradient of central finite differences', () => {
    const s = randomTensor([3, 2, 2, 2], 4);
    const t = randomTensor([3, 2, 2, 3], 5);
    expectGradientMatchesFiniteDifferences((x) => similarityPreservingLoss(x, t), s);
    tf.dispose([s, t]);
  });

  it('is zero for equal inputs and invariant to scaling either input', () => {
    const s = randomTensor([3, 2, 2, 2], 6);
    const t = randomTensor([3, 5], 7);
    const scaled = tf.mul(s, 40);
    expect(scalarOf(similarityPreservingLoss(s, s))).toBeCloseTo(0, 6);
    expectClose(scalarOf(similarityPreservingLoss(scaled, t)), scalarOf(similarityPreservingLoss(s, t)));
    tf.dispose([s, t, scaled]);
  });

  it('stays finite for values of ±1e3', () => {
    const s = randomTensor([3, 2, 2, 2], 8, -1e3, 1e3);
    const t = randomTensor([3, 2, 2, 4], 9, -1e3, 1e3);
    expectClose(scalarOf(similarityPreservingLoss(s, t)), referenceSp(s, t));
    expectFiniteValueAndGradient((x) => similarityPreservingLoss(x, t), s);
    tf.dispose([s, t]);
  });

  it('rejects bad input naming the function and the argument', () => {
    const good = tf.zeros([3, 2, 2, 2]);
    const otherBatch = tf.zeros([2, 4]);
    const rank3 = tf.zeros([3, 2, 2]);
    const nan = tf.fill([3, 4], Number.NaN);
    const fn = 'similarityPreservingLoss';
    expectThrowsWith(() => similarityPreservingLoss(rank3, good), fn, 'studentFeature', 'rank 2 or 4');
    expectThrowsWith(() => similarityPreservingLoss(good, rank3), fn, 'teacherFeature', 'rank 2 or 4');
    expectThrowsWith(() => similarityPreservingLoss(good, otherBatch), fn, 'batch sizes differ');
    expectThrowsWith(() => similarityPreservingLoss(nan, good), fn, 'studentFeature', 'NaN');
    expectThrowsWith(() => similarityPreservingLoss(good, nan), fn, 'teacherFeature', 'NaN');
    tf.dispose([good, otherBatch, rank3, nan]);
  });
});
