import { createDataset } from '@kd/data';
import { createModel } from '@kd/models';
import { describeWithBackends, seededRandom } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { distillStudent } from '../src/distill';
import { MemoryStore } from '../src/io/store';
import { snapshot } from './fixtures';

/** 4 generated 32×32 RGB images of 4 classes (the pure-JS cpu backend trains resnet8 at about 1 image/s). */
function generatedImages() {
  const random = seededRandom(5);
  const count = 4;
  return createDataset({
    images: Uint8Array.from({ length: count * 32 * 32 * 3 }, () => Math.floor(256 * random())),
    labels: Int32Array.from({ length: count }, (_, index) => index % 4),
    height: 32,
    width: 32,
    channels: 3,
    classNames: ['a', 'b', 'c', 'd'],
  });
}

describeWithBackends('distillStudent with zoo models and the default loader', () => {
  it('runs 2 steps (4 images) of resnet8 ← resnet8 with CE + KD + VID through @kd/data (crop + flip augmentation)', async () => {
    const train = generatedImages();
    const student = createModel('resnet8', { numClasses: 4, seed: 1 });
    const teacher = createModel('resnet8', { numClasses: 4, seed: 2 });
    const teacherBefore = snapshot(teacher);
    const studentBefore = snapshot(student);
    const store = new MemoryStore();
    try {
      const result = await distillStudent({
        student,
        teacher,
        data: { train },
        measureTeacherCmi: false,
        objectives: [
          { method: 'ce', weight: 0.1 },
          { method: 'kd', weight: 0.9 },
          { method: 'vid', weight: 1 },
        ],
        epochs: 1,
        batchSize: 2,
        store,
        progress: false,
      });
      expect(result.last.train.count).toBe(4);
      for (const value of Object.values(result.last.train.losses)) expect(Number.isFinite(value)).toBe(true);
      expect(result.record.config.student).toMatchObject({ name: 'resnet8', numClasses: 4 });
      expect(snapshot(teacher)).toEqual(teacherBefore);
      expect(snapshot(student)).not.toEqual(studentBefore);
      expect(store.files.has('checkpoint-1.bin')).toBe(true);
    } finally {
      student.dispose();
      teacher.dispose();
    }
  });
});
