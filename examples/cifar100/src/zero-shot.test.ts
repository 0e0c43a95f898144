import { CIFAR_AUGMENTATION, createDataset, createLoader, type Dataset } from '@kd/data';
import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { maskingLoader } from './zero-shot';

const normalization = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };

/** 50 CIFAR-10-like images whose labels are i mod 10. */
function dataset(): Dataset {
  const count = 50;
  return createDataset({
    images: Uint8Array.from({ length: count * 4 * 4 * 3 }, (_, index) => (index * 37) % 256),
    labels: Int32Array.from({ length: count }, (_, index) => index % 10),
    height: 4,
    width: 4,
    channels: 3,
    classNames: Array.from({ length: 10 }, (_, label) => `c${label}`),
  });
}

describeWithBackends('zero-shot per-batch masking', () => {
  it('has as many steps per epoch as the full set, drops exactly the omitted classes, keeps evaluation passes whole', async () => {
    const omitted = [9, 7, 5, 3, 1, 0];
    const loader = maskingLoader({ omitted, normalization });
    const train = dataset();
    const options = { batchSize: 8, shuffle: true, seed: 3, dropLast: false, augment: true, epoch: 2 };
    let steps = 0;
    let samples = 0;
    const seen = new Set<number>();
    for await (const batch of loader(train, options)) {
      steps++;
      const labels = Array.from(batch.labels.dataSync());
      samples += labels.length;
      expect(labels.some((label) => omitted.includes(label))).toBe(false);
      expect(batch.images.shape[0]).toBe(labels.length);
      expect(Array.from(batch.indices, (index) => train.labels[index])).toEqual(labels);
      batch.indices.forEach((index) => seen.add(index));
      tf.dispose([batch.images, batch.labels]);
    }
    // The full set's ceil(50 / 8) = 7 batches, less those holding only omitted classes (skipped), read from the
    // plain loader's order; removing the 30 omitted samples first would give ceil(20 / 8) = 3 steps.
    let fullBatches = 0;
    let onlyOmitted = 0;
    const plainOptions = {
      batchSize: 8,
      shuffle: true,
      seed: 3,
      epoch: 2,
      augment: CIFAR_AUGMENTATION,
      normalize: normalization,
    };
    for await (const batch of createLoader(train, plainOptions)) {
      fullBatches++;
      if (Array.from(batch.labels.dataSync()).every((label) => omitted.includes(label))) onlyOmitted++;
      batch.dispose();
    }
    expect(fullBatches).toBe(7);
    expect(steps).toBe(fullBatches - onlyOmitted);
    expect(steps).toBeGreaterThan(3);
    expect(samples).toBe(20);
    expect(seen.size).toBe(20);
    let evaluationSamples = 0;
    for await (const batch of loader(train, { ...options, shuffle: false, augment: false })) {
      evaluationSamples += batch.labels.shape[0];
      tf.dispose([batch.images, batch.labels]);
    }
    expect(evaluationSamples).toBe(50);
  });

  it('keeps the images of the samples it keeps, normalised as the plain loader does', async () => {
    const train = dataset();
    const options = { batchSize: 10, shuffle: true, seed: 1, dropLast: false, augment: false, epoch: 1 };
    const masked = maskingLoader({ omitted: [2], normalization })(train, options);
    const plain = createLoader(train, { batchSize: 10, shuffle: true, seed: 1, epoch: 1, normalize: normalization });
    const plainIterator = plain[Symbol.asyncIterator]();
    for await (const batch of masked) {
      const reference = (await plainIterator.next()).value!;
      const keep = Array.from(reference.labels.dataSync()).flatMap((label, row) => (label === 2 ? [] : [row]));
      const expected = tf.tidy(() => tf.gather(reference.images, keep));
      expect(Array.from(batch.images.dataSync())).toEqual(Array.from(expected.dataSync()));
      tf.dispose([batch.images, batch.labels, reference.images, reference.labels, expected]);
    }
  });
});
