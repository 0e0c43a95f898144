import { describeWithBackends, expectArraysClose, expectThrowsWith, randomTensor, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { createModel } from './registry';

describeWithBackends('featureHook', () => {
  it('sees every feature in order, and an identity hook changes nothing', () => {
    const model = createModel('resnet8', { numClasses: 10, seed: 3 });
    const images = randomTensor([1, 32, 32, 3], 1) as tf.Tensor4D;
    const seen: Array<[number, number[]]> = [];
    const [plain, hooked] = tf.tidy(() => {
      const a = model.apply(images, { training: false }).logits;
      const b = model.apply(images, {
        training: false,
        featureHook: (index, feature) => {
          seen.push([index, [...feature.shape]]);
          return feature;
        },
      }).logits;
      return [a.dataSync().slice(), b.dataSync().slice()];
    });
    expect(seen).toEqual([
      [0, [1, 32, 32, 16]],
      [1, [1, 32, 32, 16]],
      [2, [1, 16, 16, 32]],
      [3, [1, 8, 8, 64]],
      [4, [1, 64]],
    ]);
    expectArraysClose(hooked, plain, { rtol: 0, atol: 0 });
    tf.dispose(images);
    model.dispose();
  });

  it('the pass continues with what the hook returns: zeroing the pooled vector leaves only the fc bias', () => {
    const model = createModel('resnet8', { numClasses: 10, seed: 3 });
    const images = randomTensor([2, 32, 32, 3], 2) as tf.Tensor4D;
    const logits = tf.tidy(() =>
      model
        .apply(images, {
          training: false,
          featureHook: (index, feature) => (index === 4 ? tf.zerosLike(feature) : feature),
        })
        .logits.dataSync()
        .slice(),
    );
    const bias = model.namedVariables.find((entry) => entry.name === 'fc.bias')?.variable.dataSync() as Float32Array;
    expectArraysClose(logits, [...bias, ...bias], { rtol: 0, atol: 0 });
    tf.dispose(images);
    model.dispose();
  });

  it('rejects a hook that is not a function or changes a shape', () => {
    const model = createModel('resnet8', { numClasses: 10, seed: 3 });
    const images = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    expectThrowsWith(
      () => model.apply(images, { training: false, featureHook: 3 as unknown as () => tf.Tensor }),
      'resnet8.apply',
      'featureHook',
    );
    expectThrowsWith(
      () =>
        model.apply(images, {
          training: false,
          featureHook: (index, feature) => (index === 2 ? tf.slice(feature, [0, 0, 0, 0], [1, 1, 1, -1]) : feature),
        }),
      'featureHook',
      'feature 2',
    );
    tf.dispose(images);
    model.dispose();
  });
});
