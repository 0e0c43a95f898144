import { expect, it } from 'vitest';
import { createModel } from '@kd/models';
import { describeWithBackends, expectArraysClose, randomTensor, tf } from '@kd/test-utils';
import { createLinearProbe } from './linear-probe';
import { SMOKE_MODEL, registerSmokeModel } from './smoke-model';

registerSmokeModel();

describeWithBackends('createLinearProbe', () => {
  it('computes pooled·W + b on the backbone features, trains only W and b, starts at N(0, 0.01²)', () => {
    const backbone = createModel(SMOKE_MODEL, { numClasses: 100, seed: 1 });
    const probe = createLinearProbe({ backbone, numClasses: 10, seed: 2 });
    try {
      expect(probe.trainableVariables.map((variable) => variable.shape)).toEqual([[8, 10], [10]]);
      expect(probe.countParams()).toBe(8 * 10 + 10);
      expect(probe.nonTrainableVariables).toHaveLength(
        backbone.trainableVariables.length + backbone.nonTrainableVariables.length,
      );
      const [weight, bias] = probe.trainableVariables as [tf.Variable, tf.Variable];
      const w = weight.dataSync();
      const std = Math.sqrt(Array.from(w).reduce((sum, value) => sum + value * value, 0) / w.length);
      expect(std).toBeGreaterThan(0.005);
      expect(std).toBeLessThan(0.02);
      expect(Array.from(bias.dataSync())).toEqual(new Array(10).fill(0));

      const images = randomTensor([2, 32, 32, 3], 3) as tf.Tensor4D;
      const pooled = tf.tidy(() => {
        const { features } = backbone.apply(images, { training: false });
        return features[features.length - 1] as tf.Tensor2D;
      });
      const logits = tf.tidy(() => probe.apply(images, { training: false }).logits);
      const h = pooled.dataSync();
      const expected: number[] = [];
      for (let n = 0; n < 2; n++) {
        for (let k = 0; k < 10; k++) {
          let sum = 0;
          for (let c = 0; c < 8; c++) sum += (h[n * 8 + c] as number) * (w[c * 10 + k] as number);
          expected.push(sum);
        }
      }
      expectArraysClose(logits.dataSync(), expected, { rtol: 1e-4, atol: 1e-6 });

      const before = backbone.trainableVariables.map((variable) => variable.dataSync().slice());
      const { value, grads } = tf.variableGrads(
        () => tf.mean(probe.apply(images, { training: true }).logits) as tf.Scalar,
        probe.trainableVariables,
      );
      expect(Object.keys(grads).sort()).toEqual([weight.name, bias.name].sort());
      // d mean(logits)/d b_k = 1/10 for every k
      expectArraysClose((grads[bias.name] as tf.Tensor).dataSync(), new Array(10).fill(0.1));
      backbone.trainableVariables.forEach((variable, index) => expect(variable.dataSync()).toEqual(before[index]));
      tf.dispose([value, ...Object.values(grads), images, pooled, logits]);
    } finally {
      probe.dispose();
      backbone.dispose();
    }
  });

  it('rejects a class count below 2', () => {
    const backbone = createModel(SMOKE_MODEL, { numClasses: 10 });
    try {
      expect(() => createLinearProbe({ backbone, numClasses: 1, seed: 0 })).toThrow(
        'createLinearProbe: numClasses must be an integer >= 2, got 1',
      );
    } finally {
      backbone.dispose();
    }
  });
});
