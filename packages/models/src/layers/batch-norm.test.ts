import {
  describeWithBackends,
  expectArraysClose,
  expectGradientMatchesFiniteDifferences,
  randomTensor,
  tf,
} from '@kd/test-utils';
import { expect, it } from 'vitest';
import { VariableStore } from '../variable-store';
import { BatchNorm2d } from './batch-norm';

// Two channels over N·H·W = 4 positions: channel 0 = [1, 2, 3, 6], channel 1 = [0, 0, 4, 4].
const input = [1, 0, 2, 0, 3, 4, 6, 4];
const shape: [number, number, number, number] = [2, 1, 2, 2];

describeWithBackends('BatchNorm2d', () => {
  it('training mode normalises with batch moments and moves the running statistics as PyTorch does', () => {
    tf.tidy(() => {
      const store = new VariableStore(0);
      const bn = new BatchNorm2d(store.scope('bn'), { channels: 2 });
      bn.gamma.assign(tf.tensor1d([2, 0.5]));
      bn.beta.assign(tf.tensor1d([1, -1]));
      const x = tf.tensor4d(input, shape);
      const y = bn.apply(x, true);
      // Channel 0: μ = 3, σ² = (4 + 1 + 0 + 9)/4 = 3.5. Channel 1: μ = 2, σ² = 4.
      const expected = [0, 1, 2, 3].flatMap((position) => {
        const a = input[2 * position] as number;
        const b = input[2 * position + 1] as number;
        return [(2 * (a - 3)) / Math.sqrt(3.5 + 1e-5) + 1, (0.5 * (b - 2)) / Math.sqrt(4 + 1e-5) - 1];
      });
      expectArraysClose(y.dataSync(), expected, { rtol: 1e-5, atol: 1e-6 });
      // running = 0.9·running + 0.1·batch, with the unbiased variance σ²·4/3: 14/3 and 16/3.
      expectArraysClose(bn.runningMean.dataSync(), [0.3, 0.2]);
      expectArraysClose(bn.runningVar.dataSync(), [0.9 + 0.1 * (14 / 3), 0.9 + 0.1 * (16 / 3)]);
      // A second step compounds: 0.9·0.3 + 0.1·3 = 0.57.
      tf.dispose(bn.apply(x, true));
      expectArraysClose(bn.runningMean.dataSync(), [0.57, 0.38]);
      tf.dispose([x, y]);
      store.dispose();
    });
  });

  it('inference mode uses the running statistics and leaves them unchanged', () => {
    tf.tidy(() => {
      const store = new VariableStore(0);
      const bn = new BatchNorm2d(store.scope('bn'), { channels: 2 });
      bn.runningMean.assign(tf.tensor1d([1, -2]));
      bn.runningVar.assign(tf.tensor1d([4, 0.25]));
      bn.gamma.assign(tf.tensor1d([3, 1]));
      bn.beta.assign(tf.tensor1d([0.5, 0]));
      const x = tf.tensor4d(input, shape);
      const y = bn.apply(x, false);
      const expected = input.map((value, index) =>
        index % 2 === 0 ? (3 * (value - 1)) / Math.sqrt(4 + 1e-5) + 0.5 : (value + 2) / Math.sqrt(0.25 + 1e-5),
      );
      expectArraysClose(y.dataSync(), expected, { rtol: 1e-5, atol: 1e-5 });
      expectArraysClose(bn.runningMean.dataSync(), [1, -2]);
      expectArraysClose(bn.runningVar.dataSync(), [4, 0.25]);
      tf.dispose([x, y]);
      store.dispose();
    });
  });

  it('the training-mode input gradient matches finite differences (through the batch moments)', () => {
    tf.tidy(() => {
      const store = new VariableStore(0);
      const bn = new BatchNorm2d(store.scope('bn'), { channels: 3 });
      bn.gamma.assign(tf.tensor1d([1.5, 0.7, -1]));
      const probe = randomTensor([2, 2, 2, 3], 8);
      const x = randomTensor([2, 2, 2, 3], 9);
      expectGradientMatchesFiniteDifferences(
        (input) => tf.sum(tf.mul(bn.apply(input as tf.Tensor4D, true), probe)) as tf.Scalar,
        x,
        {
          step: 1e-2,
          rtol: 3e-2,
          atol: 3e-3,
        },
      );
      tf.dispose([probe, x]);
      store.dispose();
    });
  });

  it('the hand-written training-mode gradient (x, γ, β) equals autodiff of the textbook formula', () => {
    tf.tidy(() => {
      const store = new VariableStore(0);
      const bn = new BatchNorm2d(store.scope('bn'), { channels: 3 });
      bn.gamma.assign(tf.tensor1d([1.5, 0.7, -1]));
      bn.beta.assign(tf.tensor1d([0.1, -0.2, 0.3]));
      const probe = randomTensor([2, 3, 2, 3], 8);
      const x = randomTensor([2, 3, 2, 3], 9, -2, 3);
      // y = (x − μ)·γ/√(σ² + ε) + β, differentiated by tfjs.
      const reference = (input: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
        const { mean, variance } = tf.moments(input, [0, 1, 2]);
        return tf.sum(
          tf.mul(tf.add(tf.mul(tf.sub(input, mean), tf.div(gamma, tf.sqrt(tf.add(variance, 1e-5)))), beta), probe),
        );
      };
      const expected = tf.grads(reference)([x, bn.gamma, bn.beta]);
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.mul(bn.apply(x as tf.Tensor4D, true), probe)) as tf.Scalar,
        [bn.gamma, bn.beta],
      );
      const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(bn.apply(input as tf.Tensor4D, true), probe)))(x);
      expectArraysClose(dx.dataSync(), expected[0]!.dataSync(), { rtol: 1e-4, atol: 1e-5 });
      expectArraysClose(grads[bn.gamma.name]!.dataSync(), expected[1]!.dataSync(), { rtol: 1e-4, atol: 1e-5 });
      expectArraysClose(grads[bn.beta.name]!.dataSync(), expected[2]!.dataSync(), { rtol: 1e-4, atol: 1e-5 });
      store.dispose();
    });
  });

  it('the inference-mode input gradient is dy·γ/√(runningVar + ε) (what Grad-CAM differentiates)', () => {
    tf.tidy(() => {
      const store = new VariableStore(0);
      const bn = new BatchNorm2d(store.scope('bn'), { channels: 2 });
      bn.runningVar.assign(tf.tensor1d([4, 0.25]));
      bn.gamma.assign(tf.tensor1d([3, -1]));
      const x = tf.tensor4d(input, shape);
      const dx = tf.grad((value: tf.Tensor) => tf.sum(bn.apply(value as tf.Tensor4D, false)))(x);
      const expected = input.map((_, index) =>
        index % 2 === 0 ? 3 / Math.sqrt(4 + 1e-5) : -1 / Math.sqrt(0.25 + 1e-5),
      );
      expectArraysClose(dx.dataSync(), expected, { rtol: 1e-5, atol: 1e-6 });
      store.dispose();
    });
  });

  it('training mode with a single value per channel throws, as PyTorch does', () => {
    tf.tidy(() => {
      const store = new VariableStore(0);
      const bn = new BatchNorm2d(store.scope('head.bn'), { channels: 2 });
      const x = tf.zeros([1, 1, 1, 2]) as tf.Tensor4D;
      expect(() => bn.apply(x, true)).toThrow(
        /BatchNorm2d 'head.bn': training mode needs more than one value per channel/,
      );
      x.dispose();
      store.dispose();
    });
  });
});
