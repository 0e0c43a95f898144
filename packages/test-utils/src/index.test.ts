import { expect, it } from 'vitest';
import {
  describeWithBackends,
  expectArraysClose,
  expectGradientMatchesFiniteDifferences,
  expectThrowsWith,
  finiteDifferenceGradient,
  tf,
} from './index';

describeWithBackends('test-utils', () => {
  it('finite differences match the closed-form gradient of sum(x^3)', () => {
    const x = tf.tensor1d([0.5, -1, 2]);
    const numeric = finiteDifferenceGradient((input) => tf.sum(tf.pow(input, 3)), x, { step: 1e-2 });
    expectArraysClose(numeric, [0.75, 3, 12], { rtol: 1e-3, atol: 1e-3 });
    expectGradientMatchesFiniteDifferences((input) => tf.sum(tf.pow(input, 3)), x);
    x.dispose();
  });

  it('gradients are registered (the umbrella bundle is loaded)', () => {
    const x = tf.scalar(3);
    const gradient = tf.grad((input: tf.Tensor) => tf.mul(input, input))(x);
    expect(gradient.dataSync()[0]).toBeCloseTo(6, 5);
    tf.dispose([x, gradient]);
  });
});

describeWithBackends('expectations', () => {
  it('expectArraysClose rejects values outside the tolerance', () => {
    expect(() => expectArraysClose([1, 2], [1, 2.1])).toThrow(/element 1/);
  });
  it('expectThrowsWith checks message fragments', () => {
    expectThrowsWith(
      () => {
        throw new Error('kdLoss: studentLogits must be rank 2');
      },
      'kdLoss',
      'studentLogits',
    );
    expect(() => expectThrowsWith(() => undefined, 'x')).toThrow(/nothing was thrown/);
  });
});

const pinnedRuns: string[] = [];
describeWithBackends(
  'a suite pinned to one backend',
  (backend) => {
    pinnedRuns.push(backend);
    it('runs once, on that backend, whatever KD_TEST_BACKENDS lists', () => {
      expect(pinnedRuns).toEqual(['cpu']);
      expect(tf.getBackend()).toBe('cpu');
    });
  },
  { backends: ['cpu'] },
);
