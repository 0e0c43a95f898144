/**
 * Every info loss used the way a training loop uses it: 100 steps of `optimizer.minimize` on a small
 * variable. The tensor count must stay flat across steps (describeWithBackends also checks the whole test)
 * and the loss must go down, so the gradients reach the variable.
 */
import { describeWithBackends, randomTensor, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { labelsTensor } from './__fixtures__/reference';
import { crossEntropy } from './cross-entropy';
import { conditionalMutualInformation } from './conditional-mutual-information';
import { dkdLoss } from './dkd-loss';
import { icdLoss } from './icd-loss';
import { infoNceLoss } from './info-nce';
import { kdLoss } from './kd-loss';
import { mcmiLoss } from './mcmi-loss';
import { vidLoss } from './vid-loss';

describeWithBackends('info losses inside optimizer.minimize', () => {
  it('keep the tensor count flat over 100 steps and lower the loss', () => {
    const teacherLogits = randomTensor([6, 4], 91, -2, 2);
    const labels = labelsTensor([0, 1, 2, 3, 0, 1]);
    const target = randomTensor([6, 4], 92, 0, 1);
    const fixedCentroids = tf.tensor2d([
      [0.7, 0.1, 0.1, 0.1],
      [0.1, 0.7, 0.1, 0.1],
      [0.1, 0.1, 0.7, 0.1],
      [0.1, 0.1, 0.1, 0.7],
    ]);
    const cases: Array<[string, (x: tf.Variable, y: tf.Variable) => tf.Scalar]> = [
      ['kdLoss', (x) => kdLoss(x, teacherLogits)],
      ['crossEntropy', (x) => crossEntropy(x, labels)],
      [
        'conditionalMutualInformation',
        (x) => conditionalMutualInformation(x, labels, { numClasses: 4, centroids: fixedCentroids }),
      ],
      ['mcmiLoss', (x) => mcmiLoss(x, labels, { numClasses: 4, lambda: 0.1 })],
      ['vidLoss', (x, alpha) => vidLoss(target, x, tf.reshape(alpha, [4]) as tf.Tensor1D)],
      ['infoNceLoss', (x) => infoNceLoss(x, teacherLogits, { temperature: 0.5 })],
      ['icdLoss', (x, scale) => icdLoss(x, teacherLogits, { logitScale: tf.exp(tf.mean(scale)) as tf.Scalar })],
      ['dkdLoss', (x) => dkdLoss(x, teacherLogits, labels)],
    ];
    for (const [name, loss] of cases) {
      const initial = randomTensor([6, 4], 93, -1, 1);
      const student = tf.variable(initial, true, `${name}-student`);
      const zeros = tf.zeros([1, 4]);
      const extra = tf.variable(zeros, true, `${name}-extra`);
      tf.dispose([initial, zeros]);
      const optimizer = tf.train.sgd(0.05);
      const lossAt = (): number => tf.tidy(() => loss(student, extra).dataSync()[0] as number);
      const before = lossAt();
      let tensorsAfterFirstStep = 0;
      for (let step = 0; step < 100; step++) {
        optimizer.minimize(() => loss(student, extra), false, [student, extra]);
        if (step === 0) tensorsAfterFirstStep = tf.memory().numTensors;
        else expect(tf.memory().numTensors, `${name}: tensors at step ${step}`).toBe(tensorsAfterFirstStep);
      }
      expect(lossAt(), `${name} should decrease`).toBeLessThan(before);
      optimizer.dispose();
      tf.dispose([student, extra]);
    }
    tf.dispose([teacherLogits, labels, target, fixedCentroids]);
  });
});
