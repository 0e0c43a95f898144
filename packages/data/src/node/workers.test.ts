import { expect, it } from 'vitest';
import { describeWithBackends, expectThrowsWith } from '@kd/test-utils';
import { randomDataset } from '../__fixtures__/datasets';
import { CIFAR_AUGMENTATION } from '../augment';
import type { Batch } from '../loader';
import { createLoader } from '../loader';
import { CIFAR10_NORMALIZATION } from '../normalization';
import { createParallelLoader, createWorkerProducer } from './workers';

async function collect(iterable: AsyncIterable<Batch>): Promise<{ images: number[][]; indices: number[][] }> {
  const images: number[][] = [];
  const indices: number[][] = [];
  for await (const batch of iterable) {
    images.push([...batch.images.dataSync()]);
    indices.push([...batch.indices]);
    batch.dispose();
  }
  return { images, indices };
}

describeWithBackends('worker threads', () => {
  const dataset = randomDataset({ count: 40, height: 32, width: 32, channels: 3, numClasses: 10, seed: 8 });
  const options = {
    batchSize: 8,
    shuffle: true,
    seed: 4,
    augment: CIFAR_AUGMENTATION,
    normalize: CIFAR10_NORMALIZATION,
  };

  it('produce exactly the batches of the single-threaded loader', async () => {
    const parallel = createParallelLoader(dataset, { ...options, workers: 2 });
    try {
      const expected = await collect(createLoader(dataset, options).batches({ epoch: 3 }));
      const actual = await collect(parallel.batches({ epoch: 3 }));
      expect(actual.indices).toEqual(expected.indices);
      expect(actual.images).toEqual(expected.images);
    } finally {
      await parallel.close();
    }
  });

  it('reject jobs after close and validate their options', async () => {
    const producer = createWorkerProducer({ dataset, workers: 1 });
    await producer.close();
    const loader = createLoader(dataset, { ...options, producer });
    await expect(collect(loader)).rejects.toThrow('createWorkerProducer: the producer is closed');
    expectThrowsWith(() => createWorkerProducer({ dataset, workers: 0 }), 'createWorkerProducer', 'workers');
  });
});
