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
import { dot, readMatrix, type Matrix } from './__fixtures__/reference';
import { pktLoss } from './pkt-loss';

function probabilities(x: Matrix, epsilon: number): Matrix {
  const unit = x.map((row) => {
    const norm = Math.sqrt(dot(row, row));
    return row.map((v) => v / (norm + epsilon));
  });
  return unit.map((a) => {
    const similarity = unit.map((b) => (dot(a, b) + 1) / 2);
    const total = similarity.reduce((s, v) => s + v, 0);
    return similarity.map((v) => v / total);
  });
}

/** mean over B² of p_t · log((p_t + ε)/(p_s + ε)), with loops. */
function referencePkt(student: tf.Tensor, teacher: tf.Tensor, epsilon = 1e-7): number {
  const ps = probabilities(readMatrix(student), epsilon);
  const pt = probabilities(readMatrix(teacher), epsilon);
  let sum = 0;
  for (let i = 0; i < ps.length; i++) {
    for (let j = 0; j < ps.length; j++) {
      const q = (pt[i] as number[])[j] as number;
      sum += q * Math.log((q + epsilon) / (((ps[i] as number[])[j] as number) + epsilon));
    }
  }
  return sum / (ps.length * ps.length);
}

describeWithBackends('pktLoss', () => {
  it('matches a loop computation for different widths and epsilons', () => {
    const s = randomTensor([5, 3], 1);
    const t = randomTensor([5, 7], 2);
    expectClose(scalarOf(pktLoss(s, t)), referencePkt(s, t));
    expectClose(scalarOf(pktLoss(s, t, { epsilon: 0.1 })), referencePkt(s, t, 0.1));
    tf.dispose([s, t]);
  });

  it('has the gradient of central finite differences', () => {
    const s = randomTensor([4, 3], 3);
    const t = randomTensor([4, 5], 4);
    expectGradientMatchesFiniteDifferences((x) => pktLoss(x, t), s, { step: 1e-3, atol: 1e-4 });
    tf.dispose([s, t]);
  });

  it('is zero for equal inputs and invariant to positive row scaling', () => {
    const s = randomTensor([4, 3], 5);
    const t = randomTensor([4, 5], 6);
    const scaled = tf.tidy(() => tf.mul(s, tf.tensor2d([[2], [0.5], [30], [7]])));
    expect(scalarOf(pktLoss(t, t))).toBe(0);
    expectClose(scalarOf(pktLoss(scaled, t)), scalarOf(pktLoss(s, t)), { rtol: 1e-4 });
    tf.dispose([s, t, scaled]);
  });

  it('stays finite for values of ±1e3 and for an all-zero row', () => {
    const s = randomTensor([4, 3], 7, -1e3, 1e3);
    const t = randomTensor([4, 3], 8, -1e3, 1e3);
    expectClose(scalarOf(pktLoss(s, t)), referencePkt(s, t));
    expectFiniteValueAndGradient((x) => pktLoss(x, t), s);
    const withZeroRow = tf.tensor2d([
      [0, 0, 0],
      [1, 2, 3],
      [-1, 0, 2],
      [0.5, 0.5, 0],
    ]);
    expectClose(scalarOf(pktLoss(withZeroRow, t)), referencePkt(withZeroRow, t));
    expectFiniteValueAndGradient((x) => pktLoss(x, t), withZeroRow);
    tf.dispose([s, t, withZeroRow]);
  });

  it('rejects bad input naming the function and the argument', () => {
    const good = tf.zeros([3, 4]);
    const otherBatch = tf.zeros([2, 4]);
    const map = tf.zeros([3, 2, 2, 1]);
    const inf = tf.fill([3, 4], Number.NEGATIVE_INFINITY);
    const fn = 'pktLoss';
    expectThrowsWith(() => pktLoss(map, good), fn, 'studentEmbedding', 'rank 2');
    expectThrowsWith(() => pktLoss(good, map), fn, 'teacherEmbedding', 'rank 2');
    expectThrowsWith(() => pktLoss(good, otherBatch), fn, 'batch sizes differ');
    expectThrowsWith(() => pktLoss(inf, good), fn, 'studentEmbedding', 'Infinity');
    expectThrowsWith(() => pktLoss(good, inf), fn, 'teacherEmbedding', 'Infinity');
    expectThrowsWith(() => pktLoss(good, good, { epsilon: 0 }), fn, 'options.epsilon', '> 0');
    expectThrowsWith(() => pktLoss(good, good, { epsilon: Number.NaN }), fn, 'options.epsilon');
    tf.dispose([good, otherBatch, map, inf]);
  });
});
