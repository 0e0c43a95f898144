import {
  describeWithBackends,
  expectArraysClose,
  expectGradientMatchesFiniteDifferences,
  expectThrowsWith,
  randomTensor,
  tf,
  valuesOf,
} from '@kd/test-utils';
import { expect, it } from 'vitest';
import { labelsTensor, rowsOf, softmaxOf } from './__fixtures__/reference';
import { classCentroids } from './class-centroids';

function referenceCentroids(logits: tf.Tensor, labels: number[], numClasses: number): number[] {
  const rows = rowsOf(logits).map(softmaxOf);
  const result: number[] = [];
  for (let y = 0; y < numClasses; y++) {
    const members = rows.filter((_, i) => labels[i] === y);
    for (let c = 0; c < numClasses; c++) {
      if (members.length === 0) result.push(1 / numClasses);
      else result.push(members.reduce((total, p) => total + (p[c] as number), 0) / members.length);
    }
  }
  return result;
}

describeWithBackends('classCentroids', () => {
  it('row y is the mean softmax of class y; an absent class gets the uniform row', () => {
    const logits = randomTensor([6, 4], 21, -3, 3);
    const labelValues = [0, 2, 0, 2, 2, 3]; // class 1 absent
    const labels = labelsTensor(labelValues);
    const centroids = classCentroids(logits, labels, 4);
    expect(centroids.shape).toEqual([4, 4]);
    const values = valuesOf(centroids);
    expectArraysClose(values, referenceCentroids(logits, labelValues, 4));
    expectArraysClose(values.slice(4, 8), [0.25, 0.25, 0.25, 0.25]);
    tf.dispose([logits, labels]);
  });

  it('has gradients equal to central finite differences', () => {
    const logits = randomTensor([4, 3], 22, -2, 2);
    const labels = labelsTensor([0, 1, 0, 1]);
    const weights = randomTensor([3, 3], 23);
    expectGradientMatchesFiniteDifferences((x) => tf.sum(tf.mul(classCentroids(x, labels, 3), weights)), logits);
    tf.dispose([logits, labels, weights]);
  });

  it('stays finite with logits of ±1e3, values and gradients', () => {
    const logits = tf.tensor2d([
      [1e3, -1e3, 0],
      [-1e3, 1e3, 1e3],
    ]);
    const labels = labelsTensor([0, 0]);
    const values = valuesOf(classCentroids(logits, labels, 3));
    expectArraysClose(values, referenceCentroids(logits, [0, 0], 3));
    const weights = tf.tensor2d([
      [1, -2, 3],
      [0.5, 1, -1],
      [2, 0, 1],
    ]);
    const gradient = valuesOf(tf.grad((x: tf.Tensor) => tf.sum(tf.mul(classCentroids(x, labels, 3), weights)))(logits));
    expect(Array.from(gradient).every(Number.isFinite)).toBe(true);
    tf.dispose([logits, labels, weights]);
  });

  it('rejects bad inputs with errors naming the function and the argument', () => {
    const logits = tf.zeros([2, 3]);
    const labels = labelsTensor([0, 1]);
    const outOfRange = labelsTensor([0, 5]);
    const withInfinity = tf.tensor2d([
      [Infinity, 0, 0],
      [0, 0, 0],
    ]);
    expectThrowsWith(() => classCentroids(logits, labels, 4), 'classCentroids', 'logits', 'numClasses is 4');
    expectThrowsWith(() => classCentroids(logits, labels, 0), 'classCentroids', 'numClasses', '>= 1');
    expectThrowsWith(() => classCentroids(logits, labels, 2.5), 'classCentroids', 'numClasses', 'integer');
    expectThrowsWith(() => classCentroids(logits, outOfRange, 3), 'classCentroids', 'labels[1] = 5');
    expectThrowsWith(() => classCentroids(withInfinity, labels, 3), 'classCentroids', 'logits', 'Infinity');
    const floatLabels = tf.tensor1d([0, 1]);
    expectThrowsWith(() => classCentroids(logits, floatLabels, 3), 'classCentroids', 'labels', 'int32');
    tf.dispose([logits, labels, outOfRange, withInfinity, floatLabels]);
  });
});
