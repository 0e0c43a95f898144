import type { KdModel } from '@kd/models';
import { createLoader } from '@kd/data';
import { describeWithBackends, tf } from '@kd/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { snapshot, syntheticDataset, tinyModel } from '../test/fixtures';
import { distillStudent } from './distill';
import type { LoaderFactory } from './data';
import { TrainingAbortedError } from './engine/errors';
import { readCheckpoint } from './io/checkpoint';
import { MemoryStore, prefixedStore } from './io/store';
import type { ObjectiveSpec } from './objectives/types';
import { trainSupervised } from './supervised';

const train = syntheticDataset({ count: 64, seed: 31 });
const quiet = { progress: false as const, augmentation: false as const, batchSize: 16 };

function epochLosses(store: MemoryStore, name: string, part: string): number[] {
  return store
    .text(name)!
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line).train.losses[part] as number);
}

describeWithBackends('distillStudent pre-stages', () => {
  let teacher: KdModel;
  beforeAll(async () => {
    teacher = tinyModel({ seed: 17, width: 4, name: 'teacher' });
    await trainSupervised({ model: teacher, data: { train }, epochs: 2, learningRate: 0.1, ...quiet });
  });
  afterAll(() => teacher.dispose());

  /**
   * Trains a width-2 student uninterrupted, then again killed in the pre-stage's epoch 2 (the loader's second
   * shuffled pass, after epoch 1's checkpoint) and resumed, and expects identical final weights.
   */
  async function killInsidePreStageThenResume({
    objectives,
    seed,
    afterKill,
  }: {
    objectives: ObjectiveSpec[];
    seed: number;
    afterKill?: (store: MemoryStore) => Promise<void>;
  }): Promise<void> {
    const base = { teacher, data: { train }, objectives, epochs: 1, ...quiet };
    const reference = tinyModel({ seed, width: 2, name: 'student' });
    await distillStudent({ ...base, student: reference });
    const expected = snapshot(reference);
    reference.dispose();

    const controller = new AbortController();
    let trainingPasses = 0;
    const aborting: LoaderFactory = (dataset, { augment: _augment, ...options }) => {
      if (options.shuffle && ++trainingPasses === 2) controller.abort();
      return createLoader(dataset, options);
    };
    const store = new MemoryStore();
    const killed = tinyModel({ seed, width: 2, name: 'student' });
    await expect(
      distillStudent({ ...base, student: killed, store, loader: aborting, signal: controller.signal }),
    ).rejects.toThrow(TrainingAbortedError);
    killed.dispose();
    await afterKill?.(store);

    const resumed = tinyModel({ seed, width: 2, name: 'student' });
    try {
      await distillStudent({ ...base, student: resumed, store, loader: aborting, resume: true });
      expect(snapshot(resumed)).toEqual(expected);
    } finally {
      resumed.dispose();
    }
  }

  it("FT: the paraphraser pre-stage lowers the teacher map's reconstruction error, then FT trains the translator", async () => {
    const student = tinyModel({ seed: 18, width: 2, name: 'student' });
    const store = new MemoryStore();
    try {
      const result = await distillStudent({
        student,
        teacher,
        data: { train },
        objectives: [
          { method: 'ce', weight: 1 },
          { method: 'ft', weight: 200, options: { preStageEpochs: 3, preStageLearningRate: 0.05 } },
        ],
        epochs: 1,
        store,
        ...quiet,
      });
      const reconstruction = epochLosses(store, 'prestage-1-ft-metrics.jsonl', 'ft');
      expect(reconstruction).toHaveLength(3);
      expect(reconstruction[2]).toBeLessThan(reconstruction[0]!);
      expect(Object.keys(result.last.train.losses)).toEqual(['total', 'ce', 'ft']);
      expect(result.last.train.losses.ft).toBeGreaterThan(0);
    } finally {
      student.dispose();
    }
  });

  it('AB and FSP: pre-train the student on their loss alone, then contribute nothing to the main stage', async () => {
    const student = tinyModel({ seed: 19, width: 4, name: 'student' }); // same shapes as the teacher
    const store = new MemoryStore();
    const initial = snapshot(student);
    try {
      const result = await distillStudent({
        student,
        teacher,
        data: { train },
        objectives: [
          { method: 'ce', weight: 1 },
          { method: 'ab', weight: 1, options: { preStageEpochs: 2 } },
          { method: 'fsp', weight: 50, options: { preStageEpochs: 2 } },
        ],
        epochs: 1,
        store,
        ...quiet,
      });
      const ab = epochLosses(store, 'prestage-1-ab-metrics.jsonl', 'ab');
      const fsp = epochLosses(store, 'prestage-2-fsp-metrics.jsonl', 'fsp');
      expect(ab[1]).toBeLessThan(ab[0]!);
      expect(fsp[1]).toBeLessThan(fsp[0]!);
      expect(Object.keys(result.last.train.losses)).toEqual(['total', 'ce']);
      expect(snapshot(student)).not.toEqual(initial);
    } finally {
      student.dispose();
    }
  });

  function epochRecords(store: MemoryStore, name: string): Array<{ learningRate: number }> {
    return store
      .text(name)!
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { learningRate: number });
  }

  it("AB and FSP pre-stages run the student's trunk BN in training mode: its running statistics move", async () => {
    for (const method of ['ab', 'fsp'] as const) {
      const student = tinyModel({ seed: 23, width: 4, name: 'student' }); // running mean 0, variance 1
      const store = new MemoryStore();
      try {
        await distillStudent({
          student,
          teacher,
          data: { train },
          objectives: [
            { method: 'ce', weight: 1 },
            { method, weight: 0, options: { preStageEpochs: 1 } },
          ],
          epochs: 1,
          store,
          ...quiet,
        });
        // The pre-stage's own checkpoint holds the student as the pre-stage left it, before any main-stage step.
        const preStage = (await readCheckpoint(prefixedStore(store, `prestage-1-${method}-`)))!;
        try {
          const runningMean = Array.from(preStage.tensors.get('student/nonTrainable/0')!.dataSync());
          const runningVariance = Array.from(preStage.tensors.get('student/nonTrainable/1')!.dataSync());
          expect(Math.max(...runningMean.map(Math.abs)), method).toBeGreaterThan(1e-3);
          expect(Math.max(...runningVariance.map((value) => Math.abs(value - 1))), method).toBeGreaterThan(1e-3);
        } finally {
          tf.dispose([...preStage.tensors.values()]);
        }
      } finally {
        student.dispose();
      }
    }
  });

  it('pre-stage learning rate: the main one for AB and FSP, 0.01 for FT with a CIFAR ResNet student, main for others', async () => {
    // Named like zoo models, the tiny students get those models' registered recipes.
    const cases: Array<['ab' | 'fsp' | 'ft', string, number]> = [
      ['ab', 'resnet20', 0.05],
      ['fsp', 'wrn16_2', 0.05],
      ['ft', 'resnet20', 0.01],
      ['ft', 'resnet50', 0.05],
      ['ft', 'vgg8', 0.05],
    ];
    for (const [method, name, expected] of cases) {
      const width = method === 'ft' ? 2 : 4;
      const student = tinyModel({ seed: 24, width, name });
      const store = new MemoryStore();
      try {
        await distillStudent({
          student,
          teacher,
          data: { train },
          objectives: [
            { method: 'ce', weight: 1 },
            { method, weight: method === 'ft' ? 200 : 0, options: { preStageEpochs: 1 } },
          ],
          epochs: 1,
          learningRate: 0.05,
          store,
          ...quiet,
        });
        expect(
          epochRecords(store, `prestage-1-${method}-metrics.jsonl`).map((record) => record.learningRate),
          `${method} ${name}`,
        ).toEqual([expected]);
      } finally {
        student.dispose();
      }
    }
  });

  it('resumes a run killed inside a pre-stage to the weights of an uninterrupted run', async () => {
    const objectives: ObjectiveSpec[] = [
      { method: 'ce', weight: 1 },
      { method: 'ft', weight: 200, options: { preStageEpochs: 2 } },
    ];
    await killInsidePreStageThenResume({ objectives, seed: 20 });
  });

  it('AB with differing pre-activation shapes: trains 1×1 connectors with the student, lowers the AB loss, leaves them out of the main stage', async () => {
    // student width 2 → pre-activation [N, 4, 4, 4]; teacher width 4 → [N, 4, 4, 8]: a channel-only difference
    const student = tinyModel({ seed: 21, width: 2, name: 'student' });
    const store = new MemoryStore();
    const teacherBefore = snapshot(teacher);
    const initial = snapshot(student);
    try {
      const result = await distillStudent({
        student,
        teacher,
        data: { train },
        objectives: [
          { method: 'ce', weight: 1 },
          { method: 'ab', weight: 1, options: { preStageEpochs: 3 } },
        ],
        epochs: 1,
        store,
        ...quiet,
      });
      const ab = epochLosses(store, 'prestage-1-ab-metrics.jsonl', 'ab');
      expect(ab).toHaveLength(3);
      expect(ab[2]).toBeLessThan(ab[0]!);
      expect(Object.keys(result.last.train.losses)).toEqual(['total', 'ce']);
      expect(snapshot(student)).not.toEqual(initial);
      expect(snapshot(teacher)).toEqual(teacherBefore);

      const preStage = (await readCheckpoint(prefixedStore(store, 'prestage-1-ab-')))!;
      const main = (await readCheckpoint(store))!;
      try {
        expect(preStage.tensors.get('head/0/regressor/kernel')!.shape).toEqual([1, 1, 4, 8]);
        // Pre-stage optimiser: the student's 6 variables, then the connector's kernel, bias, γ, β. The classifier
        // (4, 5) gets no AB gradient and is skipped; every connector variable was updated.
        const velocityNorm = (index: number) =>
          Math.max(...Array.from(preStage.tensors.get(`optimizer/velocity/${index}`)!.dataSync(), Math.abs));
        expect([4, 5].map(velocityNorm)).toEqual([0, 0]);
        for (const index of [0, 1, 2, 3, 6, 7, 8, 9]) expect(velocityNorm(index)).toBeGreaterThan(0);
        // The main stage (CE only) keeps the connector as the pre-stage left it and does not optimise it.
        expect(main.tensors.has('optimizer/velocity/6')).toBe(false);
        for (const name of ['kernel', 'bias', 'batchNorm/gamma', 'batchNorm/beta']) {
          const key = `head/0/regressor/${name}`;
          expect(main.tensors.get(key)!.dataSync()).toEqual(preStage.tensors.get(key)!.dataSync());
        }
      } finally {
        tf.dispose([...preStage.tensors.values(), ...main.tensors.values()]);
      }
    } finally {
      student.dispose();
    }
  });

  it('resumes a run killed inside the AB pre-stage (with connectors) to the weights of an uninterrupted run', async () => {
    const objectives: ObjectiveSpec[] = [
      { method: 'ce', weight: 1 },
      { method: 'ab', weight: 1, options: { preStageEpochs: 2 } },
    ];
    await killInsidePreStageThenResume({
      objectives,
      seed: 22,
      afterKill: async (store) => {
        const partial = (await readCheckpoint(prefixedStore(store, 'prestage-1-ab-')))!;
        expect(partial.epoch).toBe(1);
        expect(partial.tensors.has('head/0/regressor/kernel')).toBe(true);
        tf.dispose([...partial.tensors.values()]);
        expect(await readCheckpoint(store)).toBeUndefined();
      },
    });
  });
});
