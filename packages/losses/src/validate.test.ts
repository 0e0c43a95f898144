import { describeWithBackends, tf } from '@kd/test-utils';
import { afterEach, expect, it, vi } from 'vitest';
import { conditionalMutualInformation } from './info/conditional-mutual-information';
import { crossEntropy } from './info/cross-entropy';
import { kdLoss } from './info/kd-loss';
import { configureValidation, flushValueChecks, getValidationConfig, valueCheckTiming } from './validate';

describeWithBackends('value checks', () => {
  const initial = getValidationConfig();
  afterEach(async () => {
    await flushValueChecks().catch(() => undefined);
    configureValidation(initial);
  });

  it("defaults to 'auto': synchronous on host-memory backends, deferred on GPU backends", () => {
    expect(initial.checkValues).toBe('auto');
    expect(valueCheckTiming('cpu')).toBe('sync');
    expect(valueCheckTiming('wasm')).toBe('sync');
    expect(valueCheckTiming('tensorflow')).toBe('sync');
    expect(valueCheckTiming('webgl')).toBe('deferred');
    expect(valueCheckTiming('webgpu')).toBe('deferred');
    configureValidation({ checkValues: true });
    expect(valueCheckTiming('webgl')).toBe('sync');
    configureValidation({ checkValues: false });
    expect(valueCheckTiming('cpu')).toBe('off');
    configureValidation({ checkValues: 'deferred' });
    expect(valueCheckTiming('cpu')).toBe('deferred');
  });

  it('rejects an unknown mode', () => {
    expect(() => configureValidation({ checkValues: 'lazy' as unknown as boolean })).toThrow(
      `configureValidation: checkValues must be true, false, 'auto' or 'deferred', got "lazy"`,
    );
  });

  it('deferred: kdLoss makes no synchronous read, and the NaN is reported by flushValueChecks', async () => {
    configureValidation({ checkValues: 'deferred' });
    const student = tf.tensor2d([[1, Number.NaN], [0, 1]]);
    const teacher = tf.tensor2d([[1, 0], [0, 1]]);
    const dataSync = vi.spyOn(tf.Tensor.prototype, 'dataSync');
    const loss = kdLoss(student, teacher, { temperature: 2 });
    expect(dataSync).not.toHaveBeenCalled();
    dataSync.mockRestore();
    // The caller may dispose its inputs before the deferred read completes.
    tf.dispose([loss, student, teacher]);
    await expect(flushValueChecks()).rejects.toThrow('kdLoss: studentLogits contains NaN or Infinity (found by a deferred value check');
    // Reported once: the next flush is clean.
    await expect(flushValueChecks()).resolves.toBeUndefined();
  });

  it('deferred: a failure found after the call is thrown by the next checked call', async () => {
    configureValidation({ checkValues: 'deferred' });
    const logits = tf.tensor2d([[2, 1, 0], [0, 1, 2]]);
    const badLabels = tf.tensor1d([0, 3], 'int32');
    const goodLabels = tf.tensor1d([0, 2], 'int32');
    try {
      tf.dispose(crossEntropy(logits, badLabels));
      // Let the read-back complete without flushing.
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(() => crossEntropy(logits, goodLabels)).toThrow('crossEntropy: labels[1] = 3 is out of range [0, 3)');
      const loss = crossEntropy(logits, goodLabels);
      // -mean(log softmax): rows [2,1,0] label 0 and [0,1,2] label 2 have the same value.
      const expected = -(2 - Math.log(Math.exp(2) + Math.exp(1) + 1));
      expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
      loss.dispose();
    } finally {
      tf.dispose([logits, badLabels, goodLabels]);
    }
  });

  it('deferred: good input passes and every kept tensor is released', async () => {
    configureValidation({ checkValues: 'deferred' });
    const logits = tf.tensor2d([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]);
    const labels = tf.tensor1d([0, 2], 'int32');
    const centroids = tf.tensor2d([[0.8, 0.1, 0.1], [0.2, 0.6, 0.2], [0.1, 0.1, 0.8]]);
    const before = tf.memory().numTensors;
    const cmi = conditionalMutualInformation(logits, labels, { numClasses: 3, centroids });
    // One pending tensor per check (logits finite, labels, centroids finite / non-negative / row sums).
    expect(tf.memory().numTensors - before).toBe(1 + 5);
    await flushValueChecks();
    expect(tf.memory().numTensors - before).toBe(1);
    tf.dispose([cmi, logits, labels, centroids]);
  });

  it('synchronous (cpu default): the call itself throws', () => {
    const student = tf.tensor2d([[1, Number.POSITIVE_INFINITY]]);
    const teacher = tf.tensor2d([[1, 0]]);
    try {
      expect(() => kdLoss(student, teacher)).toThrow('kdLoss: studentLogits contains NaN or Infinity');
    } finally {
      tf.dispose([student, teacher]);
    }
  });
});
