import { createLoader } from '@kd/data';
import type { KdModel } from '@kd/models';
import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { syntheticDataset } from '../../test/fixtures';
import type { LoaderFactory } from '../data';
import { measureClassConditionalStatistics } from './cmi';

const loader: LoaderFactory = (dataset, { augment: _augment, ...options }) => createLoader(dataset, options);

describeWithBackends('measureClassConditionalStatistics', () => {
  it('matches centroids and mean KL(P‖Q_y) computed by hand', async () => {
    const dataset = syntheticDataset({ count: 6, seed: 1, numClasses: 2 });
    // A "model" whose logits are a fixed function of the mean pixel, so the expected numbers are computable.
    const model: KdModel = {
      name: 'fixed',
      numClasses: 2,
      inputChannels: 1,
      trainableVariables: [],
      nonTrainableVariables: [],
      apply: (images) =>
        tf.tidy(() => {
          const m = tf.mean(images, [1, 2, 3]);
          return {
            logits: tf.stack([tf.mul(m, 4), tf.sub(1, m)], 1) as tf.Tensor2D,
            features: [],
            stages: [],
            preactivations: [],
          };
        }),
      countParams: () => 0,
      dispose: () => undefined,
    };
    const result = await measureClassConditionalStatistics({ model, dataset, loader, batchSize: 4 });
    const pixels = 64;
    const probabilities = Array.from({ length: 6 }, (_, sample) => {
      let sum = 0;
      for (let index = 0; index < pixels; index++) sum += dataset.images[sample * pixels + index]! / 255;
      const m = sum / pixels;
      const z = [4 * m, 1 - m];
      const normaliser = Math.exp(z[0]!) + Math.exp(z[1]!);
      return z.map((value) => Math.exp(value) / normaliser);
    });
    const centroids = [0, 1].map((label) => {
      const rows = probabilities.filter((_, sample) => dataset.labels[sample] === label);
      return [0, 1].map((c) => rows.reduce((sum, row) => sum + row[c]!, 0) / rows.length);
    });
    let kl = 0;
    probabilities.forEach((row, sample) => {
      const q = centroids[dataset.labels[sample]!]!;
      kl += row.reduce((sum, p, c) => sum + p * (Math.log(p) - Math.log(q[c]!)), 0);
    });
    expect(result.count).toBe(6);
    expect(Array.from(result.centroids)).toEqual(centroids.flat().map((value) => expect.closeTo(value, 5)));
    expect(result.cmi).toBeCloseTo(kl / 6, 6);
    expect(result.cmi).toBeGreaterThan(0);
  });
});
