import { describeWithBackends, expectArraysClose, expectThrowsWith, tf, valuesOf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { postProcess, referenceEigenCam, uniform } from '../test/reference';
import { eigenCam } from './eigen-cam';

/** A[h, w, c] = pattern[h·W + w]·channel[c] + offset[c], as a flat row-major [H, W, C] array. */
function rankOne(pattern: number[], channel: number[], offset: number[] = channel.map(() => 0)): Float32Array {
  const values = new Float32Array(pattern.length * channel.length);
  pattern.forEach((p, position) =>
    channel.forEach((c, k) => (values[position * channel.length + k] = p * c + offset[k]!)),
  );
  return values;
}

function randomValues(size: number, seed: number): Float32Array {
  const random = uniform(seed);
  return Float32Array.from({ length: size }, () => random());
}

describeWithBackends('eigenCam', () => {
  // Centred pattern p − mean(p): the positive part peaks at 0.9 and the negative part reaches only −0.3, so the
  // sign correction keeps the positive orientation and the map is ReLU(p − p̄) / max.
  const pattern = [0.1, 0.4, 1.2, 0.3, 0.0, 0.8]; // 2 × 3, mean 0.4666…
  const channel = [0.5, -1.0, 2.0, 0.25];

  it('gives back a rank-one pattern exactly: normalise(ReLU(p − mean p))', () => {
    const activations = tf.tensor3d(rankOne(pattern, channel), [2, 3, 4]);
    const map = eigenCam(activations);
    expect(map.shape).toEqual([2, 3]);
    const mean = pattern.reduce((a, b) => a + b, 0) / pattern.length;
    const centred = pattern.map((p) => p - mean);
    const positive = centred.map((value) => Math.max(value, 0));
    const top = Math.max(...positive);
    expectArraysClose(
      valuesOf(map),
      positive.map((value) => value / (top + 1e-7)),
      { atol: 1e-5 },
    );
    activations.dispose();
  });

  it('is unchanged by a constant added to each channel (centring)', () => {
    const plain = tf.tensor3d(rankOne(pattern, channel), [2, 3, 4]);
    const shifted = tf.tensor3d(rankOne(pattern, channel, [10, -3, 0.5, 7]), [2, 3, 4]);
    expectArraysClose(valuesOf(eigenCam(shifted)), valuesOf(eigenCam(plain)), { atol: 1e-5 });
    tf.dispose([plain, shifted]);
  });

  it('gives the same map for −A as for A (sign correction)', () => {
    const values = randomValues(4 * 5 * 6, 11);
    const positive = tf.tensor3d(values, [4, 5, 6]);
    const negative = tf.neg(positive);
    expectArraysClose(valuesOf(eigenCam(negative)), valuesOf(eigenCam(positive)), { atol: 1e-5 });
    tf.dispose([positive, negative]);
  });

  it('without sign correction, −A gives the map of the opposite orientation', () => {
    const activations = tf.tensor3d(rankOne(pattern, channel), [2, 3, 4]);
    const negated = tf.neg(activations);
    const a = Array.from(valuesOf(eigenCam(activations, { signCorrection: false })));
    const b = Array.from(valuesOf(eigenCam(negated, { signCorrection: false })));
    // The power iteration's start vector fixes v₁ identically for A and −A (same Gram matrix), so the projections
    // are exact negatives: one map is normalise(ReLU(p̃)), the other normalise(ReLU(−p̃)).
    const mean = pattern.reduce((x, y) => x + y, 0) / pattern.length;
    const centred = pattern.map((p) => p - mean);
    const up = postProcess(centred, false);
    const down = postProcess(
      centred.map((value) => -value),
      false,
    );
    const matches = (map: number[], expected: number[]) =>
      map.every((value, index) => Math.abs(value - expected[index]!) < 1e-5);
    expect((matches(a, up) && matches(b, down)) || (matches(a, down) && matches(b, up))).toBe(true);
    tf.dispose([activations, negated]);
  });

  it.each([
    ['C < H·W (C×C Gram)', 5, 4, 3],
    ['C > H·W (H·W×H·W Gram)', 2, 3, 9],
  ])('matches a plain-JS Jacobi reference on random activations, %s', (_, height, width, channels) => {
    const values = randomValues(height * width * channels, height * 100 + channels);
    const activations = tf.tensor3d(values, [height, width, channels]);
    expectArraysClose(valuesOf(eigenCam(activations)), referenceEigenCam(values, height * width, channels), {
      atol: 2e-5,
    });
    activations.dispose();
  });

  it.each([
    [4, 4, 5],
    [2, 2, 7],
  ])('maps a batch [3, %i, %i, %i] image by image', (height, width, channels) => {
    const size = height * width * channels;
    const values = randomValues(3 * size, 7 + channels);
    const batch = tf.tensor4d(values, [3, height, width, channels]);
    const maps = eigenCam(batch);
    expect(maps.shape).toEqual([3, height, width]);
    const expected = [0, 1, 2].flatMap((n) =>
      referenceEigenCam(values.subarray(n * size, (n + 1) * size), height * width, channels),
    );
    expectArraysClose(valuesOf(maps), expected, { atol: 2e-5 });
    batch.dispose();
  });

  it('lies in [0, 1) with its minimum at 0', () => {
    const activations = tf.tensor4d(randomValues(2 * 6 * 6 * 8, 3), [2, 6, 6, 8]);
    const values = valuesOf(eigenCam(activations));
    for (let n = 0; n < 2; n++) {
      const map = Array.from(values.subarray(n * 36, (n + 1) * 36));
      expect(Math.min(...map)).toBe(0);
      expect(Math.max(...map)).toBeLessThan(1);
      expect(Math.max(...map)).toBeGreaterThan(1 - 1e-5);
    }
    activations.dispose();
  });

  it('gives an all-zero map, not NaN, for zero and for constant activations (rank 0)', () => {
    const zeros = tf.zeros([3, 3, 4]);
    const constant = tf.fill([3, 3, 4], 0.3);
    expect(Array.from(valuesOf(eigenCam(zeros)))).toEqual(new Array(9).fill(0));
    expect(Array.from(valuesOf(eigenCam(constant)))).toEqual(new Array(9).fill(0));
    tf.dispose([zeros, constant]);
  });

  it('treats NaN activations as 0', () => {
    const values = rankOne(pattern, channel);
    const withNaN = values.slice();
    withNaN[5] = NaN;
    const zeroed = values.slice();
    zeroed[5] = 0;
    const a = tf.tensor3d(withNaN, [2, 3, 4]);
    const b = tf.tensor3d(zeroed, [2, 3, 4]);
    expectArraysClose(valuesOf(eigenCam(a)), valuesOf(eigenCam(b)), { atol: 1e-6 });
    tf.dispose([a, b]);
  });

  it('rejects bad input with messages naming eigenCam and the argument', () => {
    const matrix = tf.zeros([3, 4]);
    const infinite = tf.tensor3d([1, Infinity, 0, 2], [2, 2, 1]);
    const ints = tf.zeros([2, 2, 2], 'int32');
    const ok = tf.zeros([2, 2, 2]);
    expectThrowsWith(() => eigenCam(matrix as unknown as tf.Tensor3D), 'eigenCam', 'activations', 'rank 3 or 4');
    expectThrowsWith(() => eigenCam(infinite), 'eigenCam', 'activations', 'Infinity');
    expectThrowsWith(() => eigenCam(ints), 'eigenCam', 'activations', 'float32');
    expectThrowsWith(() => eigenCam(ok, { tolerance: -1 }), 'eigenCam', 'tolerance');
    expectThrowsWith(() => eigenCam(ok, { maxIterations: 0 }), 'eigenCam', 'maxIterations');
    expectThrowsWith(() => eigenCam(ok, { signCorrection: 'yes' as unknown as boolean }), 'eigenCam', 'signCorrection');
    const empty = tf.zeros([0, 2, 2]) as tf.Tensor3D;
    expectThrowsWith(() => eigenCam(empty), 'eigenCam', 'empty');
    tf.dispose([matrix, infinite, ints, ok, empty]);
  });

  it('reports non-convergence with the image index', () => {
    // Two channels with variances 1 and 0.999 along orthogonal position patterns: λ₂/λ₁ = 0.999.
    const values: number[] = [];
    const a = [1, -1, 1, -1];
    const b = [1, 1, -1, -1];
    for (let position = 0; position < 4; position++) values.push(a[position]!, Math.sqrt(0.999) * b[position]!);
    const activations = tf.tensor3d(values, [2, 2, 2]);
    expectThrowsWith(() => eigenCam(activations, { maxIterations: 3 }), 'eigenCam', 'image 0', 'did not converge');
    activations.dispose();
  });
});
