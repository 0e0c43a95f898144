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
import { at4, averagePool, readMap, shapeOf, type Map4 } from './__fixtures__/reference';
import { fspLoss } from './fsp-loss';

/** fsp[n][a][b] = (1/HW) Σ_hw lower[n,h,w,a]·upper[n,h,w,b], after pooling the larger map. */
function fspMatrix(lowerMap: Map4, upperMap: Map4): number[][][] {
  const [, lh, lw] = shapeOf(lowerMap);
  const [, uh, uw] = shapeOf(upperMap);
  const lower = lh > uh ? averagePool(lowerMap, uh, uw) : lowerMap;
  const upper = uh > lh ? averagePool(upperMap, lh, lw) : upperMap;
  const [n, h, w, ca] = shapeOf(lower);
  const cb = shapeOf(upper)[3];
  const result: number[][][] = [];
  for (let b = 0; b < n; b++) {
    const matrix: number[][] = [];
    for (let a = 0; a < ca; a++) {
      const row: number[] = [];
      for (let c = 0; c < cb; c++) {
        let sum = 0;
        for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) sum += at4(lower, b, i, j, a) * at4(upper, b, i, j, c);
        row.push(sum / (h * w));
      }
      matrix.push(row);
    }
    result.push(matrix);
  }
  return result;
}

/** Σ over consecutive pairs of the mean squared difference of FSP matrices, with loops. */
function referenceFsp(students: tf.Tensor[], teachers: tf.Tensor[]): number {
  const s = students.map(readMap);
  const t = teachers.map(readMap);
  let total = 0;
  for (let i = 0; i + 1 < s.length; i++) {
    const gs = fspMatrix(s[i] as Map4, s[i + 1] as Map4).flat(2);
    const gt = fspMatrix(t[i] as Map4, t[i + 1] as Map4).flat(2);
    total += gs.reduce((sum, v, k) => sum + (v - (gt[k] as number)) ** 2, 0) / gs.length;
  }
  return total;
}

describeWithBackends('fspLoss', () => {
  it('matches a loop computation, pooling the larger of consecutive maps', () => {
    const students = [randomTensor([2, 4, 4, 2], 1), randomTensor([2, 4, 4, 3], 2), randomTensor([2, 2, 2, 4], 3)];
    const teachers = [randomTensor([2, 2, 2, 2], 4), randomTensor([2, 4, 4, 3], 5), randomTensor([2, 2, 2, 4], 6)];
    expectClose(scalarOf(fspLoss(students, teachers)), referenceFsp(students, teachers));
    tf.dispose([...students, ...teachers]);
  });

  it('has the gradient of central finite differences', () => {
    const first = randomTensor([2, 2, 2, 2], 7);
    const second = randomTensor([2, 1, 1, 3], 8);
    const teachers = [randomTensor([2, 2, 2, 2], 9), randomTensor([2, 2, 2, 3], 10)];
    expectGradientMatchesFiniteDifferences((x) => fspLoss([x, second], teachers), first);
    expectGradientMatchesFiniteDifferences((x) => fspLoss([first, x], teachers), second);
    tf.dispose([first, second, ...teachers]);
  });

  it('is zero for equal features', () => {
    const maps = [randomTensor([2, 2, 2, 2], 11), randomTensor([2, 2, 2, 3], 12)];
    expect(scalarOf(fspLoss(maps, maps))).toBe(0);
    tf.dispose(maps);
  });

  it('stays finite for values of ±1e3', () => {
    const students = [randomTensor([2, 2, 2, 2], 13, -1e3, 1e3), randomTensor([2, 2, 2, 3], 14, -1e3, 1e3)];
    const teachers = [randomTensor([2, 2, 2, 2], 15, -1e3, 1e3), randomTensor([2, 2, 2, 3], 16, -1e3, 1e3)];
    expectClose(scalarOf(fspLoss(students, teachers)), referenceFsp(students, teachers));
    expectFiniteValueAndGradient((x) => fspLoss([x, students[1] as tf.Tensor], teachers), students[0] as tf.Tensor);
    tf.dispose([...students, ...teachers]);
  });

  it('rejects bad input naming the function and the argument', () => {
    const a = tf.zeros([2, 4, 4, 2]);
    const b = tf.zeros([2, 2, 2, 3]);
    const wide = tf.zeros([2, 2, 2, 6]);
    const odd = tf.zeros([2, 3, 3, 3]);
    const otherBatch = tf.zeros([3, 2, 2, 3]);
    const vector = tf.zeros([2, 3]);
    const nan = tf.fill([2, 2, 2, 3], Number.NaN);
    const fn = 'fspLoss';
    expectThrowsWith(
      () => fspLoss([a, b], [a, wide]),
      fn,
      'studentFeatures[1]',
      'teacherFeatures[1]',
      'channels',
      'wrn40-1',
    );
    expectThrowsWith(() => fspLoss([a], [a]), fn, 'studentFeatures', 'at least 2');
    expectThrowsWith(() => fspLoss(a as never, [a, b]), fn, 'studentFeatures', 'array');
    expectThrowsWith(() => fspLoss([a, b], [a, b, b]), fn, '2 maps', '3');
    expectThrowsWith(() => fspLoss([a, vector], [a, b]), fn, 'studentFeatures[1]', 'rank 4');
    expectThrowsWith(() => fspLoss([a, b], [a, nan]), fn, 'teacherFeatures[1]', 'NaN');
    expectThrowsWith(() => fspLoss([a, otherBatch], [a, b]), fn, 'studentFeatures[1]', 'batch');
    expectThrowsWith(() => fspLoss([a, odd], [a, odd]), fn, 'studentFeatures[0]', 'multiple');
    tf.dispose([a, b, wide, odd, otherBatch, vector, nan]);
  });
});
