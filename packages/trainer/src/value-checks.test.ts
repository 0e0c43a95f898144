import { VidRegularizer, kdLoss } from '@kd/losses';
import { createModel, type ApplyOptions, type KdModel } from '@kd/models';
import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { syntheticDataset, tinyModel } from '../test/fixtures';
import { distillStudent } from './distill';
import { fineTuneTeacherMcmi } from './mcmi';
import { trainSupervised } from './supervised';

/**
 * The user's own checked calls, made while (or after) a training run is in progress in the same process: a
 * `kdLoss` on NaN logits, a `VidRegularizer` built with the defaults on NaN maps and a zoo model's `apply` on
 * NaN images must all throw. Returns the messages they threw (undefined where a call did not throw).
 */
function userCallsThrow(): Array<string | undefined> {
  const nanLogits = tf.tensor2d([
    [Number.NaN, 0],
    [1, 2],
  ]);
  const logits = tf.tensor2d([
    [0, 1],
    [2, 1],
  ]);
  const nanMaps = tf.fill([2, 2, 2, 3], Number.NaN) as tf.Tensor4D;
  const nanImages = tf.fill([1, 8, 8, 1], Number.NaN) as tf.Tensor4D;
  const vid = new VidRegularizer({ studentChannels: 3, teacherChannels: 3, seed: 1 });
  const model = createModel('mlp', { numClasses: 2, inputShape: [8, 8, 1], hiddenSizes: [4], seed: 1 });
  const messageOf = (call: () => unknown): string | undefined => {
    try {
      tf.dispose(call() as tf.TensorContainer);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };
  try {
    return [
      messageOf(() => kdLoss(nanLogits, logits)),
      messageOf(() => vid.loss(nanMaps, nanMaps)),
      messageOf(() => model.apply(nanImages, { training: false })),
    ];
  } finally {
    tf.dispose([nanLogits, logits, nanMaps, nanImages]);
    vid.dispose();
    model.dispose();
  }
}

const EXPECTED = [
  'kdLoss: studentLogits contains NaN or Infinity',
  'VidRegularizer.loss: studentFeature contains NaN or Infinity',
  "mlp.apply: images contains NaN; images must be finite (apply's checkValues: false skips this scan)",
];

/** A KdModel that records the options of every `apply` the trainer makes. */
function recording(model: KdModel): { model: KdModel; calls: ApplyOptions[] } {
  const calls: ApplyOptions[] = [];
  return {
    calls,
    model: {
      ...model,
      apply(images: tf.Tensor4D, options: ApplyOptions) {
        calls.push({ ...options });
        return model.apply(images, options);
      },
    },
  };
}

describeWithBackends("value checks are per call: a training run leaves the user's calls checked", () => {
  it("trainSupervised: during a run (onStepEnd) and after it, the user's own checked calls still throw", async () => {
    const model = tinyModel({ seed: 1 });
    const during: Array<Array<string | undefined>> = [];
    try {
      await trainSupervised({
        model,
        data: { train: syntheticDataset({ count: 32, seed: 1 }) },
        epochs: 1,
        batchSize: 16,
        augmentation: false,
        progress: false,
        onStepEnd: () => {
          during.push(userCallsThrow());
        },
      });
    } finally {
      model.dispose();
    }
    expect(during).toHaveLength(2);
    for (const messages of during) messages.forEach((message, index) => expect(message).toContain(EXPECTED[index]));
    userCallsThrow().forEach((message, index) => expect(message).toContain(EXPECTED[index]));
  });

  it("distillStudent passes checkValues: false on its own applies only; the user's calls still throw", async () => {
    const student = recording(tinyModel({ seed: 2 }));
    const teacher = recording(tinyModel({ seed: 3, width: 8 }));
    const during: Array<Array<string | undefined>> = [];
    try {
      await distillStudent({
        student: student.model,
        teacher: teacher.model,
        objectives: [
          { method: 'ce', weight: 0.1 },
          { method: 'kd', weight: 0.9 },
          { method: 'vid', weight: 1 },
        ],
        data: { train: syntheticDataset({ count: 32, seed: 4 }), test: syntheticDataset({ count: 16, seed: 5 }) },
        epochs: 1,
        batchSize: 16,
        augmentation: false,
        progress: false,
        onStepEnd: () => {
          during.push(userCallsThrow());
        },
      });
    } finally {
      student.model.dispose();
      teacher.model.dispose();
    }
    expect(during).toHaveLength(2);
    for (const messages of during) messages.forEach((message, index) => expect(message).toContain(EXPECTED[index]));
    userCallsThrow().forEach((message, index) => expect(message).toContain(EXPECTED[index]));
    // The probe before training (one batch of each model, inference mode) keeps the default check; every
    // apply of the run itself (training steps, teacher outputs, the teacher's CMI pass and test evaluations,
    // the student's evaluation) skips it.
    const [studentProbe, ...studentRun] = student.calls;
    const [teacherProbe, ...teacherRun] = teacher.calls;
    expect(studentProbe!.checkValues).toBeUndefined();
    expect(teacherProbe!.checkValues).toBeUndefined();
    // student: 2 training steps + 1 test evaluation batch; teacher: CMI pass (2 batches of up to 64 → 1),
    // test evaluation (1), 2 step outputs.
    expect(studentRun.map((options) => [options.training, options.checkValues])).toEqual([
      [true, false],
      [true, false],
      [false, false],
    ]);
    expect(teacherRun.length).toBe(4);
    expect(teacherRun.every((options) => options.training === false && options.checkValues === false)).toBe(true);
  });

  it('two overlapping runs leave the checks on, during the second run and after both', async () => {
    const first = tinyModel({ seed: 6 });
    const second = tinyModel({ seed: 7 });
    let secondStarted!: () => void;
    const secondRunning = new Promise<void>((resolve) => (secondStarted = resolve));
    const duringSecondAfterFirst: Array<Array<string | undefined>> = [];
    let firstDone = false;
    try {
      // The first run starts, waits in its first step for the second to be mid-step, and ends while the second
      // still runs (the order in which saving and restoring a process-wide flag leaves it off).
      const firstRun = trainSupervised({
        model: first,
        data: { train: syntheticDataset({ count: 32, seed: 8 }) },
        epochs: 1,
        batchSize: 16,
        augmentation: false,
        progress: false,
        onStepEnd: async (info) => {
          if (info.step === 1) await secondRunning;
        },
      }).then((result) => {
        firstDone = true;
        return result;
      });
      const secondRun = trainSupervised({
        model: second,
        data: { train: syntheticDataset({ count: 32, seed: 9 }) },
        epochs: 3,
        batchSize: 16,
        augmentation: false,
        progress: false,
        onStepEnd: async () => {
          secondStarted();
          if (firstDone) duringSecondAfterFirst.push(userCallsThrow());
          await new Promise((resolve) => setTimeout(resolve, 0));
        },
      });
      await Promise.all([firstRun, secondRun]);
    } finally {
      first.dispose();
      second.dispose();
    }
    expect(duringSecondAfterFirst.length).toBeGreaterThan(0);
    for (const messages of duringSecondAfterFirst) {
      messages.forEach((message, index) => expect(message).toContain(EXPECTED[index]));
    }
    userCallsThrow().forEach((message, index) => expect(message).toContain(EXPECTED[index]));
  });

  it("fineTuneTeacherMcmi: the user's calls during the run still throw", async () => {
    const model = tinyModel({ seed: 10 });
    const during: Array<Array<string | undefined>> = [];
    try {
      await fineTuneTeacherMcmi({
        model,
        data: { train: syntheticDataset({ count: 32, seed: 11 }) },
        epochs: 1,
        batchSize: 16,
        augmentation: false,
        progress: false,
        collapseGuard: false,
        onStepEnd: () => {
          during.push(userCallsThrow());
        },
      });
    } finally {
      model.dispose();
    }
    expect(during).toHaveLength(2);
    for (const messages of during) messages.forEach((message, index) => expect(message).toContain(EXPECTED[index]));
  });
});
