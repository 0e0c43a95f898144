import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { kdLoss } from '@kd/losses';
import {
  describeWithBackends,
  expectArraysClose,
  expectClose,
  expectThrowsWith,
  randomTensor,
  tf,
} from '@kd/test-utils';
import { distillStudent, fineTuneTeacherMcmi, trainSupervised } from '@kd/trainer';
import { expect, it } from 'vitest';
import { syntheticDataset } from '../../trainer/test/fixtures';
import { graphFixture, graphReference } from './__fixtures__/graph-model';
import { convNet } from './__fixtures__/models';
import { fromGraphModel, type GraphModelLike } from './graph-model';
import { fromLayersModel } from './layers-model';

describeWithBackends('fromGraphModel', () => {
  it('returns the named nodes as logits and features, equal to the graph computed with tf ops', async () => {
    const fixture = graphFixture(1);
    const graph = await loadGraphModel(tf.io.fromMemory(fixture.artifacts));
    const teacher = fromGraphModel(graph, { logits: 'logits', features: ['relu', 'pool'], name: 'graph-teacher' });
    expect(teacher.numClasses).toBe(4);
    expect(teacher.inputChannels).toBe(1);
    expect(teacher.inputSize).toEqual([8, 8]);
    expect(teacher.trainableVariables).toEqual([]);
    const images = randomTensor([3, 8, 8, 1], 2) as tf.Tensor4D;
    const output = teacher.apply(images, { training: false });
    const expected = graphReference(fixture, images);
    expectArraysClose(output.logits.dataSync(), expected.logits.dataSync(), { atol: 1e-5 });
    expectArraysClose(output.features[0]!.dataSync(), expected.relu.dataSync(), { atol: 1e-5 });
    expectArraysClose(output.features[1]!.dataSync(), expected.pool.dataSync(), { atol: 1e-5 });
    expect(output.features.map((feature) => feature.shape)).toEqual([
      [3, 8, 8, 4],
      [3, 4],
    ]);
    // The array's roles: the map is the stem, the rank-2 last entry the pooled vector.
    expect(output.stem).toBe(output.features[0]);
    expect(output.stages).toEqual([]);
    expect(output.pooled).toBe(output.features[1]);
    const named = fromGraphModel(graph, {
      logits: 'logits',
      features: { stages: ['relu'], pooled: 'pool', preactivations: ['conv'] },
    });
    const namedOutput = named.apply(images, { training: false });
    expect(namedOutput.stem).toBeUndefined();
    expectArraysClose(namedOutput.stages[0]!.dataSync(), expected.relu.dataSync(), { atol: 1e-5 });
    expectArraysClose(namedOutput.pooled!.dataSync(), expected.pool.dataSync(), { atol: 1e-5 });
    expect(namedOutput.preactivations.map((tensor) => tensor.shape)).toEqual([[3, 8, 8, 4]]);
    expect(named.featureNames).toEqual(['relu', 'pool']);
    expectThrowsWith(
      () => fromGraphModel(graph, { logits: 'logits', features: { pooled: 'relu' } }),
      "fromGraphModel: features.pooled 'relu' outputs a rank-4 tensor; pooled must be [N, D]",
    );
    tf.dispose(namedOutput as unknown as tf.TensorContainer);
    tf.dispose([images, output as unknown as tf.TensorContainer, expected as unknown as tf.TensorContainer]);
    graph.dispose();
  });

  it("distills a LayersModel student from a graph-model teacher (KD against the graph's logits)", async () => {
    const fixture = graphFixture(3);
    const graph = await loadGraphModel(tf.io.fromMemory(fixture.artifacts));
    const teacher = fromGraphModel(graph, { logits: 'logits', features: ['relu', 'pool'] });
    const studentKeras = convNet({ name: 'graph_student', seed: 4, width: 4 });
    const train = syntheticDataset({ count: 16, seed: 5 });
    const quiet = { progress: false as const, augmentation: false as const, measureTeacherCmi: false };
    // lr 0: the reported KD is that of the initial student against the teacher, computed here independently.
    const probe = await distillStudent({
      student: fromLayersModel(studentKeras),
      teacher,
      data: { train },
      epochs: 1,
      batchSize: 16,
      learningRate: 0,
      objectives: [{ method: 'kd', weight: 1, options: { temperature: 4 } }],
      ...quiet,
    });
    const images = tf.tidy(() => tf.div(tf.tensor4d(train.images, [16, 8, 8, 1], 'float32'), 255) as tf.Tensor4D);
    const reference = graphReference(fixture, images);
    const expected = tf.tidy(
      () =>
        kdLoss(studentKeras.apply(images, { training: true }) as tf.Tensor2D, reference.logits as tf.Tensor2D, {
          temperature: 4,
        }).dataSync()[0]!,
    );
    expectClose(probe.history[0]!.train.losses.kd!, expected, { rtol: 1e-5 });
    // Then a real distillation (KD + VID on the graph's relu map) updates the student.
    const before = studentKeras.getWeights().map((weight) => weight.dataSync().slice());
    await distillStudent({
      student: fromLayersModel(studentKeras, {
        features: ['graph_student_relu1', 'graph_student_conv2', 'graph_student_flatten'],
      }),
      teacher: fromGraphModel(graph, { logits: 'logits', features: ['conv', 'relu', 'pool'] }),
      data: { train },
      epochs: 1,
      batchSize: 8,
      objectives: [
        { method: 'ce', weight: 0.1 },
        { method: 'kd', weight: 0.9 },
        { method: 'vid', weight: 1 },
      ],
      ...quiet,
    });
    const after = studentKeras.getWeights().map((weight) => weight.dataSync());
    expect(after.some((values, index) => values.some((value, position) => value !== before[index]![position]))).toBe(
      true,
    );
    tf.dispose([images, reference as unknown as tf.TensorContainer]);
    studentKeras.dispose();
    graph.dispose();
  });

  it('is teacher-only: training it is an error that says why', async () => {
    const graph = await loadGraphModel(tf.io.fromMemory(graphFixture(6).artifacts));
    const model = fromGraphModel(graph, { logits: 'logits' });
    const train = syntheticDataset({ count: 8, seed: 7 });
    const why = 'a tf.GraphModel is inference-only';
    await expect(trainSupervised({ model, data: { train }, epochs: 1, progress: false })).rejects.toThrow(
      `trainSupervised: model 'graph-model' cannot be trained: ${why}`,
    );
    await expect(fineTuneTeacherMcmi({ model, data: { train }, epochs: 1, progress: false })).rejects.toThrow(
      `fineTuneTeacherMcmi: model 'graph-model' cannot be trained: ${why}`,
    );
    const teacherKeras = convNet({ name: 'graph_as_student_teacher', seed: 8 });
    await expect(
      distillStudent({
        student: model,
        teacher: fromLayersModel(teacherKeras),
        data: { train },
        epochs: 1,
        progress: false,
      }),
    ).rejects.toThrow(`distillStudent: student 'graph-model' cannot be trained: ${why}`);
    const images = tf.zeros([1, 8, 8, 1]) as tf.Tensor4D;
    expectThrowsWith(
      () => model.apply(images, { training: true }),
      "fromGraphModel('graph-model').apply: training must be false",
      why,
    );
    expectThrowsWith(
      () => model.apply(images, { training: false, featureHook: (_, feature) => feature }),
      'featureHook is not supported',
    );
    // The image scan is per call: on by default, skipped with checkValues: false.
    const nan = tf.fill([1, 8, 8, 1], Number.NaN) as tf.Tensor4D;
    const applyFn = "fromGraphModel('graph-model').apply";
    expectThrowsWith(() => model.apply(nan, { training: false }), applyFn, 'images contains NaN');
    const output = model.apply(nan, { training: false, checkValues: false });
    expect(Array.from(output.logits.dataSync()).every(Number.isNaN)).toBe(true);
    tf.dispose([nan, output as unknown as tf.TensorContainer]);
    images.dispose();
    teacherKeras.dispose();
    graph.dispose();
  });

  it('rejects bad input with the function and the argument', async () => {
    const graph = await loadGraphModel(tf.io.fromMemory(graphFixture(9).artifacts));
    expectThrowsWith(
      () => fromGraphModel({} as never, { logits: 'logits' }),
      'fromGraphModel: model must be a tf.GraphModel',
    );
    expectThrowsWith(
      () => fromGraphModel(graph, { logit: 'logits' } as never),
      "fromGraphModel: unknown option 'logit', did you mean 'logits'?",
    );
    expectThrowsWith(
      () => fromGraphModel(graph, {} as never),
      'fromGraphModel: logits must be a non-empty string, got undefined',
    );
    expectThrowsWith(
      () => fromGraphModel(graph, { logits: 'nope' }),
      'fromGraphModel: executing the graph for outputs nope failed',
    );
    expectThrowsWith(
      () => fromGraphModel(graph, { logits: 'logits', features: ['relu', 'nope'] }),
      'outputs logits, relu, nope failed',
    );
    expectThrowsWith(
      () => fromGraphModel(graph, { logits: 'relu' }),
      "fromGraphModel: logits node 'relu' outputs [1,8,8,4]; logits must be [N, numClasses]",
    );
    expectThrowsWith(
      () => fromGraphModel(graph, { logits: 'logits', inputSize: [16, 16] }),
      "inputSize [16,16] contradicts the graph's input [?,8,8,1]",
    );
    expectThrowsWith(
      () => fromGraphModel(graph, { logits: 'logits', inputSize: [0, 8] }),
      'inputSize must be [height, width] (positive integers)',
    );
    const model = fromGraphModel(graph, { logits: 'logits' });
    const wrong = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
    expectThrowsWith(
      () => model.apply(wrong, { training: false }),
      "images [2,8,8,3] do not fit the model's input [?,8,8,1]",
    );
    wrong.dispose();
    const openSize: GraphModelLike = {
      inputs: [{ name: 'x', shape: [-1, -1, -1, 3], dtype: 'float32' }],
      execute: () => tf.zeros([1, 2]),
    };
    expectThrowsWith(
      () => fromGraphModel(openSize, { logits: 'y' }),
      'leaves the image size open; pass inputSize: [height, width]',
    );
    expect(fromGraphModel(openSize, { logits: 'y', inputSize: [4, 4] }).inputSize).toBeUndefined();
    graph.dispose();
  });
});
