/**
 * Error paths of the training loop: bad batches from a custom loader, resuming a different run, a loss that
 * throws mid-step, aborting promptly, store failures around the epoch end.
 */
import { createLoader } from '@kd/data';
import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { syntheticDataset, tinyModel } from '../test/fixtures';
import type { Batch } from '@kd/data';
import type { LoaderFactory } from './data';
import { distillStudent } from './distill';
import { MemoryStore, type RunStore } from './io/store';
import type { ObjectiveSpec } from './objectives/types';
import { trainSupervised } from './supervised';

const train = syntheticDataset({ count: 64, seed: 41 });
const base = { data: { train }, batchSize: 16, augmentation: false as const, progress: false as const };

/** The default loader, with batch `badStep` of epoch `badEpoch` given the labels `labels`. */
function loaderWithLabels(badEpoch: number, badStep: number, labels: number[]): LoaderFactory {
  return (dataset, { augment: _augment, ...options }) => {
    const batches = createLoader(dataset, options);
    return (async function* () {
      let step = 0;
      for await (const batch of batches) {
        step++;
        if (options.epoch !== badEpoch || step !== badStep || !options.shuffle) {
          yield batch;
          continue;
        }
        batch.labels.dispose();
        const padded = labels.concat(new Array(batch.indices.length - labels.length).fill(0));
        const badLabels = tf.tensor1d(padded, 'int32');
        const bad: Batch = { ...batch, labels: badLabels, dispose: () => tf.dispose([batch.images, badLabels]) };
        yield bad;
      }
    })();
  };
}

function metricsEpochs(store: MemoryStore): number[] {
  return store
    .text('metrics.jsonl')!
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line).epoch as number);
}

describeWithBackends('training loop error paths', () => {
  it("frees every batch through the batch's own dispose() and refuses a batch without one", async () => {
    let disposed = 0;
    const counting: LoaderFactory = (dataset, { augment: _augment, ...options }) =>
      (async function* () {
        for await (const batch of createLoader(dataset, options)) {
          yield {
            ...batch,
            dispose: () => {
              disposed += 1;
              batch.dispose();
            },
          };
        }
      })();
    const withoutDispose: LoaderFactory = (dataset, { augment: _augment, ...options }) =>
      (async function* () {
        for await (const { images, labels, indices } of createLoader(dataset, options)) {
          yield { images, labels, indices } as unknown as Batch;
        }
      })();
    const model = tinyModel({ seed: 1 });
    try {
      await trainSupervised({ ...base, model, epochs: 2, loader: counting });
      // 64 samples in batches of 16, two epochs, no test set: 8 batches, each released once.
      expect(disposed).toBe(8);
      await expect(trainSupervised({ ...base, model, epochs: 1, loader: withoutDispose })).rejects.toThrow(
        "trainSupervised: the loader's batch 1 of epoch 1: dispose must be a function that frees the batch's tensors",
      );
    } finally {
      model.dispose();
    }
  });

  it('checks the labels of every batch a loader yields, not only data.train', async () => {
    const cases: Array<[number[], string]> = [
      [[0, 7], 'label 7 outside [0, 4)'],
      [[-1, 2], 'label -1 outside [0, 4)'],
      [[4], 'label 4 outside [0, 4)'],
    ];
    for (const [labels, message] of cases) {
      const model = tinyModel({ seed: 1 });
      const store = new MemoryStore();
      try {
        await expect(
          trainSupervised({ ...base, model, epochs: 2, store, loader: loaderWithLabels(2, 3, labels) }),
        ).rejects.toThrow(`trainSupervised: the loader's batch 3 of epoch 2 has ${message}; no update was applied`);
        expect(JSON.parse(store.text('run.json')!).status).toBe('failed');
      } finally {
        model.dispose();
      }
    }
    const model = tinyModel({ seed: 1 });
    const floatLabels: LoaderFactory = (dataset, { augment: _augment, ...options }) =>
      (async function* () {
        for await (const batch of createLoader(dataset, options)) {
          const labels = tf.cast(batch.labels, 'float32') as tf.Tensor1D;
          batch.labels.dispose();
          yield { ...batch, labels, dispose: () => tf.dispose([batch.images, labels]) };
        }
      })();
    try {
      await expect(trainSupervised({ ...base, model, epochs: 1, loader: floatLabels })).rejects.toThrow(
        "trainSupervised: the loader's batch 1 of epoch 1: labels must be an int32 tf.Tensor [B], got float32 [16]",
      );
    } finally {
      model.dispose();
    }
  });

  it('refuses to resume with other training images of the same count, or another teacher, naming the field', async () => {
    const model = tinyModel({ seed: 2 });
    const store = new MemoryStore();
    try {
      await trainSupervised({ ...base, model, epochs: 2, store });
      const other = syntheticDataset({ count: 64, seed: 42 });
      await expect(
        trainSupervised({ ...base, data: { train: other }, model, epochs: 2, store, resume: true }),
      ).rejects.toThrow(
        /^trainSupervised: cannot resume, the checkpoint is from a different run: trainDataCrc32: checkpoint has "[0-9a-f]{8}", this run has "[0-9a-f]{8}"$/,
      );
      // One flipped label is enough.
      const labels = train.labels.slice();
      labels[5] = (labels[5]! + 1) % 4;
      await expect(
        trainSupervised({ ...base, data: { train: { ...train, labels } }, model, epochs: 2, store, resume: true }),
      ).rejects.toThrow('trainDataCrc32');
    } finally {
      model.dispose();
    }

    const teacher = tinyModel({ seed: 3, name: 'teacher' });
    const otherTeacher = tinyModel({ seed: 4, name: 'teacher' });
    const student = tinyModel({ seed: 5, width: 2, name: 'student' });
    const distillStore = new MemoryStore();
    const objectives: ObjectiveSpec[] = [
      { method: 'ce', weight: 1 },
      { method: 'kd', weight: 1 },
    ];
    const distill = { ...base, objectives, measureTeacherCmi: false };
    try {
      await distillStudent({ ...distill, student, teacher, epochs: 2, store: distillStore });
      await expect(
        distillStudent({ ...distill, student, teacher: otherTeacher, epochs: 2, store: distillStore, resume: true }),
      ).rejects.toThrow(
        /^distillStudent: cannot resume, the checkpoint is from a different run: teacher\.variablesCrc32: checkpoint has "[0-9a-f]{8}", this run has "[0-9a-f]{8}"$/,
      );
      const result = await distillStudent({
        ...distill,
        student,
        teacher,
        epochs: 2,
        store: distillStore,
        resume: true,
      });
      expect(result.history.map((record) => record.epoch)).toEqual([1, 2]);
    } finally {
      for (const owned of [teacher, otherTeacher, student]) owned.dispose();
    }
  });

  it('leaks no tensor when the loss throws in the middle of a step, on any step', async () => {
    for (const failingStep of [1, 3]) {
      const inner = tinyModel({ seed: 6 });
      let calls = 0;
      const throwing = {
        ...inner,
        apply(images: tf.Tensor4D, options: { training: boolean }) {
          const output = inner.apply(images, options);
          if (options.training && ++calls === failingStep) {
            // A half-built loss: more ops on the tape, then a throw.
            tf.sum(tf.square(output.logits));
            throw new Error('custom loss failed');
          }
          return output;
        },
      };
      const before = tf.memory().numTensors;
      await expect(trainSupervised({ ...base, model: throwing, epochs: 1 })).rejects.toThrow('custom loss failed');
      expect(tf.memory().numTensors).toBe(before);
      expect(tf.engine().state.activeTape).toBeNull();
      inner.dispose();
    }
  });

  it('stops within one step of an abort that fires between steps, even in the last epoch with a loader that never waits', async () => {
    // A synchronous loader: batches resolve without ever yielding to the event loop, as a prefetching loader's do.
    const eager: LoaderFactory = function* (dataset, { batchSize }) {
      const pixels = dataset.height * dataset.width * dataset.channels;
      for (let start = 0; start < dataset.labels.length; start += batchSize) {
        const end = Math.min(start + batchSize, dataset.labels.length);
        const bytes = dataset.images.subarray(start * pixels, end * pixels);
        const pixelValues = Float32Array.from(bytes, (value) => value / 255);
        const images = tf.tensor4d(pixelValues, [end - start, dataset.height, dataset.width, dataset.channels]);
        const labels = tf.tensor1d(dataset.labels.slice(start, end), 'int32');
        yield {
          images,
          labels,
          indices: Int32Array.from({ length: end - start }, (_, row) => start + row),
          dispose: () => tf.dispose([images, labels]),
        };
      }
    };
    const model = tinyModel({ seed: 7 });
    const store = new MemoryStore();
    const controller = new AbortController();
    let steps = 0;
    let stepsAtAbort = -1;
    try {
      const run = trainSupervised({
        ...base,
        model,
        epochs: 1,
        store,
        loader: eager,
        signal: controller.signal,
        onStepEnd: (info) => {
          steps = info.step;
          // What a SIGINT handler is: a macrotask. Whether it runs before or after the loop's next yield depends
          // on the machine's load, so the test records the step it saw and requires no step after it.
          if (info.step === 1) {
            setTimeout(() => {
              stepsAtAbort = steps;
              controller.abort();
            }, 0);
          }
        },
      });
      await expect(run).rejects.toThrow(
        /^trainSupervised: aborted at epoch 1 before step \d+; no checkpoint was written yet\.$/,
      );
      expect(stepsAtAbort).toBeGreaterThanOrEqual(1);
      expect(steps).toBe(stepsAtAbort);
      await expect(run).rejects.toThrow(`before step ${stepsAtAbort + 1};`);
      expect(JSON.parse(store.text('run.json')!).status).toBe('aborted');
    } finally {
      model.dispose();
    }
  });

  it('keeps metrics.jsonl at every epoch exactly once when a run dies between the commit and the log', async () => {
    const model = tinyModel({ seed: 8 });
    const store = new MemoryStore();
    let failAppend = true;
    // A store that dies (once) right after the checkpoint of epoch 2 is committed, leaving half a log line.
    const dying: RunStore = {
      read: (name) => store.read(name),
      writeAtomic: (name, data) => store.writeAtomic(name, data),
      remove: (name) => store.remove(name),
      names: (prefix) => store.names(prefix),
      async append(name, text) {
        if (failAppend && name === 'metrics.jsonl' && text.includes('"epoch":2,')) {
          failAppend = false;
          await store.append(name, text.slice(0, 20));
          throw new Error('killed');
        }
        await store.append(name, text);
      },
    };
    try {
      await expect(trainSupervised({ ...base, model, epochs: 3, store: dying })).rejects.toThrow(
        'trainSupervised: cannot write the logs of epoch 2: killed; its checkpoint is committed (resume rewrites the log)',
      );
      expect(store.text('metrics.jsonl')!.split('\n')).toHaveLength(2);
      const result = await trainSupervised({ ...base, model, epochs: 3, store: dying, resume: true });
      expect(metricsEpochs(store)).toEqual([1, 2, 3]);
      const lines = store
        .text('metrics.jsonl')!
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines.map(({ type: _type, ...record }) => record)).toEqual(JSON.parse(JSON.stringify(result.history)));
      // A fresh run (resume: false) into the same store starts its own log.
      await trainSupervised({ ...base, model, epochs: 1, store });
      expect(metricsEpochs(store)).toEqual([1]);
    } finally {
      model.dispose();
    }
  });

  it('names the function, the file and the intact checkpoint when a write fails, and marks the run failed', async () => {
    const model = tinyModel({ seed: 9 });
    const store = new MemoryStore();
    const full: RunStore = {
      read: (name) => store.read(name),
      append: (name, text) => store.append(name, text),
      remove: (name) => store.remove(name),
      names: (prefix) => store.names(prefix),
      async writeAtomic(name, data) {
        if (name === 'checkpoint-2.bin')
          throw new Error(`directoryStore.writeAtomic: cannot write runs/x/${name} (ENOSPC: no space left on device)`);
        await store.writeAtomic(name, data);
      },
    };
    try {
      await expect(trainSupervised({ ...base, model, epochs: 3, store: full })).rejects.toThrow(
        'trainSupervised: cannot write the checkpoint of epoch 2: directoryStore.writeAtomic: cannot write runs/x/checkpoint-2.bin (ENOSPC: no space left on device); the last good checkpoint (epoch 1) is intact',
      );
      const record = JSON.parse(store.text('run.json')!);
      expect(record.status).toBe('failed');
      expect(record.error).toContain('ENOSPC');
      expect(JSON.parse(store.text('checkpoint.json')!).epoch).toBe(1);
    } finally {
      model.dispose();
    }
  });
});
