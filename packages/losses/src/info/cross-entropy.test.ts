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
import { labelsTensor, logSoftmaxOf, mean, rowsOf } from './__fixtures__/reference';
import { crossEntropy } from './cross-entropy';

function referenceCrossEntropy(logits: tf.Tensor, labels: number[]): number {
  return mean(rowsOf(logits).map((row, i) => -(logSoftmaxOf(row)[labels[i] as number] as number)));
}

describeWithBackends('crossEntropy', () => {
  it('equals −mean log softmax of the target computed with loops', () => {
    const logits = randomTensor([6, 4], 11, -4, 4);
    const labelValues = [0, 3, 2, 1, 3, 0];
    const labels = labelsTensor(labelValues);
    expectClose(scalarOf(crossEntropy(logits, labels)), referenceCrossEntropy(logits, labelValues));
    tf.dispose([logits, labels]);
  });

  it('has gradients equal to central finite differences (softmax − onehot) / N', () => {
    const logits = randomTensor([3, 4], 12, -2, 2);
    const labels = labelsTensor([1, 0, 3]);
    expectGradientMatchesFiniteDifferences((x) => crossEntropy(x, labels), logits);
    tf.dispose([logits, labels]);
  });

  it('stays finite with logits of ±1e3', () => {
    const logits = tf.tensor2d([
      [1e3, -1e3, 0],
      [-1e3, 1e3, 1e3],
    ]);
    const labels = labelsTensor([1, 0]);
    const value = scalarOf(crossEntropy(logits, labels));
    expectClose(value, referenceCrossEntropy(logits, [1, 0]));
    const gradient = valuesOf(tf.grad((x: tf.Tensor) => crossEntropy(x, labels))(logits));
    expect(Array.from(gradient).every(Number.isFinite)).toBe(true);
    tf.dispose([logits, labels]);
  });

  it('rejects bad inputs with errors naming the function and the argument', () => {
    const logits = tf.zeros([2, 3]);
    const labels = labelsTensor([0, 2]);
    const floatLabels = tf.tensor1d([0, 1]);
    const outOfRange = labelsTensor([0, 3]);
    const negative = labelsTensor([-1, 0]);
    const shortLabels = labelsTensor([0]);
    const labels2d = tf.zeros([2, 1], 'int32');
    const withNaN = tf.tensor2d([
      [NaN, 0, 0],
      [0, 0, 0],
    ]);
    const rank1 = tf.zeros([3]);
    expectThrowsWith(() => crossEntropy(rank1, labels), 'crossEntropy', 'logits', 'rank 2');
    expectThrowsWith(() => crossEntropy(withNaN, labels), 'crossEntropy', 'logits', 'NaN');
    expectThrowsWith(() => crossEntropy(logits, floatLabels), 'crossEntropy', 'labels', 'int32');
    expectThrowsWith(() => crossEntropy(logits, outOfRange), 'crossEntropy', 'labels[1] = 3', 'out of range');
    expectThrowsWith(() => crossEntropy(logits, negative), 'crossEntropy', 'labels[0] = -1');
    expectThrowsWith(() => crossEntropy(logits, shortLabels), 'crossEntropy', 'labels', 'batch sizes differ');
    expectThrowsWith(() => crossEntropy(logits, labels2d), 'crossEntropy', 'labels', 'rank 1');
    tf.dispose([logits, labels, floatLabels, outOfRange, negative, shortLabels, labels2d, withNaN, rank1]);
  });
});
