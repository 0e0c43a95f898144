import { describeWithBackends, expectArraysClose, expectThrowsWith, tf, valuesOf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { matchSpatialSize } from './spatial';

describeWithBackends('matchSpatialSize', () => {
  it('pools the larger map by averaging 2x2 blocks', () => {
    const student = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 4, 4, 1]);
    const teacher = tf.zeros([1, 2, 2, 3]);
    const [pooledStudent, sameTeacher] = matchSpatialSize({ student, teacher });
    expect(sameTeacher).toBe(teacher);
    expectArraysClose(valuesOf(pooledStudent), [
      (1 + 2 + 5 + 6) / 4,
      (3 + 4 + 7 + 8) / 4,
      (9 + 10 + 13 + 14) / 4,
      (11 + 12 + 15 + 16) / 4,
    ]);
    tf.dispose([student, teacher]);
  });
  it('rejects maps that are not rank 4 and sizes that do not divide', () => {
    const a = tf.zeros([1, 3, 3, 1]);
    const b = tf.zeros([1, 2, 2, 1]);
    const c = tf.zeros([3, 3]);
    expectThrowsWith(() => matchSpatialSize({ student: a, teacher: b }), 'matchSpatialSize', 'divide');
    expectThrowsWith(() => matchSpatialSize({ student: c, teacher: b }), 'studentFeature', 'rank 4');
    tf.dispose([a, b, c]);
  });
});
