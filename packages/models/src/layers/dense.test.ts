import { describeWithBackends, expectArraysClose, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { VariableStore } from '../variable-store';
import { Dense } from './dense';

describeWithBackends('Dense', () => {
  it('computes x·W + b', () => {
    tf.tidy(() => {
      const store = new VariableStore(0);
      const dense = new Dense(store.scope('fc'), { inFeatures: 3, outFeatures: 2 });
      dense.weight.assign(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]));
      dense.bias.assign(tf.tensor1d([0.5, -1]));
      const x = tf.tensor2d([1, 0, -1, 2, 1, 0], [2, 3]);
      const y = dense.apply(x);
      // Row 0: [1−5, 2−6] + b; row 1: [2+3, 4+4] + b.
      expectArraysClose(y.dataSync(), [-3.5, -5, 5.5, 7]);
      tf.dispose([x, y]);
      store.dispose();
    });
  });

  it('initialises as the reference: torch default bound, zero bias, or normal(0, 0.01)', () => {
    tf.tidy(() => {
      const store = new VariableStore(4);
      const torch = new Dense(store.scope('a'), { inFeatures: 400, outFeatures: 50 });
      const bound = 1 / Math.sqrt(400);
      const weights = Array.from(torch.weight.dataSync());
      expect(Math.max(...weights.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...weights.map(Math.abs))).toBeGreaterThan(0.99 * bound);
      expect(Math.max(...Array.from(torch.bias.dataSync(), Math.abs))).toBeGreaterThan(0);
      const zeroBias = new Dense(store.scope('b'), { inFeatures: 4, outFeatures: 3, init: 'torchDefaultZeroBias' });
      expect(Array.from(zeroBias.bias.dataSync())).toEqual([0, 0, 0]);
      const normal = new Dense(store.scope('c'), { inFeatures: 200, outFeatures: 100, init: 'normal0.01' });
      const values = Array.from(normal.weight.dataSync());
      const std = Math.sqrt(values.reduce((total, value) => total + value * value, 0) / values.length);
      expect(Math.abs(std / 0.01 - 1)).toBeLessThan(0.02);
      store.dispose();
    });
  });
});
