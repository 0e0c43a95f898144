/**
 * The README's worked example, run as written (console output replaced by recorded losses): a tiny student
 * trained on one batch with kdLoss + VidRegularizer, built from the shapes and its variables collected with the
 * student's by collectTrainableVariables.
 */
import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { collectTrainableVariables, kdLoss, VidRegularizer } from '../index';

describeWithBackends('README worked example (kdLoss + VidRegularizer)', () => {
  it('lowers the loss, trains the VID variables and keeps the tensor count flat', () => {
    // tidy only frees the example's setup tensors (the initial values of the variables); the code is the README's
    tf.tidy(() => readmeExample());
  });
});

function readmeExample(): void {
  const images = tf.randomNormal<tf.Rank.R4>([16, 8, 8, 3], 0, 1, 'float32', 1);
  const teacherFeature = tf.relu(tf.randomNormal<tf.Rank.R4>([16, 4, 4, 32], 0, 1, 'float32', 2));
  const teacherLogits = tf.randomNormal<tf.Rank.R2>([16, 10], 0, 2, 'float32', 3);

  const convKernel = tf.variable(tf.randomNormal([3, 3, 3, 16], 0, 0.3, 'float32', 4));
  const denseKernel = tf.variable(tf.randomNormal([16, 10], 0, 0.3, 'float32', 5));
  function student(x: tf.Tensor4D): { feature: tf.Tensor4D; logits: tf.Tensor2D } {
    const feature = tf.relu(tf.conv2d(x, convKernel as tf.Tensor4D, 2, 'same'));
    return { feature, logits: tf.matMul(tf.mean(feature, [1, 2]) as tf.Tensor2D, denseKernel as tf.Tensor2D) };
  }

  const vid = new VidRegularizer({ hiddenChannels: 32, seed: 7 });
  expect(vid.built).toBe(false);
  vid.build({ student: [16, 4, 4, 16], teacher: teacherFeature.shape });
  const varList = collectTrainableVariables({ variables: [convKernel, denseKernel], regularizers: [vid] });
  expect(varList).toEqual([convKernel, denseKernel, ...vid.trainableVariables]);
  const variablesBefore = vid.trainableVariables.map((variable) => variable.dataSync().slice());
  const optimizer = tf.train.adam(0.01);
  const losses: number[] = [];
  let tensorsAfterFirstStep = 0;
  for (let step = 0; step < 40; step++) {
    const loss = optimizer.minimize(
      () => {
        const { feature, logits } = student(images);
        // L = KD_T=4(student ‖ teacher) + VID(teacher map | student map)
        return tf.add(kdLoss(logits, teacherLogits, { temperature: 4 }), vid.loss(feature, teacherFeature));
      },
      true,
      varList,
    );
    losses.push(loss?.dataSync()[0] as number);
    loss?.dispose();
    if (step === 0) tensorsAfterFirstStep = tf.memory().numTensors;
    else expect(tf.memory().numTensors, `tensors at step ${step}`).toBe(tensorsAfterFirstStep);
  }
  const first = losses[0] as number;
  const last = losses[losses.length - 1] as number;
  expect(Number.isFinite(last)).toBe(true);
  expect(last).toBeLessThan(first - 0.1);
  // every VID variable (three regressor kernels and α) moved: their gradients reached the optimizer
  vid.trainableVariables.forEach((variable, index) => {
    const before = variablesBefore[index] as Float32Array;
    const after = variable.dataSync();
    expect(
      after.some((value, k) => value !== before[k]),
      variable.name,
    ).toBe(true);
  });
  optimizer.dispose();
  vid.dispose();
  tf.dispose([images, teacherFeature, teacherLogits, convKernel, denseKernel]);
}
