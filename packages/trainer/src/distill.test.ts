import { createLoader, fewShotSubset } from '@kd/data';
import type { KdModel } from '@kd/models';
import { describeWithBackends, tf } from '@kd/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { snapshot, syntheticDataset, tinyModel } from '../test/fixtures';
import { distillStudent } from './distill';
import { NonFiniteLossError } from './engine/errors';
import { readCheckpoint } from './io/checkpoint';
import { MemoryStore } from './io/store';
import type { ObjectiveSpec } from './objectives/types';
import type { LoaderFactory } from './data';
import { trainSupervised } from './supervised';

const train = syntheticDataset({ count: 128, seed: 21 });
const test = syntheticDataset({ count: 64, seed: 22 });
const quiet = { progress: false as const, augmentation: false as const, batchSize: 16 };

describeWithBackends('distillStudent', () => {
  let teacher: KdModel;
  beforeAll(async () => {
    teacher = tinyModel({ seed: 7, width: 8, name: 'teacher' });
    await trainSupervised({ model: teacher, data: { train }, epochs: 4, learningRate: 0.1, ...quiet });
  });
  afterAll(() => teacher.dispose());

  it('trains a tiny student to high accuracy with KD and never changes the teacher', async () => {
    const student = tinyModel({ seed: 8, width: 4, name: 'student' });
    const teacherBefore = snapshot(teacher);
    try {
      const result = await distillStudent({
        student,
        teacher,
        data: { train, test },
        objectives: [
          { method: 'ce', weight: 0.1 },
          { method: 'kd', weight: 0.9, options: { temperature: 4 } },
        ],
        epochs: 6,
        learningRate: 0.1,
        schedule: { kind: 'cosine' },
        ...quiet,
      });
      expect(result.last.test!.top1).toBeGreaterThan(0.9);
      expect(Object.keys(result.last.train.losses)).toEqual(['total', 'ce', 'kd']);
      expect(result.last.extra.teacherTestTop1).toBeGreaterThan(0.9);
      expect(result.last.extra.teacherCmi).toBeGreaterThan(0);
      // Weight decay and updates touch the student only: the teacher is bit-identical.
      expect(snapshot(teacher)).toEqual(teacherBefore);
    } finally {
      student.dispose();
    }
  });

  it('trains regularizer heads with the student, keeps the teacher frozen and the tensor count flat', async () => {
    const student = tinyModel({ seed: 9, width: 2, name: 'student' });
    const teacherBefore = snapshot(teacher);
    const counts: number[] = [];
    try {
      const result = await distillStudent({
        student,
        teacher,
        data: { train },
        objectives: [
          { method: 'ce', weight: 1 },
          { method: 'vid', weight: 1 },
          { method: 'crd', weight: 0.8, options: { numNegatives: 16, embedDim: 8 } },
          { method: 'at', weight: 100 },
        ],
        epochs: 3,
        learningRate: 0.05,
        onEpochEnd: () => void counts.push(tf.memory().numTensors),
        ...quiet,
      });
      expect(Object.keys(result.last.train.losses)).toEqual(['total', 'ce', 'vid', 'crd', 'at']);
      expect(result.last.train.losses.vid).toBeLessThan(result.history[0]!.train.losses.vid!);
      expect(counts).toHaveLength(3);
      expect(counts[2]).toBe(counts[0]);
      expect(snapshot(teacher)).toEqual(teacherBefore);
    } finally {
      student.dispose();
    }
  });

  it('resumes a killed run to exactly the weights of an uninterrupted run', async () => {
    const objectives: ObjectiveSpec[] = [
      { method: 'ce', weight: 0.1 },
      { method: 'kd', weight: 0.9 },
      { method: 'vid', weight: 1 },
      { method: 'crd', weight: 0.8, options: { numNegatives: 16, embedDim: 8 } },
    ];
    const common = {
      teacher,
      data: { train, test },
      objectives,
      epochs: 3,
      learningRate: 0.05,
      seed: 3,
      ...quiet,
      augmentation: undefined,
      progress: false as const,
    };
    const reference = tinyModel({ seed: 10, width: 2, name: 'student' });
    const referenceStore = new MemoryStore();
    const uninterrupted = await distillStudent({ ...common, student: reference, store: referenceStore });
    const expected = snapshot(reference);
    reference.dispose();

    const store = new MemoryStore();
    const killed = tinyModel({ seed: 10, width: 2, name: 'student' });
    await expect(
      distillStudent({
        ...common,
        student: killed,
        store,
        onStepEnd: (info) => {
          if (info.epoch === 2 && info.step === 3) throw new Error('simulated kill');
        },
      }),
    ).rejects.toThrow('simulated kill');
    killed.dispose();
    expect(JSON.parse(new TextDecoder().decode(store.files.get('run.json')!)).status).toBe('failed');

    const resumedModel = tinyModel({ seed: 99, width: 2, name: 'student' }); // different init: the checkpoint must win
    try {
      const resumed = await distillStudent({ ...common, student: resumedModel, store, resume: true });
      expect(snapshot(resumedModel)).toEqual(expected);
      expect(resumed.record.resumedFromEpochs).toEqual([1]);
      expect(resumed.history.map((epoch) => epoch.train.losses.total)).toEqual(
        uninterrupted.history.map((epoch) => epoch.train.losses.total),
      );
      expect(resumed.last.test).toEqual(uninterrupted.last.test);
    } finally {
      resumedModel.dispose();
    }
  });

  it('stops on a non-finite loss naming the step and the part, with the last checkpoint intact', async () => {
    const student = tinyModel({ seed: 11, width: 2, name: 'student' });
    const store = new MemoryStore();
    const poisoned: LoaderFactory = (dataset, options) => {
      const { augment: _augment, ...plain } = options;
      const inner = createLoader(dataset, plain);
      return (async function* () {
        let step = 0;
        for await (const batch of inner) {
          step++;
          if (options.epoch === 2 && step === 2) {
            const images = tf.fill(batch.images.shape, Number.NaN) as tf.Tensor4D;
            batch.images.dispose();
            const dispose = () => tf.dispose([images, batch.labels]);
            yield { images, labels: batch.labels, indices: batch.indices, dispose };
          } else {
            yield batch;
          }
        }
      })();
    };
    const before = snapshot(student);
    let caught: unknown;
    try {
      await distillStudent({ student, teacher, data: { train }, epochs: 3, store, loader: poisoned, ...quiet });
    } catch (error) {
      caught = error;
    } finally {
      student.dispose();
    }
    expect(caught).toBeInstanceOf(NonFiniteLossError);
    expect((caught as Error).message).toContain(
      "distillStudent: non-finite loss at epoch 2, step 2 (global step 10): loss part 'ce' = NaN",
    );
    expect((caught as Error).message).toContain('last good checkpoint (epoch 1) is intact');
    const checkpoint = await readCheckpoint(store);
    expect(checkpoint!.epoch).toBe(1);
    tf.dispose([...checkpoint!.tensors.values()]);
    expect(before.length).toBeGreaterThan(0);
  });

  it('few-shot CRD: ce + crd on a head subset cycled to 4× its size completes, with duplicates in batches', async () => {
    const subset = fewShotSubset(train, { fraction: 0.125, mode: 'head' }); // the first 16 samples
    expect(subset.labels.length).toBe(16);
    let batches = 0;
    let batchesWithDuplicates = 0;
    // The default loader with epochLength 64, watched: count the batches that hold a sample twice.
    const cycled: LoaderFactory = (dataset, { augment: _augment, ...options }) => {
      const inner = createLoader(dataset, { ...options, ...(options.shuffle ? { epochLength: 64 } : {}) });
      return (async function* () {
        for await (const batch of inner) {
          if (options.shuffle) {
            batches++;
            if (new Set(batch.indices).size < batch.indices.length) batchesWithDuplicates++;
          }
          yield batch;
        }
      })();
    };
    const student = tinyModel({ seed: 13, width: 2, name: 'student' });
    try {
      const result = await distillStudent({
        student,
        teacher,
        data: { train: subset },
        objectives: [
          { method: 'ce', weight: 1 },
          { method: 'crd', weight: 0.8, options: { numNegatives: 8, embedDim: 8 } },
        ],
        epochs: 2,
        loader: cycled,
        measureTeacherCmi: false,
        ...quiet,
      });
      expect(result.history).toHaveLength(2);
      expect(batches).toBe(2 * 4); // 64 samples per epoch in batches of 16
      expect(batchesWithDuplicates).toBeGreaterThan(0);
      expect(Number.isFinite(result.last.train.losses.crd)).toBe(true);
    } finally {
      student.dispose();
    }
  });

  it("DKD's warm-up: the term is min(epoch/20, 1)·DKD by default, DKD itself with warmupEpochs 0", async () => {
    // lr 0 and no weight decay: the student never changes, so each epoch sees the same DKD value.
    const dkdPart = async (options: Record<string, unknown>) => {
      const student = tinyModel({ seed: 14, width: 2, name: 'student' });
      try {
        const result = await distillStudent({
          student,
          teacher,
          data: { train },
          objectives: [
            { method: 'ce', weight: 1 },
            { method: 'dkd', weight: 1, options },
          ],
          epochs: 2,
          learningRate: 0,
          weightDecay: 0,
          measureTeacherCmi: false,
          ...quiet,
          batchSize: 128, // one batch of the whole set: the same batch statistics every epoch
        });
        return result.history.map((epoch) => epoch.train.losses.dkd!);
      } finally {
        student.dispose();
      }
    };
    const [warm1, warm2] = (await dkdPart({ beta: 8 })) as [number, number];
    const [full1, full2] = (await dkdPart({ beta: 8, warmupEpochs: 0 })) as [number, number];
    const [short1, short2] = (await dkdPart({ beta: 8, warmupEpochs: 2 })) as [number, number];
    expect(full1).toBeGreaterThan(0);
    expect(full2).toBeCloseTo(full1, 5);
    expect(warm1).toBeCloseTo(full1 / 20, 6);
    expect(warm2).toBeCloseTo((2 * full1) / 20, 6);
    expect(short1).toBeCloseTo(full1 / 2, 5);
    expect(short2).toBeCloseTo(full1, 5);
  });

  it('derives per-objective seeds without overflow: a seed near 2^32 works, 2^32 is rejected', async () => {
    const student = tinyModel({ seed: 15, width: 2, name: 'student' });
    const objectives: ObjectiveSpec[] = [
      { method: 'ce', weight: 1 },
      { method: 'vid', weight: 1 },
      { method: 'cc', weight: 0.02 },
    ];
    try {
      const result = await distillStudent({
        student,
        teacher,
        data: { train },
        objectives,
        epochs: 1,
        seed: 2 ** 32 - 1,
        measureTeacherCmi: false,
        ...quiet,
      });
      expect(Object.keys(result.last.train.losses)).toEqual(['total', 'ce', 'vid', 'cc']);
      await expect(
        distillStudent({ student, teacher, data: { train }, objectives, epochs: 1, seed: 2 ** 32, ...quiet }),
      ).rejects.toThrow('distillStudent: seed must be an integer in [0, 2^32), got 4294967296');
    } finally {
      student.dispose();
    }
  });

  it('rejects invalid configs before training starts', async () => {
    const student = tinyModel({ seed: 12, width: 2, name: 'student' });
    const logitsOnly: KdModel = {
      ...teacher,
      apply: (images, options) => {
        const output = teacher.apply(images, options);
        tf.dispose([...output.features, ...output.preactivations]);
        return { logits: output.logits, features: [], stages: [], preactivations: [] };
      },
    };
    let steps = 0;
    const base = { student, teacher, data: { train }, epochs: 1, onStepEnd: () => void steps++, ...quiet };
    try {
      // @ts-expect-error: 'kdd' is not a method name
      await expect(distillStudent({ ...base, objectives: [{ method: 'kdd', weight: 1 }] })).rejects.toThrow(
        "distillStudent: objectives[0].method 'kdd' (a string) is unknown; did you mean 'kd' (Hinton KD, T²·KL(softmax(t/T) ‖ softmax(s/T)), T = 4)? " +
          'known methods: ce, kd, dkd,',
      );
      await expect(
        distillStudent({
          ...base,
          teacher: logitsOnly,
          objectives: [
            { method: 'ce', weight: 1 },
            { method: 'vid', weight: 1 },
          ],
        }),
      ).rejects.toThrow(
        "distillStudent: objectives[1] ('vid') needs the teacher's stages (every stage's output), but teacher.apply returned none (ModelOutput.stages;",
      );
      await expect(
        distillStudent({
          ...base,
          teacher: logitsOnly,
          objectives: [
            { method: 'ce', weight: 1 },
            { method: 'crd', weight: 1 },
          ],
        }),
      ).rejects.toThrow(
        "distillStudent: objectives[1] ('crd') needs the teacher's pooled (the pooled penultimate vector [N, D]), but teacher.apply returned none",
      );
      await expect(
        distillStudent({ ...base, objectives: [{ method: 'kd', weight: '0.9' as unknown as number }] }),
      ).rejects.toThrow("distillStudent: objectives[0].weight must be a number, got '0.9' (a string)");
      await expect(
        // @ts-expect-error: a misspelt option does not compile
        distillStudent({ ...base, objectives: [{ method: 'kd', weight: 1, options: { temprature: 4 } }] }),
      ).rejects.toThrow(
        "distillStudent: unknown option 'temprature' in objectives[0].options ('kd'), did you mean 'temperature'? (known options: temperature)",
      );
      await expect(
        distillStudent({ ...base, objectives: [{ method: 'kd', weight: 1, options: { temperature: -1 } }] }),
      ).rejects.toThrow("distillStudent: objectives[0] ('kd'): kdLoss");
      await expect(distillStudent({ ...base, learningRate: Number.NaN })).rejects.toThrow(
        'distillStudent: learningRate must be a finite number',
      );
      expect(steps).toBe(0);
    } finally {
      student.dispose();
    }
  });
});
