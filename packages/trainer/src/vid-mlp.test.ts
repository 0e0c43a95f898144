import { VidVectorRegularizer } from '@kd/losses';
import { createModel } from '@kd/models';
import { describeWithBackends, expectClose, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { syntheticDataset, tinyModel } from '../test/fixtures';
import { distillStudent } from './distill';

describeWithBackends('distillStudent: VID from a CNN teacher to an MLP student', () => {
  const train = syntheticDataset({ count: 16, seed: 1 });
  const quiet = { progress: false as const, augmentation: false as const, measureTeacherCmi: false };

  it("maps the teacher's stage map to the MLP's hidden vector (stages) with VidVectorRegularizer", async () => {
    const teacher = tinyModel({ seed: 2, width: 4, name: 'teacher' }); // features [8×8×4, 4×4×8, pooled 8]
    const student = createModel('mlp', { numClasses: 4, inputShape: [8, 8, 1], hiddenSizes: [12, 10, 6], seed: 3 }); // [12], [10], [6]
    try {
      // lr 0: one full batch, so the reported term is β·L of the initial head; the head is rebuilt here from the
      // same seed (seed + 1000·objective index + stage position) and evaluated independently.
      const seed = 5;
      const result = await distillStudent({
        student,
        teacher,
        data: { train },
        epochs: 1,
        batchSize: 16,
        learningRate: 0,
        seed,
        objectives: [
          { method: 'ce', weight: 1 },
          { method: 'vid', weight: 2 },
        ],
        ...quiet,
      });
      const head = new VidVectorRegularizer({ studentDim: 10, teacherShape: [4, 4, 8], seed: seed + 1000 * 1 + 0 });
      const expected = tf.tidy(() => {
        const images = tf.div(tf.tensor4d(train.images, [16, 8, 8, 1], 'float32'), 255) as tf.Tensor4D;
        const s = student.apply(images, { training: true }).stages[0] as tf.Tensor2D;
        const t = teacher.apply(images, { training: false }).stages[0] as tf.Tensor4D;
        return head.loss(s, t).dataSync()[0] as number;
      });
      head.dispose();
      expectClose(result.history[0]!.train.losses.vid!, 2 * expected, { rtol: 1e-5 });

      // And it trains: with a learning rate the VID term falls.
      const trained = await distillStudent({
        student,
        teacher,
        data: { train },
        epochs: 3,
        batchSize: 8,
        learningRate: 0.05,
        seed,
        objectives: [
          { method: 'ce', weight: 1 },
          { method: 'vid', weight: 1 },
        ],
        ...quiet,
      });
      expect(trained.history[2]!.train.losses.vid!).toBeLessThan(trained.history[0]!.train.losses.vid!);
    } finally {
      teacher.dispose();
      student.dispose();
    }
  });

  it('needs as many MLP hidden vectors in stages as teacher stage maps, and no hiddenChannels', async () => {
    const teacher = tinyModel({ seed: 2, width: 4, name: 'teacher' });
    const shallow = createModel('mlp', { numClasses: 4, inputShape: [8, 8, 1], hiddenSizes: [12, 6], seed: 3 });
    const deep = createModel('mlp', { numClasses: 4, inputShape: [8, 8, 1], hiddenSizes: [12, 10, 6], seed: 3 });
    try {
      await expect(
        distillStudent({
          student: shallow,
          teacher,
          data: { train },
          epochs: 1,
          objectives: [{ method: 'vid', weight: 1 }],
          ...quiet,
        }),
      ).rejects.toThrow(
        "distillStudent: objectives[0] ('vid') needs the student's stages (every stage's output), but student.apply returned none",
      );
      await expect(
        distillStudent({
          student: deep,
          teacher,
          data: { train },
          epochs: 1,
          objectives: [{ method: 'vid', weight: 1, options: { hiddenChannels: 4 } }],
          ...quiet,
        }),
      ).rejects.toThrow(
        "distillStudent: objectives[0] ('vid'): hiddenChannels applies to conv students; student.stages[0] is a vector [2,10]",
      );
    } finally {
      teacher.dispose();
      shallow.dispose();
      deep.dispose();
    }
  });
});
