import {
  describeWithBackends,
  expectArraysClose,
  expectClose,
  expectGradientMatchesFiniteDifferences,
  expectThrowsWith,
  randomTensor,
  scalarOf,
  tf,
} from '@kd/test-utils';
import { it } from 'vitest';
import { expectFiniteValueAndGradient } from './__fixtures__/checks';
import {
  at4,
  dot,
  matchSizes,
  normalizeRow,
  readMap,
  shapeOf,
  toMap,
  type Map4,
  type Matrix,
} from './__fixtures__/reference';
import { nstLoss } from './nst-loss';

/** channels[n][c] = the normalised H·W activations of channel c of sample n. */
function channelVectors(map: Map4): Matrix[] {
  const [n, h, w, c] = shapeOf(map);
  const samples: Matrix[] = [];
  for (let b = 0; b < n; b++) {
    const channels: Matrix = [];
    for (let k = 0; k < c; k++) {
      const values: number[] = [];
      for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) values.push(at4(map, b, i, j, k));
      channels.push(normalizeRow(values));
    }
    samples.push(channels);
  }
  return samples;
}

function meanKernel(a: Matrix[], b: Matrix[]): number {
  let sum = 0;
  let count = 0;
  for (let n = 0; n < a.length; n++) {
    for (const x of a[n] as Matrix) {
      for (const y of b[n] as Matrix) {
        sum += dot(x, y) ** 2;
        count++;
      }
    }
  }
  return sum / count;
}

/** mean k(t,t) + mean k(s,s) − 2 mean k(s,t) with k(a,b) = (aᵀb)², with loops. */
function referenceNst(student: tf.Tensor, teacher: tf.Tensor): number {
  const [s, t] = matchSizes(readMap(student), readMap(teacher));
  const cs = channelVectors(s);
  const ct = channelVectors(t);
  return meanKernel(ct, ct) + meanKernel(cs, cs) - 2 * meanKernel(cs, ct);
}

describeWithBackends('nstLoss', () => {
  it('matches a loop computation, pooling the larger map, with different channel counts', () => {
    const s = randomTensor([2, 4, 4, 3], 1);
    const t = randomTensor([2, 2, 2, 5], 2);
    expectClose(scalarOf(nstLoss(s, t)), referenceNst(s, t));
    expectClose(scalarOf(nstLoss(t, s)), referenceNst(t, s));
    tf.dispose([s, t]);
  });

  it('sums the per-pair losses of two lists', () => {
    const s1 = randomTensor([2, 2, 2, 2], 3);
    const t1 = randomTensor([2, 2, 2, 2], 4);
    const s2 = randomTensor([2, 4, 4, 3], 5);
    const t2 = randomTensor([2, 4, 4, 3], 6);
    expectClose(scalarOf(nstLoss([s1, s2], [t1, t2])), referenceNst(s1, t1) + referenceNst(s2, t2));
    tf.dispose([s1, t1, s2, t2]);
  });

  it('has the gradient of central finite differences; the teacher gets only the cross-term gradient', () => {
    const s = randomTensor([2, 2, 2, 3], 7);
    const t = randomTensor([2, 2, 2, 2], 8);
    expectGradientMatchesFiniteDifferences((x) => nstLoss(x, t), s, { step: 1e-3 });
    // With the teacher–teacher term detached, the teacher's gradient is that of −2·mean k(s, t) alone:
    // compare with float64 central differences of that term.
    const teacherGradient = tf.grad((x: tf.Tensor) => nstLoss(s, x))(t);
    const cs = channelVectors(readMap(s));
    const base = Array.from(t.dataSync());
    const numeric = base.map((_, index) => {
      const crossTerm = (delta: number): number => {
        const shifted = base.slice();
        shifted[index] = (shifted[index] as number) + delta;
        return -2 * meanKernel(cs, channelVectors(toMap(shifted, t.shape as [number, number, number, number])));
      };
      return (crossTerm(1e-4) - crossTerm(-1e-4)) / 2e-4;
    });
    expectArraysClose(teacherGradient.dataSync(), numeric, { rtol: 1e-3, atol: 1e-5 });
    teacherGradient.dispose();
    tf.dispose([s, t]);
  });

  it('is zero for equal maps and invariant to scaling each channel', () => {
    const t = randomTensor([2, 3, 3, 3], 9);
    const s = randomTensor([2, 3, 3, 2], 10);
    const scaled = tf.tidy(() => tf.mul(s, tf.tensor1d([5, 0.25])));
    expectClose(scalarOf(nstLoss(t, t)), 0, { atol: 1e-6 });
    expectClose(scalarOf(nstLoss(scaled, t)), scalarOf(nstLoss(s, t)));
    tf.dispose([t, s, scaled]);
  });

  it('stays finite for values of ±1e3 and for an all-zero channel', () => {
    const s = randomTensor([2, 2, 2, 3], 11, -1e3, 1e3);
    const t = randomTensor([2, 2, 2, 3], 12, -1e3, 1e3);
    expectClose(scalarOf(nstLoss(s, t)), referenceNst(s, t));
    expectFiniteValueAndGradient((x) => nstLoss(x, t), s);
    const zeros = tf.zeros([2, 2, 2, 3]);
    expectFiniteValueAndGradient((x) => nstLoss(x, t), zeros);
    tf.dispose([s, t, zeros]);
  });

  it('rejects bad input naming the function and the argument', () => {
    const good = tf.zeros([2, 4, 4, 3]);
    const vector = tf.zeros([2, 3]);
    const otherBatch = tf.zeros([3, 4, 4, 3]);
    const nan = tf.fill([2, 4, 4, 3], Number.NaN);
    const fn = 'nstLoss';
    expectThrowsWith(() => nstLoss(vector, good), fn, 'studentFeature', 'rank 4');
    expectThrowsWith(() => nstLoss(good, vector), fn, 'teacherFeature', 'rank 4');
    expectThrowsWith(() => nstLoss(good, otherBatch), fn, 'batch sizes differ');
    expectThrowsWith(() => nstLoss(nan, good), fn, 'studentFeature', 'NaN');
    expectThrowsWith(() => nstLoss([good], [nan]), fn, 'teacherFeatures[0]', 'NaN');
    expectThrowsWith(() => nstLoss(good, [good]), fn, 'both be');
    tf.dispose([good, vector, otherBatch, nan]);
  });
});
