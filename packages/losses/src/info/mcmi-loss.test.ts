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
import { labelsTensor, logSoftmaxOf, mean, rowsOf, softmaxOf, type Matrix } from './__fixtures__/reference';
import { crossEntropy } from './cross-entropy';
import { mcmiLoss } from './mcmi-loss';

/** CE − λ · mean_i KL(P_i ‖ Q_{y_i}) with loops; Q = given rows or batch class means. */
function referenceMcmi(
  logits: tf.Tensor,
  labels: number[],
  numClasses: number,
  lambda: number,
  centroids?: Matrix,
): number {
  const rows = rowsOf(logits);
  const crossEntropyValue = mean(rows.map((row, i) => -(logSoftmaxOf(row)[labels[i] as number] as number)));
  const p = rows.map(softmaxOf);
  const q: Matrix =
    centroids ??
    Array.from({ length: numClasses }, (_, y) => {
      const members = p.filter((_, i) => labels[i] === y);
      return Array.from({ length: numClasses }, (_, c) =>
        members.length === 0
          ? 1 / numClasses
          : members.reduce((total, row) => total + (row[c] as number), 0) / members.length,
      );
    });
  const cmi = mean(
    p.map((row, i) =>
      row.reduce(
        (total, pc, c) =>
          total +
          (pc > 0
            ? pc * (Math.log(pc) - Math.log(Math.max((q[labels[i] as number] as number[])[c] as number, 1e-8)))
            : 0),
        0,
      ),
    ),
  );
  return crossEntropyValue - lambda * cmi;
}

describeWithBackends('mcmiLoss', () => {
  it('equals CE − λ·CMI computed with loops (default λ = 0.25, other λ, fixed centroids)', () => {
    const logits = randomTensor([8, 4], 41, -3, 3);
    const labelValues = [0, 1, 0, 1, 3, 3, 0, 2];
    const labels = labelsTensor(labelValues);
    expectClose(scalarOf(mcmiLoss(logits, labels, { numClasses: 4 })), referenceMcmi(logits, labelValues, 4, 0.25));
    expectClose(
      scalarOf(mcmiLoss(logits, labels, { numClasses: 4, lambda: 0.4 })),
      referenceMcmi(logits, labelValues, 4, 0.4),
    );
    const centroidRows = [
      [0.7, 0.1, 0.1, 0.1],
      [0.2, 0.5, 0.2, 0.1],
      [0.25, 0.25, 0.25, 0.25],
      [0.1, 0.1, 0.1, 0.7],
    ];
    const centroids = tf.tensor2d(centroidRows);
    expectClose(
      scalarOf(mcmiLoss(logits, labels, { numClasses: 4, centroids })),
      referenceMcmi(logits, labelValues, 4, 0.25, centroidRows),
    );
    tf.dispose([logits, labels, centroids]);
  });

  it('with λ = 0 equals the cross-entropy, and a positive λ lowers the loss (CMI is subtracted)', () => {
    const logits = randomTensor([6, 3], 42, -3, 3);
    const labels = labelsTensor([0, 1, 2, 0, 1, 1]);
    const ce = scalarOf(crossEntropy(logits, labels));
    expectClose(scalarOf(mcmiLoss(logits, labels, { numClasses: 3, lambda: 0 })), ce);
    expect(scalarOf(mcmiLoss(logits, labels, { numClasses: 3, lambda: 0.25 }))).toBeLessThan(ce);
    tf.dispose([logits, labels]);
  });

  it('has gradients equal to central finite differences', () => {
    const logits = randomTensor([6, 3], 43, -2, 2);
    const labels = labelsTensor([0, 1, 0, 1, 2, 0]);
    const centroids = tf.tensor2d([
      [0.6, 0.3, 0.1],
      [0.2, 0.6, 0.2],
      [0.1, 0.1, 0.8],
    ]);
    expectGradientMatchesFiniteDifferences((x) => mcmiLoss(x, labels, { numClasses: 3, lambda: 0.3 }), logits);
    expectGradientMatchesFiniteDifferences((x) => mcmiLoss(x, labels, { numClasses: 3, centroids }), logits);
    tf.dispose([logits, labels, centroids]);
  });

  it('stays finite with logits of ±1e3, values and gradients', () => {
    const logits = tf.tensor2d([
      [1e3, -1e3, 0],
      [-1e3, 1e3, 1e3],
      [1e3, 1e3, -1e3],
    ]);
    const labels = labelsTensor([0, 0, 1]);
    const value = scalarOf(mcmiLoss(logits, labels, { numClasses: 3 }));
    expectClose(value, referenceMcmi(logits, [0, 0, 1], 3, 0.25));
    const gradient = valuesOf(tf.grad((x: tf.Tensor) => mcmiLoss(x, labels, { numClasses: 3 }))(logits));
    expect(Array.from(gradient).every(Number.isFinite)).toBe(true);
    tf.dispose([logits, labels]);
  });

  it('rejects bad inputs with errors naming the function and the argument', () => {
    const logits = tf.zeros([2, 3]);
    const labels = labelsTensor([0, 1]);
    const floatLabels = tf.tensor1d([0, 1]);
    const wrongCentroids = tf.fill([3, 2], 0.5);
    const loss = mcmiLoss as (...args: unknown[]) => tf.Scalar;
    expectThrowsWith(() => loss(logits, labels), 'mcmiLoss', 'numClasses');
    expectThrowsWith(() => loss(logits, labels, { numClasses: 3, lambda: NaN }), 'mcmiLoss', 'lambda', 'finite');
    expectThrowsWith(() => loss(logits, labels, { numClasses: 3, lambda: Infinity }), 'mcmiLoss', 'lambda');
    expectThrowsWith(() => loss(logits, labels, { numClasses: 3, lamda: 0.2 }), 'mcmiLoss', "unknown option 'lamda'");
    expectThrowsWith(() => loss(logits, floatLabels, { numClasses: 3 }), 'mcmiLoss', 'labels', 'int32');
    expectThrowsWith(() => loss(logits, labels, { numClasses: 3, centroids: wrongCentroids }), 'mcmiLoss', 'centroids');
    expectThrowsWith(() => loss(logits, labels, { numClasses: 2 }), 'mcmiLoss', 'logits', 'numClasses is 2');
    tf.dispose([logits, labels, floatLabels, wrongCentroids]);
  });
});
