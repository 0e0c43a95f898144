import { describeWithBackends, expectArraysClose, expectThrowsWith, randomTensor, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { expectModelTableRow } from '../../test/model-table';
import { createModel } from '../registry';
import { loadWeights, saveWeights } from '../weights';

function outputsOf(
  model: ReturnType<typeof createModel>,
  images: tf.Tensor4D,
): { logits: number[]; features: number[][]; preact: number[][] } {
  const output = model.apply(images, { training: false });
  const result = {
    logits: Array.from(output.logits.dataSync()),
    features: output.features.map((feature) => Array.from(feature.dataSync())),
    preact: output.preactivations.map((feature) => Array.from(feature.dataSync())),
  };
  tf.dispose([output.logits, ...output.features, ...output.preactivations]);
  return result;
}

describeWithBackends('mlp', () => {
  it('default (32×32×3, hidden [256, 256]): table params and feature shapes, inference and training', () =>
    expectModelTableRow('mlp', { training: true }));

  it('exact parameter count and PyTorch-style names for a small configuration', () => {
    const model = createModel('mlp', { numClasses: 5, inputShape: [1, 1, 2], hiddenSizes: [3, 4], seed: 1 });
    // (2·3 + 3) + (3·4 + 4) + (4·5 + 5) = 50.
    expect(model.countParams()).toBe(50);
    expect(model.namedVariables.map((entry) => [entry.name, entry.variable.shape])).toEqual([
      ['layers.0.weight', [2, 3]],
      ['layers.0.bias', [3]],
      ['layers.1.weight', [3, 4]],
      ['layers.1.bias', [4]],
      ['classifier.weight', [4, 5]],
      ['classifier.bias', [5]],
    ]);
    expect(model.nonTrainableVariables).toHaveLength(0);
    expect(model.inputChannels).toBe(2);
    expect(model.inputSize).toEqual([1, 1]);
    model.dispose();
  });

  it('forward pass equals plain loops: NHWC flatten, linear → ReLU per hidden layer, linear classifier', () => {
    const [height, width, channels] = [2, 2, 3];
    const model = createModel('mlp', {
      numClasses: 3,
      inputShape: [height, width, channels],
      hiddenSizes: [4, 2],
      seed: 5,
    });
    const images = randomTensor([2, height, width, channels], 3) as tf.Tensor4D;
    const input = Array.from(images.dataSync());
    const weights = Object.fromEntries(
      model.namedVariables.map((entry) => [entry.name, Array.from(entry.variable.dataSync())]),
    );
    const linear = (x: number[], name: string, inFeatures: number, outFeatures: number): number[] =>
      Array.from({ length: outFeatures }, (_, out) => {
        let sum = weights[`${name}.bias`]![out]!;
        for (let i = 0; i < inFeatures; i++) sum += x[i]! * weights[`${name}.weight`]![i * outFeatures + out]!;
        return sum;
      });
    const actual = outputsOf(model, images);
    const inFeatures = height * width * channels;
    const expected = { logits: [] as number[], features: [[], []] as number[][], preact: [[], []] as number[][] };
    for (let n = 0; n < 2; n++) {
      // NHWC order: the input index (h·W + w)·C + c is already the flat index of a row-major [H, W, C].
      const x = input.slice(n * inFeatures, (n + 1) * inFeatures);
      const pre0 = linear(x, 'layers.0', inFeatures, 4);
      const h0 = pre0.map((value) => Math.max(0, value));
      const pre1 = linear(h0, 'layers.1', 4, 2);
      const h1 = pre1.map((value) => Math.max(0, value));
      expected.preact[0]!.push(...pre0);
      expected.features[0]!.push(...h0);
      expected.preact[1]!.push(...pre1);
      expected.features[1]!.push(...h1);
      expected.logits.push(...linear(h1, 'classifier', 2, 3));
    }
    expectArraysClose(actual.logits, expected.logits, { rtol: 1e-5, atol: 1e-6 });
    actual.features.forEach((feature, index) =>
      expectArraysClose(feature, expected.features[index]!, { rtol: 1e-5, atol: 1e-6 }),
    );
    actual.preact.forEach((feature, index) =>
      expectArraysClose(feature, expected.preact[index]!, { rtol: 1e-5, atol: 1e-6 }),
    );
    tf.dispose(images);
    model.dispose();
  });

  it('a d-dimensional vector is [N, 1, 1, d]; features are [N, h_i], the last the penultimate vector', () => {
    const model = createModel('mlp', { numClasses: 4, inputShape: [1, 1, 6], hiddenSizes: [8, 5, 3] });
    const images = tf.zeros([7, 1, 1, 6]) as tf.Tensor4D;
    const output = model.apply(images, { training: true });
    expect(output.logits.shape).toEqual([7, 4]);
    expect(output.features.map((feature) => feature.shape)).toEqual([
      [7, 8],
      [7, 5],
      [7, 3],
    ]);
    expect(output.preactivations.map((feature) => feature.shape)).toEqual([
      [7, 8],
      [7, 5],
      [7, 3],
    ]);
    tf.dispose([images, output.logits, ...output.features, ...output.preactivations]);
    model.dispose();
  });

  it('names its hidden vectors: the first the stem, the last pooled, those between the stages', () => {
    const images = tf.zeros([2, 1, 1, 6]) as tf.Tensor4D;
    const deep = createModel('mlp', { numClasses: 4, inputShape: [1, 1, 6], hiddenSizes: [8, 5, 4, 3] });
    const output = deep.apply(images, { training: false });
    expect(output.stem).toBe(output.features[0]);
    expect(output.stages.length).toBe(2);
    expect(output.stages[0]).toBe(output.features[1]);
    expect(output.stages[1]).toBe(output.features[2]);
    expect(output.stages.map((stage) => stage.shape)).toEqual([
      [2, 5],
      [2, 4],
    ]);
    expect(output.pooled).toBe(output.features[3]);
    expect(output.pooled!.shape).toEqual([2, 3]);
    // One hidden layer: only a pooled vector.
    const shallow = createModel('mlp', { numClasses: 4, inputShape: [1, 1, 6], hiddenSizes: [8] });
    const single = shallow.apply(images, { training: false });
    expect(single.stem).toBeUndefined();
    expect(single.stages).toEqual([]);
    expect(single.pooled!.shape).toEqual([2, 8]);
    expect(single.features).toEqual([single.pooled]);
    tf.dispose([images, output.logits, ...output.features, ...output.preactivations]);
    tf.dispose([single.logits, ...single.features, ...single.preactivations]);
    deep.dispose();
    shallow.dispose();
  });

  it('rejects inputs of another size or channel count, naming the model', () => {
    const model = createModel('mlp', { numClasses: 3, inputShape: [4, 4, 1], hiddenSizes: [2] });
    const wrongSize = tf.zeros([1, 4, 5, 1]) as tf.Tensor4D;
    const wrongChannels = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const flat = tf.zeros([1, 16]);
    expectThrowsWith(
      () => model.apply(wrongSize, { training: false }),
      'mlp.apply',
      'images must be [N, 4, 4, 1]',
      'got [1,4,5,1]',
    );
    expectThrowsWith(() => model.apply(wrongChannels, { training: false }), 'mlp.apply', 'images', '1 channels');
    expectThrowsWith(() => model.apply(flat as unknown as tf.Tensor4D, { training: false }), 'mlp.apply', 'rank 4');
    tf.dispose([wrongSize, wrongChannels, flat]);
    model.dispose();
  });

  it('rejects bad sizes when created, naming the model and the option', () => {
    const bad: Array<[Record<string, unknown>, string[]]> = [
      [{ hiddenSizes: [] }, ['options.hiddenSizes', 'non-empty array']],
      [{ hiddenSizes: [4, 0] }, ['options.hiddenSizes[1]', '>= 1', 'got 0']],
      [{ hiddenSizes: [2.5] }, ['options.hiddenSizes[0]', 'integer']],
      [{ hiddenSizes: 8 }, ['options.hiddenSizes', 'non-empty array', 'got 8']],
      [{ inputShape: [1, 6] }, ['options.inputShape', 'an array of 3 positive integers']],
      [{ inputShape: [1, -1, 6] }, ['options.inputShape[1]', '>= 1']],
      [
        { inputShape: [1, 1, 6], inputChannels: 3 },
        ['options.inputShape has 6 channels', 'options.inputChannels is 3'],
      ],
      [{ inputShape: [1, 1, 2 ** 20], hiddenSizes: [2 ** 10] }, ['layers.0.weight', 'scalars']],
    ];
    for (const [options, fragments] of bad) {
      expectThrowsWith(() => createModel('mlp', { numClasses: 3, ...options }), "createModel('mlp')", ...fragments);
    }
    expectThrowsWith(
      () => createModel('mlp', { numClasses: 3, hiddenSize: [4] } as unknown as Parameters<typeof createModel>[1]),
      'createModel',
      "unknown option 'hiddenSize', did you mean 'hiddenSizes'?",
    );
    expectThrowsWith(
      () => createModel('resnet8', { numClasses: 3, hiddenSizes: [4] }),
      'createModel',
      'hiddenSizes',
      "'resnet8' is convolutional",
    );
    expectThrowsWith(
      () => createModel('resnet8', { numClasses: 3, inputShape: [32, 32, 3] }),
      'createModel',
      'inputShape',
      "'resnet8'",
    );
  });

  it('inputChannels alone sets the default input 32×32×inputChannels', () => {
    const model = createModel('mlp', { numClasses: 10, inputChannels: 1, hiddenSizes: [16] });
    expect(model.countParams()).toBe(1024 * 16 + 16 + 16 * 10 + 10);
    expect(model.inputSize).toEqual([32, 32]);
    model.dispose();
  });

  it('saveWeights / loadWeights round trip; another configuration is rejected', async () => {
    const options = { numClasses: 3, inputShape: [2, 2, 1] as const, hiddenSizes: [5] };
    const source = createModel('mlp', { ...options, seed: 1 });
    const target = createModel('mlp', { ...options, seed: 2 });
    const other = createModel('mlp', { ...options, hiddenSizes: [6], seed: 3 });
    const images = randomTensor([3, 2, 2, 1], 4) as tf.Tensor4D;
    const expected = outputsOf(source, images).logits;
    expect(outputsOf(target, images).logits).not.toEqual(expected);
    const artifacts = await saveWeights(source);
    loadWeights(target, artifacts);
    expect(outputsOf(target, images).logits).toEqual(expected);
    expect(() => loadWeights(other, artifacts)).toThrow(/loadWeights: .*layers\.0\.weight/);
    tf.dispose(images);
    [source, target, other].forEach((model) => model.dispose());
  });
});
