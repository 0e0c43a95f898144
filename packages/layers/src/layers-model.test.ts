import * as tfl from '@tensorflow/tfjs-layers';
import { describeWithBackends, expectArraysClose, expectThrowsWith, randomTensor, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { convNet, setSeededWeights } from './__fixtures__/models';
import { fromLayersModel } from './layers-model';

function predictLayers(model: tfl.LayersModel, names: string[], images: tf.Tensor): Float32Array[] {
  const probe = tfl.model({
    inputs: model.inputs,
    outputs: names.map((name) => model.getLayer(name).output as tfl.SymbolicTensor),
  });
  const outputs = probe.predict(images) as tf.Tensor | tf.Tensor[];
  const list = Array.isArray(outputs) ? outputs : [outputs];
  const values = list.map((tensor) => tensor.dataSync() as Float32Array);
  tf.dispose(list);
  return values;
}

describeWithBackends('fromLayersModel', () => {
  it("returns the named layers' outputs, equal to tf.model({ inputs, outputs: [layer.output] }).predict", () => {
    const keras = convNet({ name: 'feat', seed: 1 });
    const model = fromLayersModel(keras, { features: ['feat_relu1', 'feat_conv2', 'feat_flatten'] });
    const images = randomTensor([3, 8, 8, 1], 2) as tf.Tensor4D;
    const output = model.apply(images, { training: false });
    expect(output.features.map((feature) => feature.shape)).toEqual([
      [3, 8, 8, 8],
      [3, 4, 4, 16],
      [3, 64],
    ]);
    const expected = predictLayers(keras, ['feat_relu1', 'feat_conv2', 'feat_flatten', 'feat_dense'], images);
    output.features.forEach((feature, index) =>
      expectArraysClose(feature.dataSync(), expected[index] as Float32Array, { atol: 1e-5 }),
    );
    expectArraysClose(output.logits.dataSync(), expected[3] as Float32Array, { atol: 1e-5 });
    expect(model.featureNames).toEqual(['feat_relu1', 'feat_conv2', 'feat_flatten']);
    expect(model.numClasses).toBe(4);
    expect(model.inputChannels).toBe(1);
    expect(model.inputSize).toEqual([8, 8]);
    tf.dispose([images, output as unknown as tf.TensorContainer]);
    keras.dispose();
  });

  it('names the features by role: from an array in the reference layout, or from { stem, stages, pooled, preactivations }', () => {
    const keras = convNet({ name: 'roles', seed: 2 });
    const images = randomTensor([2, 8, 8, 1], 3) as tf.Tensor4D;
    const expected = predictLayers(
      keras,
      ['roles_relu1', 'roles_conv2', 'roles_pool2', 'roles_flatten', 'roles_bn1'],
      images,
    );
    // An array: a last rank-2 entry is pooled, the first of the others the stem, the rest the stages.
    const positional = fromLayersModel(keras, {
      features: ['roles_relu1', 'roles_conv2', 'roles_pool2', 'roles_flatten'],
    });
    const a = positional.apply(images, { training: false });
    expectArraysClose(a.stem!.dataSync(), expected[0]!, { atol: 1e-5 });
    expect(a.stages.map((stage) => stage.shape)).toEqual([
      [2, 4, 4, 16],
      [2, 2, 2, 16],
    ]);
    expectArraysClose(a.stages[1]!.dataSync(), expected[2]!, { atol: 1e-5 });
    expectArraysClose(a.pooled!.dataSync(), expected[3]!, { atol: 1e-5 });
    expect(a.preactivations).toEqual([]);
    // Maps only: no pooled vector.
    const maps = fromLayersModel(keras, { features: ['roles_relu1', 'roles_conv2'] });
    const b = maps.apply(images, { training: false });
    expect(b.pooled).toBeUndefined();
    expect(b.stages.map((stage) => stage.shape)).toEqual([[2, 4, 4, 16]]);
    // An object: each role by name, preactivations too; features is [stem, ...stages, pooled].
    const named = fromLayersModel(keras, {
      features: {
        stem: 'roles_relu1',
        stages: ['roles_pool2'],
        pooled: 'roles_flatten',
        preactivations: ['roles_bn1'],
      },
    });
    const c = named.apply(images, { training: false });
    expect(named.featureNames).toEqual(['roles_relu1', 'roles_pool2', 'roles_flatten']);
    expect(c.features.length).toBe(3);
    expect(c.stem).toBe(c.features[0]);
    expect(c.stages[0]).toBe(c.features[1]);
    expect(c.pooled).toBe(c.features[2]);
    expectArraysClose(c.stages[0]!.dataSync(), expected[2]!, { atol: 1e-5 });
    expectArraysClose(c.preactivations[0]!.dataSync(), expected[4]!, { atol: 1e-5 });
    expectThrowsWith(
      () => fromLayersModel(keras, { features: { stem: 'roles_relu1', pooled: 'roles_conv2' } }),
      "fromLayersModel: features.pooled 'roles_conv2' outputs [?,4,4,16]; pooled must be [N, D]",
    );
    expectThrowsWith(
      () => fromLayersModel(keras, { features: { stage: ['roles_conv2'] } as never }),
      "fromLayersModel: unknown option 'stage' in features, did you mean 'stages'?",
    );
    expectThrowsWith(
      () => fromLayersModel(keras, { features: { stem: 'roles_relu1', stages: ['roles_relu1'] } }),
      "'roles_relu1' is listed twice",
    );
    tf.dispose([
      images,
      a as unknown as tf.TensorContainer,
      b as unknown as tf.TensorContainer,
      c as unknown as tf.TensorContainer,
    ]);
    keras.dispose();
  });

  it('scans the images for NaN and ±Infinity unless the call passes checkValues: false', () => {
    const keras = convNet({ name: 'scan', seed: 4 });
    const model = fromLayersModel(keras);
    const values = new Float32Array(2 * 8 * 8).fill(0.25);
    values[values.length - 1] = Number.NaN;
    const images = tf.tensor4d(values, [2, 8, 8, 1]);
    const infinite = tf.tensor4d(
      values.map((value) => (Number.isNaN(value) ? -Infinity : value)),
      [2, 8, 8, 1],
    );
    const fn = "fromLayersModel('scan').apply";
    try {
      const message = `${fn}: images contains NaN; images must be finite (apply's checkValues: false skips this scan)`;
      expect(() => model.apply(images, { training: false })).toThrow(message);
      expect(() => model.apply(images, { training: true, checkValues: true })).toThrow(message);
      expect(() => model.apply(infinite, { training: false })).toThrow(`${fn}: images contains ±Infinity`);
      // Unchecked, the NaN reaches the logits of its own sample (the second) only.
      const output = model.apply(images, { training: false, checkValues: false });
      const logits = output.logits.dataSync();
      tf.dispose(output as unknown as tf.TensorContainer);
      expect(Array.from(logits.subarray(0, 4)).every(Number.isFinite)).toBe(true);
      expect(Array.from(logits.subarray(4, 8)).every(Number.isNaN)).toBe(true);
      expect(() => model.apply(images, { training: false, checkValues: 'no' as unknown as boolean })).toThrow(
        `${fn}: options.checkValues must be a boolean, got 'no' (a string)`,
      );
    } finally {
      tf.dispose([images, infinite]);
      keras.dispose();
    }
  });

  it('defaults to the last layer of each spatial size, then the input of the final dense layer', () => {
    const keras = convNet({ name: 'dflt', seed: 3 });
    const model = fromLayersModel(keras);
    // 8×8: conv1, bn1, relu1 → relu1; 4×4: pool1, conv2 → conv2 (its ReLU is inside); 2×2: pool2; then flatten.
    expect(model.featureNames).toEqual(['dflt_relu1', 'dflt_conv2', 'dflt_pool2', 'dflt_flatten']);
    keras.dispose();
  });

  it("uses the model's own variables: trainable weights, BN moving statistics as non-trainable, names from Keras", () => {
    const keras = convNet({ name: 'vars', seed: 4 });
    const model = fromLayersModel(keras);
    const trainable = keras.trainableWeights.map((weight) => weight.read());
    expect(model.trainableVariables).toEqual(trainable);
    expect(model.trainableVariables.every((variable) => variable instanceof tf.Variable)).toBe(true);
    expect(model.nonTrainableVariables.map((variable) => variable.shape)).toEqual([[8], [8]]);
    // conv1 3·3·1·8 + 8, BN γ/β 2·8, conv2 3·3·8·16 + 16, dense 64·4 + 4
    expect(model.countParams()).toBe(80 + 16 + 1168 + 260);
    expect(model.namedVariables?.map((entry) => entry.name)).toEqual(
      keras.weights.map((weight) => weight.originalName),
    );
    // An update through the KdModel's variable is seen by Keras.
    const variable = model.trainableVariables[0] as tf.Variable;
    tf.tidy(() => variable.assign(tf.onesLike(variable)));
    const [kernel] = keras.getLayer('vars_conv1').getWeights(); // the variables themselves, not copies
    expect(Array.from(kernel!.dataSync()).every((value) => value === 1)).toBe(true);
    keras.dispose();
  });

  it("training: true updates a BatchNormalization layer's moving statistics (momentum 0.99); false does not", () => {
    const keras = convNet({ name: 'bn', seed: 5 });
    const model = fromLayersModel(keras, { features: ['bn_conv1'] });
    const images = randomTensor([4, 8, 8, 1], 6) as tf.Tensor4D;
    const bn = keras.getLayer('bn_bn1');
    const read = () => bn.getWeights().map((variable) => variable.dataSync().slice());
    const [, , mean0, variance0] = read() as [Float32Array, Float32Array, Float32Array, Float32Array];
    tf.dispose(model.apply(images, { training: false }) as unknown as tf.TensorContainer);
    const [, , meanInference, varianceInference] = read() as Float32Array[];
    expect(Array.from(meanInference!)).toEqual(Array.from(mean0));
    expect(Array.from(varianceInference!)).toEqual(Array.from(variance0));

    // Batch statistics of conv1's output per channel, by plain loops; Keras: m ← m − (1 − 0.99)(m − μ_B),
    // v ← v − (1 − 0.99)(v − σ²_B) with the unbiased batch variance (n / (n − 1)).
    const output = model.apply(images, { training: false });
    const conv = output.features[0]!.dataSync();
    tf.dispose(output as unknown as tf.TensorContainer);
    const count = 4 * 8 * 8;
    const expectedMean = new Float32Array(8);
    const expectedVariance = new Float32Array(8);
    for (let channel = 0; channel < 8; channel++) {
      let sum = 0;
      for (let position = 0; position < count; position++) sum += conv[position * 8 + channel] as number;
      const mu = sum / count;
      let squares = 0;
      for (let position = 0; position < count; position++)
        squares += ((conv[position * 8 + channel] as number) - mu) ** 2;
      const unbiased = squares / (count - 1);
      expectedMean[channel] = (mean0[channel] as number) - 0.01 * ((mean0[channel] as number) - mu);
      expectedVariance[channel] = (variance0[channel] as number) - 0.01 * ((variance0[channel] as number) - unbiased);
    }
    tf.dispose(model.apply(images, { training: true }) as unknown as tf.TensorContainer);
    const [, , mean1, variance1] = read() as Float32Array[];
    expectArraysClose(mean1!, expectedMean, { atol: 1e-5 });
    expectArraysClose(variance1!, expectedVariance, { atol: 1e-4 });
    expect(Array.from(mean1!)).not.toEqual(Array.from(mean0));
    images.dispose();
    keras.dispose();
  });

  it('passes training to Dropout: identity in inference, drops in training', () => {
    const input = tfl.input({ shape: [4, 4, 2] });
    const dropped = tfl.layers.dropout({ name: 'drop', rate: 0.5 }).apply(input) as tfl.SymbolicTensor;
    const flat = tfl.layers.flatten({ name: 'flat' }).apply(dropped) as tfl.SymbolicTensor;
    const logits = tfl.layers.dense({ name: 'out', units: 3 }).apply(flat) as tfl.SymbolicTensor;
    const keras = tfl.model({ name: 'dropnet', inputs: input, outputs: logits });
    setSeededWeights(keras, 7);
    const model = fromLayersModel(keras, { features: ['drop'] });
    const images = tf.ones([2, 4, 4, 2]) as tf.Tensor4D;
    const values = (training: boolean) =>
      tf.tidy(() => Array.from(model.apply(images, { training }).features[0]!.dataSync()));
    expect(values(false).every((value) => value === 1)).toBe(true);
    const trained = values(true);
    expect(trained.some((value) => value === 0)).toBe(true);
    expect(trained.every((value) => value === 0 || Math.abs(value - 2) < 1e-6)).toBe(true); // inverted dropout: 1/(1−0.5)
    images.dispose();
    keras.dispose();
  });

  it('reads the pre-activation of a softmax head by default, or refuses with the fix', () => {
    for (const head of ['softmax', 'softmax-layer'] as const) {
      const keras = convNet({ name: `sm_${head.replace('-', '_')}`, seed: 8, head });
      const linear = convNet({ name: `lin_${head.replace('-', '_')}`, seed: 8 });
      const images = randomTensor([2, 8, 8, 1], 9) as tf.Tensor4D;
      const model = fromLayersModel(keras);
      const logits = tf.tidy(() => model.apply(images, { training: false }).logits.dataSync());
      const expected = tf.tidy(() => (linear.predict(images) as tf.Tensor).dataSync());
      expectArraysClose(logits, expected, { atol: 1e-5 });
      // The probabilities Keras outputs are the softmax of what the KdModel returns.
      const probabilities = tf.tidy(() => (keras.predict(images) as tf.Tensor).dataSync());
      const softmax = tf.tidy(() => tf.softmax(tf.tensor2d(logits, [2, 4])).dataSync());
      expectArraysClose(probabilities, softmax, { atol: 1e-6 });
      expect(model.featureNames[model.featureNames.length - 1]).toBe(`${keras.name}_flatten`);
      expectThrowsWith(
        () => fromLayersModel(keras, { softmaxHead: 'refuse' }),
        'fromLayersModel',
        'applies a softmax',
        'probabilities, not logits',
        "softmaxHead: 'preActivation'",
      );
      images.dispose();
      keras.dispose();
      linear.dispose();
    }
  });

  it('rejects bad input with the function, the argument and what was expected', () => {
    const keras = convNet({ name: 'bad', seed: 10 });
    expectThrowsWith(() => fromLayersModel(null as never), 'fromLayersModel: model must be a tf.LayersModel');
    expectThrowsWith(
      () => fromLayersModel(keras, { featurs: ['x'] } as never),
      "fromLayersModel: unknown option 'featurs', did you mean 'features'?",
    );
    expectThrowsWith(
      () => fromLayersModel(keras, { features: ['bad_conv3'] }),
      "fromLayersModel: features 'bad_conv3' is not a layer of 'bad'",
      "did you mean 'bad_conv1'",
    );
    expectThrowsWith(
      () => fromLayersModel(keras, { features: 'bad_conv1' as never }),
      'fromLayersModel: features must be an array of layer names',
    );
    expectThrowsWith(
      () => fromLayersModel(keras, { features: ['bad_conv1', 'bad_conv1'] }),
      "features[1] 'bad_conv1' is listed twice",
    );
    expectThrowsWith(
      () => fromLayersModel(keras, { logits: 'bad_conv2' }),
      "the logits layer 'bad_conv2' outputs [?,4,4,16]; logits must be [N, numClasses]",
    );
    expectThrowsWith(
      () => fromLayersModel(keras, { softmaxHead: 'keep' as never }),
      "softmaxHead must be 'preActivation' or 'refuse'",
    );
    const model = fromLayersModel(keras);
    const wrongSize = tf.zeros([2, 16, 16, 1]) as tf.Tensor4D;
    expectThrowsWith(
      () => model.apply(wrongSize, { training: false }),
      "fromLayersModel('bad').apply: images [2,16,16,1] do not fit the model's input [?,8,8,1]",
    );
    const wrongChannels = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
    expectThrowsWith(
      () => model.apply(wrongChannels, { training: false }),
      "images [2,8,8,3] do not fit the model's input [?,8,8,1]",
    );
    const ints = tf.zeros([2, 8, 8, 1], 'int32') as tf.Tensor4D;
    expectThrowsWith(() => model.apply(ints, { training: false }), 'images must be float32, got int32');
    const good = tf.zeros([2, 8, 8, 1]) as tf.Tensor4D;
    expectThrowsWith(() => model.apply(good, {} as never), 'options.training must be a boolean');
    expectThrowsWith(
      () => model.apply(good, { training: false, featureHook: 3 as never }),
      'options.featureHook must be a function',
    );
    expectThrowsWith(
      () => model.apply(good, { training: false, featureHook: () => tf.zeros([1]) }),
      'featureHook returned [1] for feature 0, expected [2,8,8,8]',
    );
    tf.dispose([wrongSize, wrongChannels, ints, good]);
    const twoInputs = tfl.model({
      inputs: [tfl.input({ shape: [8, 8, 1] }), tfl.input({ shape: [8, 8, 1] })],
      outputs: [],
    });
    expectThrowsWith(() => fromLayersModel(twoInputs), 'has 2 inputs');
    const vectors = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [5], units: 3 })] });
    expectThrowsWith(() => fromLayersModel(vectors), 'takes [?,5]; it must take NHWC images');
    model.dispose();
    expectThrowsWith(() => model.apply(good, { training: false }), 'the model was disposed');
    vectors.dispose();
  });
});
