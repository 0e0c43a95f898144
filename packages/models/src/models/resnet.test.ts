import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { expectModelTableRow } from '../../test/model-table';
import { createModel } from '../registry';

describeWithBackends('cifar resnets', () => {
  for (const name of ['resnet8', 'resnet14', 'resnet20', 'resnet8x4']) {
    it(`${name}: table params and feature shapes, inference and training`, () =>
      expectModelTableRow(name, { training: true }));
  }
  for (const name of ['resnet32', 'resnet44', 'resnet56', 'resnet110', 'resnet32x4']) {
    it(`${name}: table params and feature shapes`, () => expectModelTableRow(name, { training: false }));
  }

  it('preact features are the stage sums before their ReLU', () => {
    const model = createModel('resnet8', { numClasses: 10, seed: 3 });
    const images = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const output = model.apply(images, { training: false });
    for (let stage = 0; stage < 3; stage++) {
      const [difference, minimum] = tf.tidy(() => {
        const preact = output.preactivations[stage] as tf.Tensor;
        const feature = output.features[stage + 1] as tf.Tensor;
        return [tf.max(tf.abs(tf.sub(tf.relu(preact), feature))).dataSync()[0], tf.min(preact).dataSync()[0]];
      });
      expect(difference).toBe(0);
      expect(minimum).toBeLessThan(0);
    }
    tf.dispose([images, output.logits, ...output.features, ...output.preactivations]);
    model.dispose();
  });
});
