import { describeWithBackends, expectThrowsWith, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { createModel } from './registry';
import { buildZooModel } from './zoo-model';
import { vggBn, vggConfigs } from './models/vgg';

function disposeOutput(output: { logits: tf.Tensor; features: tf.Tensor[]; preactivations: tf.Tensor[] }): void {
  tf.dispose([output.logits, ...output.features, ...output.preactivations]);
}

describeWithBackends('zoo models', () => {
  it('training mode updates every BN running statistic; inference mode updates none', () => {
    const model = createModel('resnet8', { numClasses: 10, seed: 1 });
    const images = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const snapshot = () => model.nonTrainableVariables.map((variable) => Array.from(variable.dataSync()));
    const initial = snapshot();
    // Means start at 0 and variances at 1, as PyTorch.
    expect(initial.every((values, index) => values.every((value) => value === (index % 2 === 0 ? 0 : 1)))).toBe(true);
    disposeOutput(model.apply(images, { training: false }));
    expect(snapshot()).toEqual(initial);
    const trainableBefore = model.trainableVariables.map((variable) => Array.from(variable.dataSync()));

    const output = model.apply(images, { training: true });
    const after = snapshot();
    after.forEach((values, index) => expect(values, `statistic ${index}`).not.toEqual(initial[index]));
    // The stem BN's running mean is 0.1 × the batch mean of the stem conv output (computed here with loops).
    const stemConv = tf.tidy(() => tf.conv2d(images, model.trainableVariables[0] as tf.Tensor4D, 1, 1));
    const stem = stemConv.dataSync();
    const channels = 16;
    const expectedMean = Array.from({ length: channels }, (_, channel) => {
      let sum = 0;
      for (let index = channel; index < stem.length; index += channels) sum += stem[index] as number;
      return (0.1 * sum) / (stem.length / channels);
    });
    after[0]!.forEach((value, channel) =>
      expect(Math.abs(value - (expectedMean[channel] as number))).toBeLessThan(1e-5),
    );
    // Training-mode apply does not change trainable weights.
    expect(model.trainableVariables.map((variable) => Array.from(variable.dataSync()))).toEqual(trainableBefore);
    tf.dispose([images, stemConv]);
    disposeOutput(output);
    model.dispose();
  });

  it('gradients reach every trainable variable of resnet8, and training keeps the tensor count flat', () => {
    const model = createModel('resnet8', { numClasses: 10, seed: 2 });
    // 8×8 images keep the pure-JS backward pass fast; every layer still runs (the pool is global).
    const images = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([3, 7], 'int32'), 10));
    const optimizer = tf.train.sgd(0.01);
    const counts: number[] = [];
    for (let step = 0; step < 2; step++) {
      const { value, grads } = tf.variableGrads(() => {
        const output = model.apply(images, { training: true });
        // Cross-entropy −mean Σ y·log softmax(z), written out (tf.losses' customGrad trips IS_TEST's leak check).
        return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(output.logits)), 1))) as tf.Scalar;
      }, model.trainableVariables);
      if (step === 0) {
        for (const variable of model.trainableVariables) {
          const gradient = grads[variable.name];
          expect(gradient, `gradient of ${variable.name}`).toBeDefined();
          const norm = tf.tidy(() => tf.sum(tf.abs(gradient as tf.Tensor)).dataSync()[0] as number);
          expect(norm, 'gradient norm').toBeGreaterThan(0);
          expect(Number.isFinite(norm)).toBe(true);
        }
        expect(Object.keys(grads)).toHaveLength(model.trainableVariables.length);
      }
      optimizer.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
      counts.push(tf.memory().numTensors);
    }
    expect(counts[1]).toBe(counts[0]);
    optimizer.dispose();
    tf.dispose([images, labels]);
    model.dispose();
  });

  it('repeated apply calls in both modes leave no tensors behind once outputs are disposed', () => {
    const model = createModel('shufflev2', { numClasses: 10, seed: 2 });
    const images = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    for (let repeat = 0; repeat < 2; repeat++) {
      disposeOutput(model.apply(images, { training: true }));
      disposeOutput(model.apply(images, { training: false }));
      expect(tf.memory().numTensors).toBe(before);
    }
    images.dispose();
    model.dispose();
  });

  it('rejects bad images and options naming the model, the function and the argument', () => {
    const model = createModel('resnet8', { numClasses: 10 });
    const wrongChannels = tf.zeros([1, 32, 32, 1]) as tf.Tensor4D;
    const wrongRank = tf.zeros([32, 32, 3]) as unknown as tf.Tensor4D;
    const wrongDtype = tf.zeros([1, 32, 32, 3], 'int32') as tf.Tensor4D;
    expectThrowsWith(() => model.apply(wrongChannels, { training: false }), 'resnet8.apply', 'images', '3 channels');
    expectThrowsWith(() => model.apply(wrongRank, { training: false }), 'resnet8.apply', 'images', 'rank 4');
    expectThrowsWith(() => model.apply(wrongDtype, { training: false }), 'resnet8.apply', 'images', 'float32');
    expectThrowsWith(
      () => model.apply(wrongDtype, { training: 'yes' as unknown as boolean }),
      'resnet8.apply',
      'options.training',
    );
    tf.dispose([wrongChannels, wrongRank, wrongDtype]);
    model.dispose();
    expectThrowsWith(() => model.apply(wrongChannels, { training: false }), 'resnet8.apply', 'disposed');
  });

  it('rejects NaN and ±Infinity images unless the call passes checkValues: false', () => {
    const model = createModel('resnet8', { numClasses: 10 });
    const cases: Array<[number, string]> = [
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, '±Infinity'],
      [Number.NEGATIVE_INFINITY, '±Infinity'],
    ];
    try {
      for (const [bad, named] of cases) {
        const values = new Float32Array(2 * 8 * 8 * 3).fill(0.5);
        values[values.length - 1] = bad;
        const images = tf.tensor4d(values, [2, 8, 8, 3]);
        for (const training of [false, true]) {
          const message =
            `resnet8.apply: images contains ${named}; images must be finite ` +
            "(apply's checkValues: false skips this scan)";
          expect(() => model.apply(images, { training })).toThrow(message);
          expect(() => model.apply(images, { training, checkValues: true })).toThrow(message);
        }
        // Per call: an unchecked apply lets the bad value through to the logits of its sample (the second one) ...
        const output = model.apply(images, { training: false, checkValues: false });
        const logits = output.logits.dataSync();
        disposeOutput(output);
        expect(Array.from(logits.subarray(0, 10)).every(Number.isFinite)).toBe(true);
        expect(Number.isFinite(logits[10]!)).toBe(false);
        // ... and leaves the next call's default (checked) untouched.
        expect(() => model.apply(images, { training: false })).toThrow(`resnet8.apply: images contains ${named}`);
        images.dispose();
      }
      const images = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
      try {
        for (const bad of ['no', 0, null]) {
          expect(() => model.apply(images, { training: false, checkValues: bad as unknown as boolean })).toThrow(
            `resnet8.apply: options.checkValues must be a boolean, got ${bad === 'no' ? "'no'" : String(bad)}`,
          );
        }
        expect(() => model.apply(images, { training: false, checkValue: false } as never)).toThrow(
          "resnet8.apply: unknown option 'checkValue', did you mean 'checkValues'?",
        );
      } finally {
        images.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  it('rejects inputs too small for the architecture before the forward pass, naming the minimum', () => {
    const vgg = createModel('vgg8', { numClasses: 10 });
    const runningBefore = vgg.nonTrainableVariables.map((variable) => Array.from(variable.dataSync()));
    try {
      for (const [height, width] of [
        [2, 2],
        [7, 7],
        [8, 7],
        [1, 32],
      ] as Array<[number, number]>) {
        const images = tf.zeros([1, height, width, 3]) as tf.Tensor4D;
        expect(() => vgg.apply(images, { training: true })).toThrow(
          `vgg8.apply: images of ${height}×${width} are too small for vgg8: its feature maps would be empty; the minimum is 8×8`,
        );
        images.dispose();
      }
      expect(vgg.nonTrainableVariables.map((variable) => Array.from(variable.dataSync()))).toEqual(runningBefore);
      const smallest = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
      const output = vgg.apply(smallest, { training: false });
      expect(output.features.every((feature) => feature.size > 0)).toBe(true);
      disposeOutput(output);
      smallest.dispose();
    } finally {
      vgg.dispose();
    }
  });

  it('declares the tight minimum input size: every zoo model works there, VGG without the check empties a map below it', () => {
    // One model of each family (the deeper ones share their family's stem and downsampling).
    const families = [
      'resnet8',
      'resnet8x4',
      'resnet50',
      'wrn16_1',
      'vgg8',
      'vgg19',
      'mobilenetv2',
      'shufflev1',
      'shufflev2',
    ];
    for (const name of families) {
      const model = createModel(name, { numClasses: 4 });
      const minimum = name.startsWith('vgg') ? 8 : 1;
      const images = tf.zeros([1, minimum, minimum, 3]) as tf.Tensor4D;
      try {
        const output = model.apply(images, { training: false });
        expect(
          output.features.every((feature) => feature.size > 0),
          name,
        ).toBe(true);
        disposeOutput(output);
      } finally {
        images.dispose();
        model.dispose();
      }
    }
    const unchecked = buildZooModel({
      name: 'vgg8-unchecked',
      numClasses: 4,
      inputChannels: 3,
      seed: 0,
      build: vggBn(vggConfigs.vgg8),
    });
    const seven = tf.zeros([1, 7, 7, 3]) as tf.Tensor4D;
    const output = unchecked.apply(seven, { training: false });
    expect(output.features.some((feature) => feature.size === 0)).toBe(true);
    disposeOutput(output);
    seven.dispose();
    unchecked.dispose();
  });
});
