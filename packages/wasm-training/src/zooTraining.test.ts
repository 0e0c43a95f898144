import { listModels } from '@kd/models';
import { expect, it } from 'vitest';
import { describeWasmVsCpu, relativeError, tf, wasmBufferCount, wasmHeapBytes } from '../test/helpers';
import { trainingStep } from '../test/zooStep';
import { createModel } from '@kd/models';

/**
 * One model per architecture family runs by default, on 2 images of 32×32 (smaller images leave 1×1 maps
 * whose batch norm over 2 values makes gradients numerically meaningless): the cpu reference step is what
 * costs, its filter gradient being a scalar loop. Deeper and wider members of a family reach the same
 * kernels with the same strides and pads. KD_ZOO_ALL=1 runs every model of the zoo (tens of minutes on cpu:
 * resnet110, resnet50, vgg19 and resnet8x4/32x4 dominate); vgg8 is left to it too (over a minute on cpu).
 */
const DEFAULT_MODELS = ['resnet8', 'wrn16_1', 'mobilenetv2', 'shufflev1', 'shufflev2'];
const SIZE = 32;
const models = process.env.KD_ZOO_ALL === '1' ? listModels() : DEFAULT_MODELS;

describeWasmVsCpu('one training step of the zoo: wasm with the training kernels equals cpu', () => {
  for (const name of models) {
    it(`${name}: same loss and gradients (batch 2, ${SIZE}×${SIZE})`, async () => {
      const cpu = await trainingStep('cpu', name, 2, SIZE);
      const wasm = await trainingStep('wasm', name, 2, SIZE);
      expect(Math.abs(wasm.loss - cpu.loss) / Math.abs(cpu.loss)).toBeLessThanOrEqual(1e-4);
      expect(wasm.gradients.length).toBe(cpu.gradients.length);
      cpu.gradients.forEach((expected, index) => {
        const error = relativeError(wasm.gradients[index] as Float32Array, expected);
        // Per variable, relative to its largest gradient entry; float32 summation order differs.
        expect(error, `${name} gradient of ${wasm.names[index]}`).toBeLessThanOrEqual(1e-3);
      });
    });
  }
});

describeWasmVsCpu('repeated wasm training steps leak nothing', () => {
  for (const name of ['resnet8', 'mobilenetv2']) {
    it(`${name}: tensors, wasm buffers and wasm heap flat over 4 SGD steps`, async () => {
      await tf.setBackend('wasm');
      const model = createModel(name, { numClasses: 10, seed: 1 });
      const optimizer = tf.train.sgd(0.01);
      const images = tf.randomUniform([4, 16, 16, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
      const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 3, 5, 9], 'int32'), 10) as tf.Tensor2D);
      const step = () =>
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => {
            const logits = model.apply(images, { training: true }).logits;
            return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.sub(logits, tf.logSumExp(logits, 1, true))), 1))) as tf.Scalar;
          }, model.trainableVariables);
          optimizer.applyGradients(grads);
          return value.dataSync()[0] as number;
        });
      step();
      const tensors = tf.memory().numTensors;
      const buffers = wasmBufferCount();
      const heap = wasmHeapBytes();
      const losses = [step(), step(), step(), step()];
      expect(tf.memory().numTensors).toBe(tensors);
      expect(wasmBufferCount()).toBe(buffers);
      expect(wasmHeapBytes()).toBe(heap);
      // The steps did train: the loss on the fixed batch went down.
      expect(losses[3]).toBeLessThan(losses[0] as number);
      tf.dispose([images, labels]);
      optimizer.dispose();
      model.dispose();
      await tf.setBackend('cpu');
    });
  }
});
