import {
  describeWithBackends,
  expectClose,
  expectGradientMatchesFiniteDifferences,
  expectThrowsWith,
  randomTensor,
  scalarOf,
  tf,
  valuesOf,
} from '@kd/test-utils';
import { expect, it } from 'vitest';
import { klOf, mean, rowsOf, softmaxOf } from './__fixtures__/reference';
import { kdLoss } from './kd-loss';

/** T² · mean_i KL(softmax(t_i/T) ‖ softmax(s_i/T)) with plain loops. */
function referenceKd(student: tf.Tensor, teacher: tf.Tensor, temperature: number): number {
  const s = rowsOf(student);
  const t = rowsOf(teacher);
  const divergences = s.map((row, i) =>
    klOf(softmaxOf((t[i] as number[]).map((v) => v / temperature)), softmaxOf(row.map((v) => v / temperature))),
  );
  return temperature * temperature * mean(divergences);
}

describeWithBackends('kdLoss', () => {
  it('equals T² · mean KL(teacher ‖ student) computed with loops, for several temperatures', () => {
    const student = randomTensor([5, 7], 1, -3, 3);
    const teacher = randomTensor([5, 7], 2, -3, 3);
    for (const temperature of [1, 4, 0.5]) {
      expectClose(scalarOf(kdLoss(student, teacher, { temperature })), referenceKd(student, teacher, temperature));
    }
    expectClose(scalarOf(kdLoss(student, teacher)), referenceKd(student, teacher, 4));
    tf.dispose([student, teacher]);
  });

  it('is zero for equal logits and positive otherwise', () => {
    const logits = randomTensor([4, 6], 3, -5, 5);
    expectClose(scalarOf(kdLoss(logits, logits)), 0, { atol: 1e-6 });
    const other = randomTensor([4, 6], 4, -5, 5);
    expect(scalarOf(kdLoss(logits, other))).toBeGreaterThan(0);
    tf.dispose([logits, other]);
  });

  it('has gradients equal to central finite differences for both arguments', () => {
    const student = randomTensor([3, 5], 5, -2, 2);
    const teacher = randomTensor([3, 5], 6, -2, 2);
    expectGradientMatchesFiniteDifferences((x) => kdLoss(x, teacher, { temperature: 2 }), student);
    expectGradientMatchesFiniteDifferences((x) => kdLoss(student, x, { temperature: 2 }), teacher);
    tf.dispose([student, teacher]);
  });

  it('stays finite with logits of ±1e3, values and gradients', () => {
    const student = tf.tensor2d([
      [1e3, -1e3, 0],
      [-1e3, 1e3, 1e3],
    ]);
    const teacher = tf.tensor2d([
      [-1e3, 1e3, 0],
      [1e3, -1e3, -1e3],
    ]);
    for (const temperature of [1, 4]) {
      const value = scalarOf(kdLoss(student, teacher, { temperature }));
      expect(Number.isFinite(value)).toBe(true);
      expectClose(value, referenceKd(student, teacher, temperature), { rtol: 1e-5 });
      const gradient = valuesOf(tf.grad((x: tf.Tensor) => kdLoss(x, teacher, { temperature }))(student));
      expect(Array.from(gradient).every(Number.isFinite)).toBe(true);
    }
    tf.dispose([student, teacher]);
  });

  it('rejects bad inputs with errors naming the function and the argument', () => {
    const good = tf.zeros([2, 3]);
    const rank3 = tf.zeros([2, 3, 4]);
    const otherClasses = tf.zeros([2, 4]);
    const otherBatch = tf.zeros([3, 3]);
    const integer = tf.zeros([2, 3], 'int32');
    const withNaN = tf.tensor2d([
      [0, NaN, 0],
      [0, 0, 0],
    ]);
    const withInfinity = tf.tensor2d([
      [0, Infinity, 0],
      [0, 0, 0],
    ]);
    const empty = tf.zeros([0, 3]);
    expectThrowsWith(() => kdLoss(rank3, good), 'kdLoss', 'studentLogits', 'rank 2');
    expectThrowsWith(() => kdLoss(good, rank3), 'kdLoss', 'teacherLogits', 'rank 2');
    expectThrowsWith(() => kdLoss(good, otherClasses), 'kdLoss', 'same shape');
    expectThrowsWith(() => kdLoss(good, otherBatch), 'kdLoss', 'same shape');
    expectThrowsWith(() => kdLoss(integer, good), 'kdLoss', 'studentLogits', 'float32');
    expectThrowsWith(() => kdLoss(withNaN, good), 'kdLoss', 'studentLogits', 'NaN');
    expectThrowsWith(() => kdLoss(good, withInfinity), 'kdLoss', 'teacherLogits', 'Infinity');
    expectThrowsWith(() => kdLoss(empty, empty), 'kdLoss', 'studentLogits', 'empty');
    expectThrowsWith(() => kdLoss([1, 2] as unknown as tf.Tensor, good), 'kdLoss', 'studentLogits', 'tf.Tensor');
    expectThrowsWith(() => kdLoss(good, good, { temperature: 0 }), 'kdLoss', 'temperature', '> 0');
    expectThrowsWith(() => kdLoss(good, good, { temperature: -1 }), 'kdLoss', 'temperature');
    expectThrowsWith(() => kdLoss(good, good, { temperature: NaN }), 'kdLoss', 'temperature', 'finite');
    expectThrowsWith(() => kdLoss(good, good, { temprature: 2 } as never), 'kdLoss', "unknown option 'temprature'");
    expectThrowsWith(() => kdLoss(good, good, 4 as never), 'kdLoss', 'options');
    tf.dispose([good, rank3, otherClasses, otherBatch, integer, withNaN, withInfinity, empty]);
  });
});
