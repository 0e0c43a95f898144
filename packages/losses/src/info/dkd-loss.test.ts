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
import { klOf, labelsTensor, logSoftmaxOf, mean, rowsOf, softmaxOf } from './__fixtures__/reference';
import { dkdLoss } from './dkd-loss';
import { kdLoss } from './kd-loss';

/** The paper's definitions with loops: TCKD on [p_y, 1 − p_y], NCKD on the softmax of the non-target logits. */
function referenceDkd(
  student: tf.Tensor,
  teacher: tf.Tensor,
  labels: number[],
  alpha: number,
  beta: number,
  temperature: number,
): number {
  const s = rowsOf(student);
  const t = rowsOf(teacher);
  const perSample = s.map((studentRow, i) => {
    const y = labels[i] as number;
    const binary = (row: number[]): number[] => {
      const logP = logSoftmaxOf(row.map((v) => v / temperature));
      const logTarget = logP[y] as number;
      // log(1 − p_y) = log Σ_{c≠y} p_c, summed in log space for saturated rows
      const rest = logP.filter((_, c) => c !== y);
      const largest = Math.max(...rest);
      const logRest = largest + Math.log(rest.reduce((total, v) => total + Math.exp(v - largest), 0));
      return [logTarget, logRest];
    };
    const logBinaryT = binary(t[i] as number[]);
    const logBinaryS = binary(studentRow);
    let tckd = 0;
    for (let k = 0; k < 2; k++)
      tckd += Math.exp(logBinaryT[k] as number) * ((logBinaryT[k] as number) - (logBinaryS[k] as number));
    const nonTarget = (row: number[]): number[] => softmaxOf(row.filter((_, c) => c !== y).map((v) => v / temperature));
    const nckd = klOf(nonTarget(t[i] as number[]), nonTarget(studentRow));
    return alpha * tckd + beta * nckd;
  });
  return temperature * temperature * mean(perSample);
}

describeWithBackends('dkdLoss', () => {
  it('equals T² · mean(α·TCKD + β·NCKD) computed with loops', () => {
    const student = randomTensor([6, 5], 81, -3, 3);
    const teacher = randomTensor([6, 5], 82, -3, 3);
    const labelValues = [0, 4, 2, 2, 1, 3];
    const labels = labelsTensor(labelValues);
    expectClose(scalarOf(dkdLoss(student, teacher, labels)), referenceDkd(student, teacher, labelValues, 1, 8, 4));
    expectClose(
      scalarOf(dkdLoss(student, teacher, labels, { alpha: 0.5, beta: 2, temperature: 1 })),
      referenceDkd(student, teacher, labelValues, 0.5, 2, 1),
    );
    tf.dispose([student, teacher, labels]);
  });

  it('recombines into classic KD: KD = TCKD + (1 − p_y^T) · NCKD for one sample', () => {
    const student = tf.tensor2d([[0.3, -1.2, 2.0, 0.7]]);
    const teacher = tf.tensor2d([[1.5, -0.4, 0.2, -2.0]]);
    const labels = labelsTensor([2]);
    const temperature = 2;
    const teacherTarget = softmaxOf((rowsOf(teacher)[0] as number[]).map((v) => v / temperature))[2] as number;
    const tckd = scalarOf(dkdLoss(student, teacher, labels, { alpha: 1, beta: 0, temperature }));
    const nckd = scalarOf(dkdLoss(student, teacher, labels, { alpha: 0, beta: 1, temperature }));
    expectClose(tckd + (1 - teacherTarget) * nckd, scalarOf(kdLoss(student, teacher, { temperature })), { rtol: 1e-5 });
    tf.dispose([student, teacher, labels]);
  });

  it('is zero for equal logits', () => {
    const logits = randomTensor([4, 5], 83, -4, 4);
    const labels = labelsTensor([0, 1, 2, 3]);
    expectClose(scalarOf(dkdLoss(logits, logits, labels)), 0, { atol: 1e-5 });
    tf.dispose([logits, labels]);
  });

  it('has gradients equal to central finite differences for both logits', () => {
    const student = randomTensor([3, 4], 84, -2, 2);
    const teacher = randomTensor([3, 4], 85, -2, 2);
    const labels = labelsTensor([3, 0, 1]);
    expectGradientMatchesFiniteDifferences((x) => dkdLoss(x, teacher, labels, { temperature: 2 }), student);
    expectGradientMatchesFiniteDifferences((x) => dkdLoss(student, x, labels, { temperature: 2, beta: 2 }), teacher);
    tf.dispose([student, teacher, labels]);
  });

  it('stays finite with logits of ±1e3 (saturated targets and non-targets), values and gradients', () => {
    const student = tf.tensor2d([
      [1e3, -1e3, 0],
      [-1e3, 1e3, 1e3],
      [1e3, -1e3, -1e3],
    ]);
    const teacher = tf.tensor2d([
      [-1e3, 1e3, 0],
      [1e3, -1e3, -1e3],
      [1e3, 1e3, -1e3],
    ]);
    const labelValues = [0, 1, 0];
    const labels = labelsTensor(labelValues);
    for (const temperature of [1, 4]) {
      const value = scalarOf(dkdLoss(student, teacher, labels, { temperature }));
      expect(Number.isFinite(value)).toBe(true);
      expectClose(value, referenceDkd(student, teacher, labelValues, 1, 8, temperature), { rtol: 1e-5 });
      for (const gradient of tf.grads((s: tf.Tensor, t: tf.Tensor) => dkdLoss(s, t, labels, { temperature }))([
        student,
        teacher,
      ])) {
        expect(Array.from(valuesOf(gradient)).every(Number.isFinite)).toBe(true);
      }
    }
    tf.dispose([student, teacher, labels]);
  });

  it('rejects bad inputs with errors naming the function and the argument', () => {
    const logits = tf.zeros([2, 3]);
    const oneClass = tf.zeros([2, 1]);
    const otherShape = tf.zeros([2, 4]);
    const labels = labelsTensor([0, 2]);
    const outOfRange = labelsTensor([3, 0]);
    const floatLabels = tf.tensor1d([0, 1]);
    const withNaN = tf.tensor2d([
      [0, NaN, 0],
      [0, 0, 0],
    ]);
    const fn = 'dkdLoss';
    expectThrowsWith(() => dkdLoss(logits, otherShape, labels), fn, 'same shape');
    expectThrowsWith(() => dkdLoss(oneClass, oneClass, labels), fn, 'at least 2 classes');
    expectThrowsWith(() => dkdLoss(logits, logits, outOfRange), fn, 'labels[0] = 3');
    expectThrowsWith(() => dkdLoss(logits, logits, floatLabels), fn, 'labels', 'int32');
    expectThrowsWith(() => dkdLoss(logits, withNaN, labels), fn, 'teacherLogits', 'NaN');
    expectThrowsWith(() => dkdLoss(logits, logits, labels, { alpha: -1 }), fn, 'alpha', '>= 0');
    expectThrowsWith(() => dkdLoss(logits, logits, labels, { beta: NaN }), fn, 'beta', 'finite');
    expectThrowsWith(() => dkdLoss(logits, logits, labels, { temperature: 0 }), fn, 'temperature', '> 0');
    expectThrowsWith(() => dkdLoss(logits, logits, labels, { gamma: 1 } as never), fn, "unknown option 'gamma'");
    tf.dispose([logits, oneClass, otherShape, labels, outOfRange, floatLabels, withNaN]);
  });
});
