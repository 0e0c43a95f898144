import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { createModel, listModels, loadWeights, saveWeights } from './index';

// The README example, with a teacher/student pair small enough for the pure-JS backend's backward pass
// (the README uses resnet32x4 → resnet8x4 on 32×32 images; the feature layout is the same).
describeWithBackends('README example', () => {
  it('one distillation step on stage features, then a mismatched load that says what is wrong', async () => {
    const teacher = createModel('wrn16_1', { numClasses: 10, seed: 1 });
    const student = createModel('resnet8', { numClasses: 10, seed: 2 });
    const images = tf.randomNormal<tf.Rank.R4>([2, 16, 16, 3], 0, 1, 'float32', 3);
    const teacherOut = teacher.apply(images, { training: false });
    const optimizer = tf.train.sgd(0.05);
    const before = Array.from(student.trainableVariables[0]!.dataSync());
    const loss = optimizer.minimize(
      () => {
        const studentOut = student.apply(images, { training: true });
        return tf.addN(
          studentOut.stages.map((map, i) =>
            tf.mean(tf.squaredDifference(tf.mean(tf.square(map), 3), tf.mean(tf.square(teacherOut.stages[i]!), 3))),
          ),
        ) as tf.Scalar;
      },
      true,
      student.trainableVariables,
    );
    expect(loss!.dataSync()[0]).toBeGreaterThan(0);
    expect(Array.from(student.trainableVariables[0]!.dataSync())).not.toEqual(before);
    tf.dispose([loss!, images, teacherOut.logits, ...teacherOut.features, ...teacherOut.preactivations]);
    optimizer.dispose();

    expect(listModels('wrn*')).toEqual(['wrn16_1', 'wrn16_2', 'wrn40_1', 'wrn40_2']);
    const artifacts = await saveWeights(student);
    expect(() => loadWeights(teacher, artifacts)).toThrow(/loadWeights: .*saved from 'resnet8'/);
    teacher.dispose();
    student.dispose();
  });
});
