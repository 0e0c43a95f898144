import { describeWithBackends, expectArraysClose, expectThrowsWith, tf, valuesOf } from '@kd/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postProcess, uniform } from '../test/reference';
import { TinyHookModel, tinyForward, type TinyModelWeights } from '../test/tiny-model';
import { gradCam } from './grad-cam';

const batch = 2;
const height = 3;
const width = 4;
const positions = height * width;
const random = uniform(42);
const matrix = (rows: number, columns: number) =>
  Array.from({ length: rows }, () => Array.from({ length: columns }, () => random()));
const weights: TinyModelWeights = {
  w1: matrix(2, 3),
  w2: matrix(3, 4),
  wfc: matrix(4, 5),
  bias: [0.1, -0.2, 0.3, 0, 0.05],
};
const imageValues = Float32Array.from({ length: batch * positions * 2 }, () => random());

/** Σ_c w_c·A[n][p][c] for every position, then the Grad-CAM post-processing (ReLU, min–max). */
function expectedMap(activations: number[][], channelWeights: number[]): number[] {
  return postProcess(
    activations.map((row) => row.reduce((sum, value, c) => sum + value * channelWeights[c]!, 0)),
    false,
  );
}

describeWithBackends('gradCam', () => {
  let linear: TinyHookModel;
  let square: TinyHookModel;
  let deaf: TinyHookModel;
  let images: tf.Tensor4D;
  beforeAll(() => {
    linear = new TinyHookModel(weights, 'linear');
    square = new TinyHookModel(weights, 'square');
    deaf = new TinyHookModel(weights, 'linear', false);
    images = tf.tensor4d(imageValues, [batch, height, width, 2]);
  });
  afterAll(() => {
    [linear, square, deaf].forEach((model) => model.dispose());
    images.dispose();
  });

  it('linear head: w_c = Wfc[c, k] / HW at the last conv feature (the default layer)', () => {
    const k = 2;
    const { a1 } = tinyForward(weights, 'linear', imageValues, batch, positions);
    const maps = gradCam(linear, images, { classIndex: k });
    expect(maps.shape).toEqual([batch, height, width]);
    const expected = [0, 1].flatMap((n) =>
      expectedMap(
        a1[n]!,
        weights.wfc.map((row) => row[k]! / positions),
      ),
    );
    expectArraysClose(valuesOf(maps), expected, { atol: 1e-5 });
  });

  it('logit k = mean of channel k (Wfc = I): the map is normalise(ReLU(A_k))', () => {
    const identity = [0, 1, 2, 3].map((row) => [0, 1, 2, 3].map((column) => (row === column ? 1 : 0)));
    const pooling = { ...weights, wfc: identity, bias: [0, 0, 0, 0] };
    const model = new TinyHookModel(pooling, 'linear');
    const { a1 } = tinyForward(pooling, 'linear', imageValues, batch, positions);
    for (const k of [0, 3]) {
      const expected = [0, 1].flatMap((n) =>
        postProcess(
          a1[n]!.map((row) => row[k]!),
          false,
        ),
      );
      expectArraysClose(valuesOf(gradCam(model, images, { classIndex: k })), expected, { atol: 1e-5 });
    }
    model.dispose();
  });

  it('square head: w_c = 2·mean(A_c)·Wfc[c, k] / HW, per image and per class', () => {
    const classes = [4, 1];
    const { a1 } = tinyForward(weights, 'square', imageValues, batch, positions);
    const maps = gradCam(square, images, { classIndex: classes, layer: 1 });
    const expected = [0, 1].flatMap((n) => {
      const means = weights.wfc.map((_, c) => a1[n]!.reduce((sum, row) => sum + row[c]!, 0) / positions);
      return expectedMap(
        a1[n]!,
        weights.wfc.map((row, c) => (2 * means[c]! * row[classes[n]!]!) / positions),
      );
    });
    expectArraysClose(valuesOf(maps), expected, { atol: 1e-5 });
  });

  it('an earlier layer: w_j = Σ_c W2[j, c]·Wfc[c, k] / HW', () => {
    const k = 0;
    const { a0 } = tinyForward(weights, 'linear', imageValues, batch, positions);
    const channelWeights = weights.w2.map(
      (row) => row.reduce((sum, value, c) => sum + value * weights.wfc[c]![k]!, 0) / positions,
    );
    const maps = gradCam(linear, images, { classIndex: k, layer: 0 });
    expectArraysClose(
      valuesOf(maps),
      [0, 1].flatMap((n) => expectedMap(a0[n]!, channelWeights)),
      { atol: 1e-5 },
    );
  });

  it("defaults to each image's predicted class", () => {
    const { a1, logits } = tinyForward(weights, 'linear', imageValues, batch, positions);
    const predicted = logits.map((row) => row.indexOf(Math.max(...row)));
    const explicit = gradCam(linear, images, { classIndex: predicted });
    const automatic = gradCam(linear, images);
    expectArraysClose(valuesOf(automatic), valuesOf(explicit), { atol: 0 });
    expect(a1.length).toBe(batch);
  });

  it('throws when the model ignores featureHook', () => {
    expectThrowsWith(() => gradCam(deaf, images, { classIndex: 0 }), 'gradCam', 'featureHook', 'tiny-hook');
  });

  it('rejects bad arguments with messages naming gradCam and the argument', () => {
    expectThrowsWith(() => gradCam(linear, images, { classIndex: 5 }), 'gradCam', 'classIndex', '<= 4');
    expectThrowsWith(() => gradCam(linear, images, { classIndex: [0] }), 'gradCam', 'classIndex has 1 entries');
    expectThrowsWith(() => gradCam(linear, images, { classIndex: [0, 1.5] }), 'gradCam', 'classIndex[1]', 'integer');
    expectThrowsWith(() => gradCam(linear, images, { layer: 2 }), 'gradCam', 'layer 2 is rank 2', '0 [2,3,4,3]');
    expectThrowsWith(() => gradCam(linear, images, { layer: 3 }), 'gradCam', 'layer', '<= 2');
    const threeChannels = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    expectThrowsWith(() => gradCam(linear, threeChannels), 'gradCam', '3 channels', 'expects 2');
    threeChannels.dispose();
    const flat = tf.zeros([2, 2]);
    expectThrowsWith(() => gradCam(linear, flat as unknown as tf.Tensor4D), 'gradCam', 'images', 'rank 4');
    flat.dispose();
  });
});
