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
import { dot, klOf, logSoftmaxOf, mean, normalizeRow, rowsOf, softmaxOf, transpose } from './__fixtures__/reference';
import { icdLoss } from './icd-loss';

function referenceIcd(student: tf.Tensor, teacher: tf.Tensor, scale: number, bias: number, alpha: number): number {
  const zs = rowsOf(student).map(normalizeRow);
  const zt = rowsOf(teacher).map(normalizeRow);
  const logits = zs.map((s) => zt.map((t) => scale * dot(s, t) + bias));
  const contrastive = mean(logits.map((row, i) => -(logSoftmaxOf(row)[i] as number)));
  const columns = transpose(logits);
  const invariance = mean(logits.map((row, i) => klOf(softmaxOf(columns[i] as number[]), softmaxOf(row))));
  return contrastive + alpha * invariance;
}

describeWithBackends('icdLoss', () => {
  it('equals contrastive + α · KL(column ‖ row) computed with loops', () => {
    const student = randomTensor([5, 4], 71);
    const teacher = randomTensor([5, 4], 72);
    expectClose(
      scalarOf(icdLoss(student, teacher, { logitScale: Math.E })),
      referenceIcd(student, teacher, Math.E, 0, 0.5),
    );
    expectClose(
      scalarOf(icdLoss(student, teacher, { logitScale: 7, bias: 0.3, alpha: 2 })),
      referenceIcd(student, teacher, 7, 0.3, 2),
    );
    const scale = tf.scalar(3);
    const bias = tf.scalar(-1);
    expectClose(
      scalarOf(icdLoss(student, teacher, { logitScale: scale, bias, alpha: 0 })),
      referenceIcd(student, teacher, 3, -1, 0),
    );
    tf.dispose([student, teacher, scale, bias]);
  });

  it('is independent of the bias (it cancels in every softmax) and has no invariance term for symmetric logits', () => {
    const student = randomTensor([4, 3], 73);
    const teacher = randomTensor([4, 3], 74);
    const base = scalarOf(icdLoss(student, teacher, { logitScale: 2 }));
    expectClose(scalarOf(icdLoss(student, teacher, { logitScale: 2, bias: 5 })), base, { rtol: 1e-5 });
    // z_s = z_t makes L symmetric: rows equal columns, so invariance = 0 and the loss is the contrastive term alone
    const withInvariance = scalarOf(icdLoss(student, student, { logitScale: 2, alpha: 3 }));
    const withoutInvariance = scalarOf(icdLoss(student, student, { logitScale: 2, alpha: 0 }));
    expectClose(withInvariance, withoutInvariance, { rtol: 1e-5 });
    tf.dispose([student, teacher]);
  });

  it('has gradients equal to central finite differences, including the learnable scale (bias gradient is 0)', () => {
    const student = randomTensor([3, 4], 75);
    const teacher = randomTensor([3, 4], 76);
    const scale = tf.scalar(2.5);
    const bias = tf.scalar(0.2);
    expectGradientMatchesFiniteDifferences((x) => icdLoss(x, teacher, { logitScale: 2, alpha: 1 }), student, {
      step: 1e-3,
    });
    expectGradientMatchesFiniteDifferences((x) => icdLoss(student, x, { logitScale: 2, alpha: 1 }), teacher, {
      step: 1e-3,
    });
    expectGradientMatchesFiniteDifferences(
      (x) => icdLoss(student, teacher, { logitScale: x as tf.Scalar, alpha: 1 }),
      scale,
    );
    const biasGradient = valuesOf(
      tf.grad((x: tf.Tensor) => icdLoss(student, teacher, { logitScale: 2, bias: x as tf.Scalar }))(bias),
    );
    expectClose(biasGradient[0] as number, 0, { atol: 1e-6 });
    tf.dispose([student, teacher, scale, bias]);
  });

  it('stays finite for embeddings of ±1e3 and a scale of 1e3, values and gradients', () => {
    const student = tf.tensor2d([
      [1e3, -1e3],
      [-1e3, 1e3],
      [1e3, 1e3],
    ]);
    const teacher = tf.tensor2d([
      [-1e3, 1e3],
      [1e3, 1e3],
      [1e3, -1e3],
    ]);
    const value = scalarOf(icdLoss(student, teacher, { logitScale: 1e3 }));
    expect(Number.isFinite(value)).toBe(true);
    expectClose(value, referenceIcd(student, teacher, 1e3, 0, 0.5), { rtol: 1e-5 });
    const gradient = valuesOf(tf.grad((x: tf.Tensor) => icdLoss(x, teacher, { logitScale: 1e3 }))(student));
    expect(Array.from(gradient).every(Number.isFinite)).toBe(true);
    tf.dispose([student, teacher]);
  });

  it('rejects bad inputs with errors naming the function and the argument', () => {
    const good = tf.zeros([3, 4]);
    const single = tf.zeros([1, 4]);
    const otherBatch = tf.zeros([2, 4]);
    const vectorScale = tf.ones([2]);
    const intScale = tf.scalar(2, 'int32');
    const nanScale = tf.scalar(NaN);
    const negativeScale = tf.scalar(-1);
    const loss = icdLoss as (...args: unknown[]) => tf.Scalar;
    expectThrowsWith(() => loss(good, good), 'icdLoss', 'logitScale');
    expectThrowsWith(() => loss(good, good, {}), 'icdLoss', 'logitScale', 'required');
    expectThrowsWith(() => loss(good, otherBatch, { logitScale: 1 }), 'icdLoss', 'same shape');
    expectThrowsWith(() => loss(single, single, { logitScale: 1 }), 'icdLoss', 'studentEmbeddings', 'at least 2 rows');
    expectThrowsWith(() => loss(good, good, { logitScale: 0 }), 'icdLoss', 'logitScale', '> 0');
    expectThrowsWith(() => loss(good, good, { logitScale: Infinity }), 'icdLoss', 'logitScale', 'finite');
    expectThrowsWith(() => loss(good, good, { logitScale: vectorScale }), 'icdLoss', 'logitScale', 'rank 0');
    expectThrowsWith(() => loss(good, good, { logitScale: intScale }), 'icdLoss', 'logitScale', 'float32');
    expectThrowsWith(() => loss(good, good, { logitScale: nanScale }), 'icdLoss', 'logitScale', 'NaN');
    expectThrowsWith(() => loss(good, good, { logitScale: negativeScale }), 'icdLoss', 'logitScale', '> 0');
    expectThrowsWith(() => loss(good, good, { logitScale: 1, bias: 'x' }), 'icdLoss', 'bias');
    expectThrowsWith(() => loss(good, good, { logitScale: 1, alpha: -1 }), 'icdLoss', 'alpha', '>= 0');
    expectThrowsWith(() => loss(good, good, { logitScale: 1, scale: 2 }), 'icdLoss', "unknown option 'scale'");
    tf.dispose([good, single, otherBatch, vectorScale, intScale, nanScale, negativeScale]);
  });
});
