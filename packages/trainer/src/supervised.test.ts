import { createDataset } from '@kd/data';
import { createModel } from '@kd/models';
import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { snapshot, syntheticDataset, tinyModel } from '../test/fixtures';
import { MemoryStore } from './io/store';
import { trainSupervised } from './supervised';

describeWithBackends('trainSupervised', () => {
  it('learns the synthetic problem and writes checkpoint, metrics log, run record and plot', async () => {
    const model = tinyModel({ seed: 1 });
    const store = new MemoryStore();
    const result = await trainSupervised({
      model,
      data: { train: syntheticDataset({ count: 128, seed: 1 }), test: syntheticDataset({ count: 64, seed: 2 }) },
      epochs: 4,
      batchSize: 16,
      learningRate: 0.1,
      schedule: { kind: 'cosine' },
      augmentation: false,
      store,
      progress: false,
    });
    expect(result.history).toHaveLength(4);
    expect(result.last.test!.top1).toBeGreaterThan(0.9);
    expect(result.history[3]!.train.losses.ce).toBeLessThan(result.history[0]!.train.losses.ce!);
    expect(result.last.test!.confusionMatrix.flat().reduce((a, b) => a + b, 0)).toBe(64);
    const lines = store.text('metrics.jsonl')!.trim().split('\n');
    expect(lines).toHaveLength(4);
    const record = JSON.parse(store.text('run.json')!);
    expect(record.status).toBe('finished');
    expect(record.backend).toBe(tf.getBackend());
    expect(record.tfjsVersion).toBe(tf.version_core);
    expect(record.last.epoch).toBe(4);
    const png = store.files.get('curves.png')!;
    expect(Array.from(png.slice(1, 4))).toEqual([0x50, 0x4e, 0x47]);
    expect(store.files.has('checkpoint-4.bin')).toBe(true);
    expect(store.files.has('checkpoint-3.bin')).toBe(false);
    model.dispose();
  });
});

describeWithBackends('trainSupervised: the zoo mlp', () => {
  it('learns the synthetic problem from flattened 8×8 images and writes its checkpoint', async () => {
    const model = createModel('mlp', { numClasses: 4, inputShape: [8, 8, 1], hiddenSizes: [32], seed: 1 });
    const store = new MemoryStore();
    const result = await trainSupervised({
      model,
      data: { train: syntheticDataset({ count: 128, seed: 1 }), test: syntheticDataset({ count: 64, seed: 2 }) },
      epochs: 6,
      batchSize: 16,
      learningRate: 0.05,
      schedule: { kind: 'cosine' },
      augmentation: false,
      store,
      progress: false,
    });
    expect(result.last.test!.top1).toBeGreaterThan(0.9);
    expect(result.history[5]!.train.losses.ce).toBeLessThan(result.history[0]!.train.losses.ce!);
    const record = JSON.parse(store.text('run.json')!);
    expect(record.status).toBe('finished');
    expect(store.files.has('checkpoint-6.bin')).toBe(true);
    model.dispose();
  });
});

describeWithBackends('trainSupervised: abort, resume checks', () => {
  const train = syntheticDataset({ count: 64, seed: 3 });
  const base = { data: { train }, epochs: 3, batchSize: 16, augmentation: false as const, progress: false as const };

  it('stops on the abort signal between steps, records it, and resumes to the uninterrupted result', async () => {
    const reference = tinyModel({ seed: 4 });
    await trainSupervised({ ...base, model: reference });
    const expected = snapshot(reference);
    reference.dispose();

    const model = tinyModel({ seed: 4 });
    const store = new MemoryStore();
    const controller = new AbortController();
    try {
      await expect(
        trainSupervised({
          ...base,
          model,
          store,
          signal: controller.signal,
          onStepEnd: (info) => (info.epoch === 2 && info.step === 2 ? controller.abort() : undefined),
        }),
      ).rejects.toThrow(
        'trainSupervised: aborted at epoch 2 before step 3; the last checkpoint (epoch 1) is intact: pass resume: true to continue.',
      );
      expect(JSON.parse(store.text('run.json')!).status).toBe('aborted');
      const result = await trainSupervised({ ...base, model, store, resume: true });
      expect(result.history).toHaveLength(3);
      expect(snapshot(model)).toEqual(expected);
      // A finished run resumed again trains nothing and returns the same history.
      const again = await trainSupervised({ ...base, model, store, resume: 'auto' });
      expect(again.history).toEqual(result.history);
      await expect(trainSupervised({ ...base, model, store, resume: true, seed: 5 })).rejects.toThrow(
        'trainSupervised: cannot resume, the checkpoint is from a different run: seed: checkpoint has 0, this run has 5',
      );
      await expect(trainSupervised({ ...base, model, store: new MemoryStore(), resume: true })).rejects.toThrow(
        'trainSupervised: resume is true but the store holds no checkpoint',
      );
    } finally {
      model.dispose();
    }
  });
  it("takes @kd/data's Dataset: a plain object without indices is refused, createDataset fills them in", async () => {
    const full = syntheticDataset({ count: 32, seed: 3 });
    const { images, labels, height, width, channels } = full;
    const fields = { images, labels, height, width, channels };
    const model = tinyModel({ seed: 2 });
    try {
      const withoutIndices = { ...fields, numClasses: full.numClasses, classNames: full.classNames };
      await expect(
        trainSupervised({ model, data: { train: withoutIndices as never }, epochs: 1, progress: false }),
      ).rejects.toThrow(
        'trainSupervised: data.train.indices must be an Int32Array (createDataset fills in 0…N−1), got undefined',
      );
      let samples = 0;
      const train = createDataset({ ...fields, classNames: full.classNames });
      expect([...train.indices]).toEqual(Array.from({ length: 32 }, (_, row) => row));
      const result = await trainSupervised({
        model,
        data: { train },
        epochs: 1,
        batchSize: 8,
        augmentation: false,
        progress: false,
        onStepEnd: () => void samples++,
      });
      expect(samples).toBe(4);
      expect(result.last.train.count).toBe(32);
    } finally {
      model.dispose();
    }
  });
});
