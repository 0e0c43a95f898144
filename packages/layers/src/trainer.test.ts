import * as tfl from '@tensorflow/tfjs-layers';
import { crossEntropy, kdLoss } from '@kd/losses';
import { describeWithBackends, expectArraysClose, expectClose, tf } from '@kd/test-utils';
import type { Dataset } from '@kd/data';
import { distillStudent, fineTuneTeacherMcmi, MemoryStore, trainSupervised, type ObjectiveSpec } from '@kd/trainer';
import { expect, it } from 'vitest';
import { syntheticDataset } from '../../trainer/test/fixtures';
import { convNet, kerasSnapshot } from './__fixtures__/models';
import { fromLayersModel } from './layers-model';

const quiet = { progress: false as const, augmentation: false as const, measureTeacherCmi: false };

/** The images of a dataset as the default loader gives them without normalisation: x / 255, float32 NHWC. */
function floatImages(dataset: Dataset): tf.Tensor4D {
  return tf.tidy(
    () =>
      tf.div(
        tf.tensor4d(
          dataset.images,
          [dataset.labels.length, dataset.height, dataset.width, dataset.channels],
          'float32',
        ),
        255,
      ) as tf.Tensor4D,
  );
}

describeWithBackends('the trainer with tf.LayersModel teachers and students', () => {
  const train = syntheticDataset({ count: 32, seed: 1 });
  const test = syntheticDataset({ count: 16, seed: 2 });

  it.each(['linear', 'softmax'] as const)(
    'trainSupervised takes exactly one SGD step on the Keras weights, in place (%s head)',
    async (head) => {
      const keras = convNet({ name: 'sgd', seed: 11, head });
      const reference = convNet({ name: 'sgd_reference', seed: 11 });
      const model = fromLayersModel(keras);
      const learningRate = 0.1;
      await trainSupervised({
        model,
        data: { train },
        epochs: 1,
        batchSize: 32,
        learningRate,
        momentum: 0,
        weightDecay: 0,
        schedule: { kind: 'constant' },
        progress: false,
        augmentation: false,
      });
      // The same step by hand: w ← w − η ∂CE/∂w, CE over the whole (unshuffled order does not matter) batch in training mode.
      const images = floatImages(train);
      const labels = tf.tensor1d(train.labels, 'int32');
      const variables = reference.trainableWeights.map((weight) => weight.read() as tf.Variable);
      const { grads, value } = tf.variableGrads(
        () => crossEntropy(reference.apply(images, { training: true }) as tf.Tensor2D, labels),
        variables,
      );
      const expected = variables.map((variable) =>
        tf.tidy(() => tf.sub(variable, tf.mul(learningRate, grads[variable.name]!)).dataSync()),
      );
      keras.trainableWeights.forEach((weight, index) =>
        expectArraysClose(weight.read().dataSync(), expected[index]!, { atol: 1e-5 }),
      );
      // BN moving statistics moved as in model.fit (training mode), identically in both.
      const movedKeras = keras.nonTrainableWeights.map((weight) => weight.read().dataSync());
      reference.nonTrainableWeights.forEach((weight, index) =>
        expectArraysClose(weight.read().dataSync(), movedKeras[index]!, { atol: 1e-6 }),
      );
      tf.dispose([images, labels, value, ...Object.values(grads)]);
      keras.dispose();
      reference.dispose();
    },
  );

  it('fineTuneTeacherMcmi trains a LayersModel in place', async () => {
    const keras = convNet({ name: 'mcmi', seed: 12 });
    const before = kerasSnapshot(keras);
    const model = fromLayersModel(keras);
    const result = await fineTuneTeacherMcmi({
      model,
      data: { train },
      epochs: 1,
      batchSize: 16,
      lambda: 0.1,
      collapseGuard: false,
      progress: false,
      augmentation: false,
    });
    expect(result.history).toHaveLength(1);
    const after = kerasSnapshot(keras);
    expect(after.some((values, index) => values.some((value, position) => value !== before[index]![position]))).toBe(
      true,
    );
    keras.dispose();
  });

  it('distillStudent: the saved and reloaded student predicts exactly what the trained one does', async () => {
    const teacherKeras = convNet({ name: 'teacher_s', seed: 13, width: 8 });
    const studentKeras = convNet({ name: 'student_s', seed: 14, width: 4 });
    const teacher = fromLayersModel(teacherKeras, {
      features: ['teacher_s_relu1', 'teacher_s_conv2', 'teacher_s_pool2', 'teacher_s_flatten'],
    });
    const student = fromLayersModel(studentKeras, {
      features: ['student_s_relu1', 'student_s_conv2', 'student_s_pool2', 'student_s_flatten'],
    });
    const before = kerasSnapshot(studentKeras);
    await distillStudent({
      student,
      teacher,
      data: { train, test },
      epochs: 2,
      batchSize: 8,
      learningRate: 0.05,
      objectives: [
        { method: 'ce', weight: 0.1 },
        { method: 'kd', weight: 0.9 },
        { method: 'at', weight: 1000 },
      ],
      ...quiet,
    });
    expect(
      kerasSnapshot(studentKeras).some((values, index) =>
        values.some((value, position) => value !== before[index]![position]),
      ),
    ).toBe(true);
    let saved: tf.io.ModelArtifacts | undefined;
    await studentKeras.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const images = floatImages(test);
    const trained = tf.tidy(() => (studentKeras.predict(images) as tf.Tensor).dataSync());
    const fromDisk = tf.tidy(() => (reloaded.predict(images) as tf.Tensor).dataSync());
    expect(Array.from(fromDisk)).toEqual(Array.from(trained));
    // And the KdModel's logits are the same numbers (a linear head).
    const logits = tf.tidy(() => student.apply(images, { training: false }).logits.dataSync());
    expect(Array.from(logits)).toEqual(Array.from(trained));
    images.dispose();
    reloaded.dispose();
    teacherKeras.dispose();
    studentKeras.dispose();
  });

  it('resumes a killed run over a LayersModel student to the weights of an uninterrupted run', async () => {
    const teacherKeras = convNet({ name: 'teacher_r', seed: 15 });
    const teacher = fromLayersModel(teacherKeras);
    const objectives: ObjectiveSpec[] = [
      { method: 'ce', weight: 0.1 },
      { method: 'kd', weight: 0.9 },
      { method: 'vid', weight: 1 },
    ];
    const common = {
      teacher,
      data: { train, test },
      objectives,
      epochs: 3,
      batchSize: 8,
      learningRate: 0.05,
      seed: 3,
      ...quiet,
    };
    // The same name for every student: KdModel.name is part of the resume fingerprint.
    const studentOf = (seed: number) => convNet({ name: 'student_r', seed, width: 4 });

    const referenceKeras = studentOf(16);
    await distillStudent({ ...common, student: fromLayersModel(referenceKeras), store: new MemoryStore() });
    const expected = kerasSnapshot(referenceKeras);
    referenceKeras.dispose();

    const store = new MemoryStore();
    const killedKeras = studentOf(16);
    await expect(
      distillStudent({
        ...common,
        student: fromLayersModel(killedKeras),
        store,
        onStepEnd: (info) => {
          if (info.epoch === 2 && info.step === 2) throw new Error('simulated kill');
        },
      }),
    ).rejects.toThrow('simulated kill');
    killedKeras.dispose();

    const resumedKeras = studentOf(99); // a different initialisation: the checkpoint must win
    const resumed = await distillStudent({ ...common, student: fromLayersModel(resumedKeras), store, resume: true });
    expect(resumed.record.resumedFromEpochs).toEqual([1]);
    expect(kerasSnapshot(resumedKeras)).toEqual(expected);
    resumedKeras.dispose();
    teacherKeras.dispose();
  });

  it('keeps numTensors flat over 100 distillStudent steps with a LayersModel teacher and student', async () => {
    const teacherKeras = convNet({ name: 'teacher_m', seed: 17 });
    const studentKeras = convNet({ name: 'student_m', seed: 18, width: 4 });
    const counts: number[] = [];
    const small = syntheticDataset({ count: 40, seed: 4 });
    await distillStudent({
      student: fromLayersModel(studentKeras),
      teacher: fromLayersModel(teacherKeras),
      data: { train: small },
      epochs: 20,
      batchSize: 8, // 5 steps per epoch: 100 steps
      objectives: [
        { method: 'ce', weight: 0.1 },
        { method: 'kd', weight: 0.9 },
        { method: 'at', weight: 1000 },
      ],
      onStepEnd: () => void counts.push(tf.memory().numTensors),
      ...quiet,
    });
    expect(counts).toHaveLength(100);
    expect(new Set(counts.slice(1)).size).toBe(1); // after the first step created the optimiser's slots
    teacherKeras.dispose();
    studentKeras.dispose();
  });

  it("reports KD against the teacher's logits (a check that the teacher really runs)", async () => {
    const teacherKeras = convNet({ name: 'teacher_k', seed: 19 });
    const studentKeras = convNet({ name: 'student_k', seed: 20, width: 4 });
    const result = await distillStudent({
      student: fromLayersModel(studentKeras),
      teacher: fromLayersModel(teacherKeras),
      data: { train },
      epochs: 1,
      batchSize: 32,
      learningRate: 0,
      objectives: [{ method: 'kd', weight: 1, options: { temperature: 4 } }],
      ...quiet,
    });
    const images = floatImages(train);
    const expected = tf.tidy(
      () =>
        kdLoss(
          studentKeras.apply(images, { training: true }) as tf.Tensor2D,
          teacherKeras.predict(images) as tf.Tensor2D,
          { temperature: 4 },
        ).dataSync()[0]!,
    );
    expectClose(result.history[0]!.train.losses.kd!, expected, { rtol: 1e-5 });
    images.dispose();
    teacherKeras.dispose();
    studentKeras.dispose();
  });

  it('rejects data of another size or channel count before any step, naming both shapes', async () => {
    const keras = convNet({ name: 'shape', seed: 21 });
    const model = fromLayersModel(keras);
    const large = syntheticDataset({ count: 8, seed: 5, size: 16 });
    let steps = 0;
    await expect(
      trainSupervised({ model, data: { train: large }, epochs: 1, progress: false, onStepEnd: () => void steps++ }),
    ).rejects.toThrow('trainSupervised: data.train images are [N, 16, 16, 1], the model shape takes [N, 8, 8, 1]');
    const teacherKeras = convNet({ name: 'shape_t', seed: 22, size: 16 });
    await expect(
      distillStudent({
        student: model,
        teacher: fromLayersModel(teacherKeras),
        data: { train },
        epochs: 1,
        onStepEnd: () => void steps++,
        ...quiet,
      }),
    ).rejects.toThrow(
      'distillStudent (teacher): data.train images are [N, 8, 8, 1], the model shape_t takes [N, 16, 16, 1]',
    );
    const rgbKeras = convNet({ name: 'rgb', seed: 23, channels: 3 });
    await expect(
      trainSupervised({ model: fromLayersModel(rgbKeras), data: { train }, epochs: 1, progress: false }),
    ).rejects.toThrow('trainSupervised: data.train has 1 channels, the model rgb takes 3');
    expect(steps).toBe(0);
    keras.dispose();
    teacherKeras.dispose();
    rgbKeras.dispose();
  });
});
