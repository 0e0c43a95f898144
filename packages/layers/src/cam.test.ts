import * as tfl from '@tensorflow/tfjs-layers';
import { eigenCam, gradCam, normalizeCam } from '@kd/cam';
import { describeWithBackends, expectArraysClose, expectThrowsWith, randomTensor, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { convNet } from './__fixtures__/models';
import { fromLayersModel } from './layers-model';

describeWithBackends('@kd/cam on a tf.LayersModel', () => {
  it("Eigen-CAM of a named layer equals Eigen-CAM of that layer's activations from tf.model(...).predict", () => {
    const keras = convNet({ name: 'eigen', seed: 1 });
    const model = fromLayersModel(keras, { features: ['eigen_relu1', 'eigen_conv2'] });
    const images = randomTensor([2, 8, 8, 1], 2) as tf.Tensor4D;
    const fromKd = tf.tidy(() =>
      eigenCam(
        model.apply(images, { training: false }).features[model.featureNames.indexOf('eigen_conv2')] as tf.Tensor4D,
      ),
    );
    const probe = tfl.model({
      inputs: keras.inputs,
      outputs: keras.getLayer('eigen_conv2').output as tfl.SymbolicTensor,
    });
    const activations = probe.predict(images) as tf.Tensor4D;
    const reference = eigenCam(activations);
    expect(fromKd.shape).toEqual([2, 4, 4]);
    expectArraysClose(fromKd.dataSync(), reference.dataSync(), { atol: 1e-5 });
    tf.dispose([images, fromKd, activations, reference]);
    keras.dispose();
  });

  it('Grad-CAM of a named conv layer equals Grad-CAM from finite-difference channel weights', () => {
    const keras = convNet({ name: 'grad', seed: 3 });
    const model = fromLayersModel(keras, { features: ['grad_relu1', 'grad_conv2', 'grad_flatten'] });
    const image = randomTensor([1, 8, 8, 1], 4) as tf.Tensor4D;
    const classIndex = 2;
    const cam = gradCam(model, image, { layer: 'grad_conv2', classIndex });
    expect(cam.shape).toEqual([1, 4, 4]);
    const actual = cam.dataSync().slice();
    cam.dispose();
    const byIndex = gradCam(model, image, { layer: 1, classIndex });
    expect(Array.from(byIndex.dataSync())).toEqual(Array.from(actual));
    byIndex.dispose();

    // w_c = (1/HW) Σ_hw ∂y/∂A[h,w,c], by central differences of y(A + ε·1_c) through the feature hook.
    const channels = 16;
    const logitWith = (channel: number, epsilon: number): number =>
      tf.tidy(() => {
        const shift = tf.reshape(tf.mul(tf.oneHot(tf.tensor1d([channel], 'int32'), channels), epsilon), [
          1,
          1,
          1,
          channels,
        ]);
        const output = model.apply(image, {
          training: false,
          featureHook: (index, feature) => (index === 1 ? tf.add(feature, shift) : feature),
        });
        return output.logits.dataSync()[classIndex] as number;
      });
    const step = 1e-2;
    const weights = Array.from(
      { length: channels },
      (_, channel) => (logitWith(channel, step) - logitWith(channel, -step)) / (2 * step) / 16,
    );
    const activations = tf.tidy(() => model.apply(image, { training: false }).features[1]!.dataSync().slice());
    const expected = new Float32Array(16);
    for (let position = 0; position < 16; position++) {
      let sum = 0;
      for (let channel = 0; channel < channels; channel++)
        sum += (weights[channel] as number) * (activations[position * channels + channel] as number);
      expected[position] = sum;
    }
    normalizeCam(expected, { signCorrection: false });
    expectArraysClose(actual, expected, { atol: 2e-3 });
    expectThrowsWith(
      () => gradCam(model, image, { layer: 'grad_conv9' }),
      "gradCam: layer 'grad_conv9' is not a feature of model 'grad'; its features: grad_relu1, grad_conv2, grad_flatten",
    );
    image.dispose();
    keras.dispose();
  });
});
