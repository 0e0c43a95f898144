import {
  describeWithBackends,
  expectClose,
  expectGradientMatchesFiniteDifferences,
  expectThrowsWith,
  randomTensor,
  scalarOf,
  tf,
  valuesOf,
} from '@kd/test-utils';
import { expect, it } from 'vitest';
import { vidLoss } from './vid-loss';

/** mean over elements of ½(log σ²_c + (t − μ)²/σ²_c), σ²_c = log(1 + e^{α_c}) + ε, with loops. */
function referenceVid(target: tf.Tensor, mean: tf.Tensor, alpha: tf.Tensor, epsilon: number): number {
  const t = target.dataSync();
  const mu = mean.dataSync();
  const a = alpha.dataSync();
  const channels = a.length;
  let total = 0;
  for (let index = 0; index < t.length; index++) {
    const alphaC = a[index % channels] as number;
    const variance = Math.log1p(Math.exp(alphaC)) + epsilon;
    const error = (t[index] as number) - (mu[index] as number);
    total += 0.5 * (Math.log(variance) + (error * error) / variance);
  }
  return total / t.length;
}

describeWithBackends('vidLoss', () => {
  it('equals the per-channel Gaussian NLL computed with loops, NHWC and [N, C]', () => {
    const alpha = tf.tensor1d([4.993, -1, 0.5]);
    const target4d = randomTensor([2, 3, 2, 3], 51, 0, 2);
    const mean4d = randomTensor([2, 3, 2, 3], 52, -1, 1);
    expectClose(scalarOf(vidLoss(target4d, mean4d, alpha)), referenceVid(target4d, mean4d, alpha, 1e-5));
    expectClose(
      scalarOf(vidLoss(target4d, mean4d, alpha, { epsilon: 0.1 })),
      referenceVid(target4d, mean4d, alpha, 0.1),
    );
    const target2d = randomTensor([4, 3], 53, -3, 3);
    const mean2d = randomTensor([4, 3], 54, -3, 3);
    expectClose(scalarOf(vidLoss(target2d, mean2d, alpha)), referenceVid(target2d, mean2d, alpha, 1e-5));
    tf.dispose([alpha, target4d, mean4d, target2d, mean2d]);
  });

  it('starts at σ² = 5 with α₀ = log(e^{5−ε} − 1): equals ½(log 5 + mse/5)', () => {
    const epsilon = 1e-5;
    const alpha = tf.fill([2], Math.log(Math.exp(5 - epsilon) - 1));
    const target = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const mean = tf.zeros([2, 2]);
    expectClose(scalarOf(vidLoss(target, mean, alpha)), 0.5 * (Math.log(5) + (1 + 4 + 9 + 16) / 4 / 5));
    tf.dispose([alpha, target, mean]);
  });

  it('has gradients equal to central finite differences for mean, alpha and target', () => {
    const alpha = tf.tensor1d([0.3, -0.7]);
    const target = randomTensor([2, 2, 2, 2], 55, 0, 2);
    const mean = randomTensor([2, 2, 2, 2], 56, -1, 1);
    expectGradientMatchesFiniteDifferences((x) => vidLoss(target, x, alpha), mean);
    expectGradientMatchesFiniteDifferences((x) => vidLoss(target, mean, x), alpha);
    expectGradientMatchesFiniteDifferences((x) => vidLoss(x, mean, alpha), target);
    tf.dispose([alpha, target, mean]);
  });

  it('stays finite for errors and α of ±1e3, values and gradients', () => {
    const alpha = tf.tensor1d([1e3, -1e3]);
    const target = tf.tensor2d([
      [1e3, -1e3],
      [0, 1e3],
    ]);
    const mean = tf.tensor2d([
      [-1e3, 1e3],
      [1e3, 0],
    ]);
    const value = scalarOf(vidLoss(target, mean, alpha));
    expect(Number.isFinite(value)).toBe(true);
    expectClose(value, referenceVid(target, mean, alpha, 1e-5), { rtol: 1e-4 });
    for (const gradient of tf.grads((m: tf.Tensor, a: tf.Tensor) => vidLoss(target, m, a))([mean, alpha])) {
      expect(Array.from(valuesOf(gradient)).every(Number.isFinite)).toBe(true);
    }
    tf.dispose([alpha, target, mean]);
  });

  it('rejects bad inputs with errors naming the function and the argument', () => {
    const target = tf.zeros([2, 3]);
    const mean = tf.zeros([2, 3]);
    const alpha = tf.zeros([3]);
    const rank3 = tf.zeros([2, 3, 3]);
    const otherShape = tf.zeros([2, 4]);
    const shortAlpha = tf.zeros([2]);
    const alpha2d = tf.zeros([1, 3]);
    const intMean = tf.zeros([2, 3], 'int32');
    const nanAlpha = tf.tensor1d([0, NaN, 0]);
    const infTarget = tf.tensor2d([
      [0, 0, -Infinity],
      [0, 0, 0],
    ]);
    expectThrowsWith(() => vidLoss(rank3, rank3, alpha), 'vidLoss', 'target', 'rank 2 or 4');
    expectThrowsWith(() => vidLoss(target, otherShape, alpha), 'vidLoss', 'target', 'mean', 'same shape');
    expectThrowsWith(() => vidLoss(target, mean, shortAlpha), 'vidLoss', 'alpha', '3 channels');
    expectThrowsWith(() => vidLoss(target, mean, alpha2d), 'vidLoss', 'alpha', 'rank 1');
    expectThrowsWith(() => vidLoss(target, intMean, alpha), 'vidLoss', 'mean', 'float32');
    expectThrowsWith(() => vidLoss(target, mean, nanAlpha), 'vidLoss', 'alpha', 'NaN');
    expectThrowsWith(() => vidLoss(infTarget, mean, alpha), 'vidLoss', 'target', 'Infinity');
    expectThrowsWith(() => vidLoss(target, mean, alpha, { epsilon: 0 }), 'vidLoss', 'epsilon', '> 0');
    expectThrowsWith(() => vidLoss(target, mean, alpha, { epsilon: Infinity }), 'vidLoss', 'epsilon', 'finite');
    expectThrowsWith(() => vidLoss(target, mean, alpha, { eps: 1 } as never), 'vidLoss', "unknown option 'eps'");
    tf.dispose([target, mean, alpha, rank3, otherShape, shortAlpha, alpha2d, intMean, nanAlpha, infTarget]);
  });
});
