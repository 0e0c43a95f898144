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
import { readMatrix, type Matrix } from './__fixtures__/reference';
import { rkdLoss } from './rkd-loss';

function smoothL1(x: number): number {
  const a = Math.abs(x);
  return a < 1 ? 0.5 * a * a : a - 0.5;
}

function distanceMatrix(x: Matrix): Matrix {
  const n = x.length;
  const d: Matrix = [];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const row: number[] = [];
    for (let j = 0; j < n; j++) {
      let sq = 0;
      for (let k = 0; k < (x[i] as number[]).length; k++)
        sq += (((x[i] as number[])[k] as number) - ((x[j] as number[])[k] as number)) ** 2;
      const value = i === j ? 0 : Math.sqrt(Math.max(sq, 1e-12));
      row.push(value);
      sum += value;
    }
    d.push(row);
  }
  const mean = sum / (n * (n - 1));
  return d.map((row) => row.map((v) => v / mean));
}

function unit(x: Matrix, a: number, b: number): number[] {
  const v = (x[b] as number[]).map((value, k) => value - ((x[a] as number[])[k] as number));
  const norm = Math.max(Math.sqrt(v.reduce((s, e) => s + e * e, 0)), 1e-12);
  return v.map((e) => e / norm);
}

/** w_d · mean smoothL1 over B² distances + w_a · mean smoothL1 over B³ angles, with loops. */
function referenceRkd(student: tf.Tensor, teacher: tf.Tensor, wd = 25, wa = 50): number {
  const s = readMatrix(student);
  const t = readMatrix(teacher);
  const n = s.length;
  const ds = distanceMatrix(s);
  const dt = distanceMatrix(t);
  let distance = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      distance += smoothL1(((ds[i] as number[])[j] as number) - ((dt[i] as number[])[j] as number));
  let angle = 0;
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      for (let c = 0; c < n; c++) {
        const cs = unit(s, a, b).reduce((acc, v, k) => acc + v * (unit(s, a, c)[k] as number), 0);
        const ct = unit(t, a, b).reduce((acc, v, k) => acc + v * (unit(t, a, c)[k] as number), 0);
        angle += smoothL1(cs - ct);
      }
    }
  }
  return (wd * distance) / (n * n) + (wa * angle) / (n * n * n);
}

describeWithBackends('rkdLoss', () => {
  it('matches a loop computation (both terms, widths differ, large differences hit the linear part)', () => {
    const s = randomTensor([5, 3], 1);
    const t = randomTensor([5, 4], 2, -3, 3);
    expectClose(scalarOf(rkdLoss(s, t)), referenceRkd(s, t));
    expectClose(scalarOf(rkdLoss(s, t, { distanceWeight: 1, angleWeight: 0 })), referenceRkd(s, t, 1, 0));
    expectClose(scalarOf(rkdLoss(s, t, { distanceWeight: 0, angleWeight: 1 })), referenceRkd(s, t, 0, 1));
    const far = tf.tensor2d([
      [0, 0],
      [10, 0],
      [0, 0.1],
    ]);
    const near = tf.tensor2d([
      [0, 0],
      [0.1, 0],
      [0, 10],
    ]);
    const value = scalarOf(rkdLoss(far, near, { distanceWeight: 1, angleWeight: 0 }));
    expectClose(value, referenceRkd(far, near, 1, 0));
    tf.dispose([s, t, far, near]);
  });

  it('has the gradient of central finite differences for the student and none for the teacher', () => {
    const s = randomTensor([4, 3], 3);
    const t = randomTensor([4, 3], 4);
    expectGradientMatchesFiniteDifferences((x) => rkdLoss(x, t), s, { step: 1e-3 });
    const teacherGradient = tf.grad((x: tf.Tensor) => rkdLoss(s, x))(t);
    expect(Array.from(teacherGradient.dataSync()).every((g) => g === 0)).toBe(true);
    tf.dispose([s, t, teacherGradient]);
  });

  it('is zero for equal inputs and invariant to scaling and shifting the student', () => {
    const s = randomTensor([4, 3], 5);
    const t = randomTensor([4, 6], 6);
    const moved = tf.tidy(() => tf.add(tf.mul(s, 3.5), tf.tensor1d([1, -2, 4])));
    expectClose(scalarOf(rkdLoss(t, t)), 0, { atol: 1e-6 });
    expectClose(scalarOf(rkdLoss(moved, t)), scalarOf(rkdLoss(s, t)), { rtol: 1e-4 });
    tf.dispose([s, t, moved]);
  });

  it('stays finite for values of ±1e3 and for repeated rows', () => {
    const s = randomTensor([4, 3], 7, -1e3, 1e3);
    const t = randomTensor([4, 3], 8, -1e3, 1e3);
    expectClose(scalarOf(rkdLoss(s, t)), referenceRkd(s, t));
    expectFiniteValueAndGradient((x) => rkdLoss(x, t), s);
    const repeated = tf.tensor2d([
      [1, 2],
      [1, 2],
      [0, 1],
    ]);
    const other = randomTensor([3, 2], 9);
    expectFiniteValueAndGradient((x) => rkdLoss(x, other), repeated);
    tf.dispose([s, t, repeated, other]);
  });

  it('rejects bad input naming the function and the argument', () => {
    const good = tf.zeros([3, 4]);
    const otherBatch = tf.zeros([2, 4]);
    const single = tf.zeros([1, 4]);
    const map = tf.zeros([3, 2, 2, 1]);
    const nan = tf.fill([3, 4], Number.NaN);
    const fn = 'rkdLoss';
    expectThrowsWith(() => rkdLoss(map, good), fn, 'studentEmbedding', 'rank 2');
    expectThrowsWith(() => rkdLoss(good, map), fn, 'teacherEmbedding', 'rank 2');
    expectThrowsWith(() => rkdLoss(good, otherBatch), fn, 'batch sizes differ');
    expectThrowsWith(() => rkdLoss(single, single), fn, 'at least 2');
    expectThrowsWith(() => rkdLoss(nan, good), fn, 'studentEmbedding', 'NaN');
    expectThrowsWith(() => rkdLoss(good, nan), fn, 'teacherEmbedding', 'NaN');
    expectThrowsWith(() => rkdLoss(good, good, { distanceWeight: -1 }), fn, 'options.distanceWeight');
    expectThrowsWith(() => rkdLoss(good, good, { angleWeight: Number.POSITIVE_INFINITY }), fn, 'options.angleWeight');
    expectThrowsWith(() => rkdLoss(good, good, null as never), fn, 'options');
    tf.dispose([good, otherBatch, single, map, nan]);
  });
});
