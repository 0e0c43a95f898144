import { listModels } from '@kd/models';
import { expect, it } from 'vitest';
import { describeWasmVsCpu, tf, wasmBufferCount, wasmHeapBytes } from '../test/helpers';
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
      // The same cpu step on images with ±1e-6 noise: how far float32-sized perturbations alone move each gradient.
      const perturbed = await trainingStep('cpu', name, 2, SIZE, 1e-6);
      const wasm = await trainingStep('wasm', name, 2, SIZE);
      expect(Math.abs(wasm.loss - cpu.loss) / Math.abs(cpu.loss)).toBeLessThanOrEqual(1e-4);
      expect(wasm.gradients.length).toBe(cpu.gradients.length);
      // Some gradients are ill-conditioned: with batch 2, batch norm over few values (mobilenetv2), and the
      // first-layer weights of the shufflenets, a sum of x·dy over every pixel that nearly cancels; on cpu
      // alone ±1e-6 input noise moves them by up to a few % of the step's gradient scale G = max |g_cpu|. So
      // each variable must agree to 1e-4·G plus 4× that cpu-only sensitivity; a wrong kernel errs by O(G).
      const maxAbs = (values: Float32Array) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const maxDiff = (a: Float32Array, b: Float32Array) => {
        let diff = 0;
        for (let at = 0; at < b.length; at++) diff = Math.max(diff, Math.abs((a[at] as number) - (b[at] as number)));
        return diff;
      };
      const scale = Math.max(...cpu.gradients.map(maxAbs));
      cpu.gradients.forEach((expected, index) => {
        const sensitivity = maxDiff(perturbed.gradients[index] as Float32Array, expected);
        const error = maxDiff(wasm.gradients[index] as Float32Array, expected);
        expect(error, `${name} gradient of variable #${index} (cpu sensitivity ${sensitivity / scale} G)`).toBeLessThanOrEqual(
          1e-4 * scale + 4 * sensitivity,
        );
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
