import { describeWithBackends, expectThrowsWith, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { vectorDataset, vectorLoader } from './vectors';

describeWithBackends('vector datasets', () => {
  const sample = {
    x: Float64Array.from({ length: 5 * 3 }, (_, index) => index + 0.5),
    labels: Int32Array.of(0, 1, 0, 1, 1),
    count: 5,
  };

  it('serves the rows of values as [B, 1, 1, d] batches, and cycles a subset to epochLength', async () => {
    const dataset = vectorDataset({ sample, dimension: 3, numClasses: 2, count: 3 });
    expect(dataset.channels).toBe(3);
    expect(dataset.images.length).toBe(9);
    const seen: number[][] = [];
    const labels: number[] = [];
    for await (const batch of vectorLoader()(dataset, {
      batchSize: 2,
      shuffle: false,
      seed: 0,
      dropLast: false,
      augment: false,
      epoch: 1,
    })) {
      expect(batch.images.shape).toEqual([batch.labels.shape[0], 1, 1, 3]);
      seen.push(
        ...Array.from({ length: batch.labels.shape[0] }, (_, row) =>
          Array.from(batch.images.dataSync().slice(row * 3, row * 3 + 3)),
        ),
      );
      labels.push(...batch.labels.dataSync());
      tf.dispose([batch.images, batch.labels]);
    }
    expect(seen).toEqual([
      [0.5, 1.5, 2.5],
      [3.5, 4.5, 5.5],
      [6.5, 7.5, 8.5],
    ]);
    expect(labels).toEqual([0, 1, 0]);
    let rows = 0;
    const counts = [0, 0, 0];
    for await (const batch of vectorLoader({ epochLength: 7 })(dataset, {
      batchSize: 4,
      shuffle: true,
      seed: 1,
      dropLast: false,
      augment: false,
      epoch: 1,
    })) {
      rows += batch.labels.shape[0];
      for (let row = 0; row < batch.labels.shape[0]; row++) counts[(batch.images.dataSync()[row * 3]! - 0.5) / 3]! += 1;
      tf.dispose([batch.images, batch.labels]);
    }
    expect(rows).toBe(7);
    expect(counts.sort()).toEqual([2, 2, 3]);
  });

  it('rejects a bad count and a dataset without values', () => {
    expectThrowsWith(
      () => vectorDataset({ sample, dimension: 3, numClasses: 2, count: 6 }),
      'vectorDataset',
      'count',
      '[1, 5]',
    );
    const plain = { ...vectorDataset({ sample, dimension: 3, numClasses: 2 }), values: undefined };
    expectThrowsWith(
      () =>
        vectorLoader()(plain as never, {
          batchSize: 2,
          shuffle: false,
          seed: 0,
          dropLast: false,
          augment: false,
          epoch: 1,
        }),
      'vectorLoader',
      'VectorDataset',
    );
  });
});
