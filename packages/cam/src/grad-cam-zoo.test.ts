import { createModel } from '@kd/models';
import { describeWithBackends, expectArraysClose, randomTensor, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { gradCam } from './grad-cam';

describeWithBackends('gradCam on a zoo model (featureHook)', () => {
  it('equals Grad-CAM computed from finite-difference channel weights', () => {
    const model = createModel('resnet8', { numClasses: 10, seed: 7 });
    const image = randomTensor([1, 32, 32, 3], 11) as tf.Tensor4D;
    const layer = 3; // the last stage, [1, 8, 8, 64]
    const classIndex = 4;
    const cam = gradCam(model, image, { layer, classIndex });
    expect(cam.shape).toEqual([1, 8, 8]);
    const actual = cam.dataSync().slice();
    cam.dispose();

    // w_c = (1/HW) Σ_hw ∂y/∂A[h,w,c] = (1/HW) · d y(A + ε·1_c) / dε, by central differences per channel.
    const logitWith = (channel: number, epsilon: number): number =>
      tf.tidy(() => {
        const shift = tf.mul(tf.oneHot(tf.tensor1d([channel], 'int32'), 64), epsilon);
        const output = model.apply(image, {
          training: false,
          featureHook: (index, feature) =>
            index === layer ? tf.add(feature, tf.reshape(shift, [1, 1, 1, 64])) : feature,
        });
        return output.logits.dataSync()[classIndex] as number;
      });
    const step = 1e-2;
    const weights = Array.from(
      { length: 64 },
      (_, channel) => (logitWith(channel, step) - logitWith(channel, -step)) / (2 * step) / 64,
    );
    const activations = tf.tidy(
      () => model.apply(image, { training: false }).features[layer]?.dataSync().slice() as Float32Array,
    );
    const raw = Array.from({ length: 64 }, (_, position) => {
      let sum = 0;
      for (let channel = 0; channel < 64; channel++)
        sum += (weights[channel] as number) * (activations[position * 64 + channel] as number);
      return Math.max(sum, 0);
    });
    const low = Math.min(...raw);
    const high = Math.max(...raw);
    const expected = raw.map((value) => (value - low) / (high - low + 1e-7));
    expectArraysClose(actual, expected, { rtol: 0, atol: 2e-2 });
    expect(high).toBeGreaterThan(0);
    image.dispose();
    model.dispose();
  });

  it('takes a layer name only from a model with featureNames', () => {
    const model = createModel('resnet8', { numClasses: 10, seed: 7 });
    const image = randomTensor([1, 32, 32, 3], 12) as tf.Tensor4D;
    expect(() => gradCam(model, image, { layer: 'layer3' })).toThrow(
      "gradCam: layer 'layer3' is a name, but model 'resnet8' has no featureNames; pass a feature index",
    );
    image.dispose();
    model.dispose();
  });
});
