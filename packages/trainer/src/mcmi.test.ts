import { describeWithBackends, tf } from '@kd/test-utils';
import type { KdModel } from '@kd/models';
import { beforeAll, afterAll, expect, it } from 'vitest';
import { snapshot, syntheticDataset, tinyModel } from '../test/fixtures';
import { TrainingCollapsedError } from './engine/errors';
import { fineTuneTeacherMCMI } from './mcmi';
import { trainTeacher } from './teacher';

// Noisy enough that the teacher stays unsure on some samples, so its CMI is not ~0.
const train = syntheticDataset({ count: 128, seed: 11, noise: 200 });
const test = syntheticDataset({ count: 64, seed: 12, noise: 200 });

function restore(model: KdModel, values: Float32Array[]): void {
  [...model.trainableVariables, ...model.nonTrainableVariables].forEach((variable, index) =>
    tf.tidy(() => variable.assign(tf.tensor(values[index]!, variable.shape))),
  );
}

describeWithBackends('fineTuneTeacherMCMI', () => {
  let teacher: KdModel;
  let pretrained: Float32Array[];
  beforeAll(async () => {
    teacher = tinyModel({ seed: 5 });
    await trainTeacher({ model: teacher, data: { train }, epochs: 3, batchSize: 16, learningRate: 0.1, augmentation: false, progress: false });
    pretrained = snapshot(teacher);
  });
  afterAll(() => teacher.dispose());

  const fineTune = (lambda: number) => {
    restore(teacher, pretrained);
    return fineTuneTeacherMCMI({
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
    // Plain fine-tuning lowers CMI (research note §4); λ pushes it back up without costing accuracy.
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
    expect((caught as Error).message).toMatch(/fineTuneTeacherMCMI: training collapsed at epoch 1: .*λ = 20 is likely too large/);
  });

  it('rejects λ of the wrong type before training', async () => {
    restore(teacher, pretrained);
    const before = snapshot(teacher);
    await expect(
      fineTuneTeacherMCMI({ model: teacher, data: { train }, lambda: '0.25' as unknown as number, progress: false }),
    ).rejects.toThrow("fineTuneTeacherMCMI: lambda must be a number (λ in CE − λ·CMI), got '0.25' (a string)");
    expect(snapshot(teacher)).toEqual(before);
  });
});
