import { describeWithBackends, tf } from '@kd/test-utils';
import type { KdModel } from '@kd/models';
import { beforeAll, afterAll, expect, it } from 'vitest';
import { snapshot, syntheticDataset, tinyModel } from '../test/fixtures';
import { TrainingCollapsedError } from './engine/errors';
import { collapseReason, fineTuneTeacherMcmi } from './mcmi';
import { createLoader } from '@kd/data';
import type { LoaderFactory, LoaderFactoryOptions } from './data';
import { trainSupervised } from './supervised';

// Noisy enough that the teacher stays unsure on some samples, so its CMI is not ~0.
const train = syntheticDataset({ count: 128, seed: 11, noise: 200 });
const test = syntheticDataset({ count: 64, seed: 12, noise: 200 });

function restore(model: KdModel, values: Float32Array[]): void {
  [...model.trainableVariables, ...model.nonTrainableVariables].forEach((variable, index) =>
    tf.tidy(() => variable.assign(tf.tensor(values[index]!, variable.shape))),
  );
}

describeWithBackends('fineTuneTeacherMcmi', () => {
  let teacher: KdModel;
  let pretrained: Float32Array[];
  beforeAll(async () => {
    teacher = tinyModel({ seed: 5 });
    await trainSupervised({
      model: teacher,
      data: { train },
      epochs: 3,
      batchSize: 16,
      learningRate: 0.1,
      augmentation: false,
      progress: false,
    });
    pretrained = snapshot(teacher);
  });
  afterAll(() => teacher.dispose());

  const fineTune = (lambda: number) => {
    restore(teacher, pretrained);
    return fineTuneTeacherMcmi({
      model: teacher,
      data: { train, test },
      lambda,
      epochs: 2,
      batchSize: 16,
      learningRate: 0.05,
      augmentation: false,
      progress: false,
    });
  };

  it('raises the teacher CMI over the λ = 0 control and keeps it accurate', async () => {
    const control = await fineTune(0);
    const mcmi = await fineTune(0.25);
    const controlCmi = control.last.extra.teacherCmi!;
    const mcmiCmi = mcmi.last.extra.teacherCmi!;
    expect(mcmi.history[0]!.extra.centroidPassCmi).toBeGreaterThan(0);
    expect(mcmiCmi).toBeGreaterThan(controlCmi * 1.05);
    // Plain fine-tuning lowers CMI; λ pushes it back up without costing accuracy.
    expect(controlCmi).toBeLessThan(control.history[0]!.extra.initialTeacherCmi!);
    expect(mcmi.last.test!.top1).toBeGreaterThanOrEqual(control.last.test!.top1 - 0.05);
    // The 'cmi' part is −λ·Î: negative under MCMI, exactly 0 in the control.
    expect(mcmi.last.train.losses.cmi).toBeLessThan(0);
    expect(control.last.train.losses.cmi).toBe(0);
  });

  it('stops a collapsing run with a clear message', async () => {
    let caught: unknown;
    try {
      await fineTune(20);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TrainingCollapsedError);
    expect(caught).toBeInstanceOf(TrainingCollapsedError);
    const message = (caught as Error).message;
    expect(message).toMatch(/^fineTuneTeacherMcmi: training collapsed at epoch 1: .*With λ = 20 the CMI term/);
    expect(message).toContain('Lower lambda, or pass collapseGuard: false to train on regardless.');
    expect(message).not.toMatch(/§|research/); // no citation of a document users do not have
    expect((caught as TrainingCollapsedError).reason).not.toContain('collapseGuard');
  });

  it('judges collapse against chance: the accuracy test needs a pretrained teacher at twice chance or more', () => {
    const base = {
      numClasses: 100,
      lambda: 0.25,
      minAccuracyRatio: 0.5,
      maxCrossEntropy: Math.log(100),
      pretrainedCount: 50_000,
      pretrainedCrossEntropy: 3,
    };
    // The smoke preset's case: a near-chance teacher (1.56%) whose fine-tuned accuracy is 0.39%, CE below log 100.
    expect(
      collapseReason({ ...base, accuracy: 0.0039, crossEntropy: 4.5, pretrainedAccuracy: 0.0156 }),
    ).toBeUndefined();
    // At exactly twice chance the accuracy test applies.
    expect(collapseReason({ ...base, accuracy: 0.0099, crossEntropy: 4.5, pretrainedAccuracy: 0.02 })).toContain(
      "training accuracy 0.99% fell below 50% of the pretrained teacher's 2.00% (chance is 1.00%)",
    );
    expect(collapseReason({ ...base, accuracy: 0.4, crossEntropy: 2, pretrainedAccuracy: 0.7 })).toBeUndefined();
    // On 16 images, 1 correct (6.25%) is within 3 standard errors of chance (threshold 1% + 3·√(0.0099/16) = 8.46%).
    expect(
      collapseReason({ ...base, pretrainedCount: 16, accuracy: 0, crossEntropy: 4.5, pretrainedAccuracy: 1 / 16 }),
    ).toBeUndefined();
    expect(
      collapseReason({ ...base, pretrainedCount: 16, accuracy: 0, crossEntropy: 4.5, pretrainedAccuracy: 2 / 16 }),
    ).toContain('fell below');
    // CE above log C (a uniform guess) is a collapse whatever the teacher.
    expect(collapseReason({ ...base, accuracy: 0.01, crossEntropy: 4.7, pretrainedAccuracy: 0.0156 })).toContain(
      'training cross-entropy 4.7000 nats exceeded 4.6052 (log 100, a uniform guess)',
    );
    // ... unless the pretrained teacher never beat a uniform guess (the smoke preset's 1-epoch teacher: CE 4.62).
    expect(
      collapseReason({
        ...base,
        accuracy: 0.01,
        crossEntropy: 4.64,
        pretrainedAccuracy: 0.0156,
        pretrainedCrossEntropy: 4.62,
      }),
    ).toBeUndefined();
  });

  it('shuffles the centroid pass (training-mode BN on class-sorted data would skew it)', async () => {
    restore(teacher, pretrained);
    const calls: LoaderFactoryOptions[] = [];
    const watching: LoaderFactory = (dataset, options) => {
      calls.push(options);
      const { augment: _augment, ...plain } = options;
      return createLoader(dataset, plain);
    };
    await fineTuneTeacherMcmi({
      model: teacher,
      data: { train },
      lambda: 0.25,
      epochs: 1,
      batchSize: 16,
      cmiEvery: 0,
      loader: watching,
      augmentation: false,
      progress: false,
    });
    // cmiEvery 0: the first pass is the centroid pass, then the training epoch.
    expect(calls.map((options) => options.shuffle)).toEqual([true, true]);
    expect(calls[0]!.batchSize).toBe(16);
  });

  it('rejects λ of the wrong type before training', async () => {
    restore(teacher, pretrained);
    const before = snapshot(teacher);
    await expect(
      fineTuneTeacherMcmi({ model: teacher, data: { train }, lambda: '0.25' as unknown as number, progress: false }),
    ).rejects.toThrow("fineTuneTeacherMcmi: lambda must be a number (λ in CE − λ·CMI), got '0.25' (a string)");
    expect(snapshot(teacher)).toEqual(before);
  });
});
