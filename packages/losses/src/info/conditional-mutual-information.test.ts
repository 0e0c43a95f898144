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
import { labelsTensor, mean, rowsOf, softmaxOf, type Matrix } from './__fixtures__/reference';
import { conditionalMutualInformation } from './conditional-mutual-information';

/** mean_i KL(P_i ‖ max(Q_{y_i}, 1e-8)) with Q the given rows or the batch class means. */
function referenceCmi(logits: tf.Tensor, labels: number[], numClasses: number, centroids?: Matrix): number {
  const p = rowsOf(logits).map(softmaxOf);
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
  return mean(
    p.map((row, i) => {
      const qRow = q[labels[i] as number] as number[];
      let total = 0;
      for (let c = 0; c < numClasses; c++) {
        const pc = row[c] as number;
        if (pc > 0) total += pc * (Math.log(pc) - Math.log(Math.max(qRow[c] as number, 1e-8)));
      }
      return total;
    }),
  );
}

describeWithBackends('conditionalMutualInformation', () => {
  it('equals mean KL(P_i ‖ Q_{y_i}) computed with loops, for batch and given centroids', () => {
    const logits = randomTensor([8, 4], 31, -3, 3);
    const labelValues = [0, 1, 0, 1, 3, 3, 0, 1];
    const labels = labelsTensor(labelValues);
    expectClose(
      scalarOf(conditionalMutualInformation(logits, labels, { numClasses: 4 })),
      referenceCmi(logits, labelValues, 4),
    );
    const centroidRows = [
      [0.7, 0.1, 0.1, 0.1],
      [0.2, 0.5, 0.2, 0.1],
      [0.25, 0.25, 0.25, 0.25],
      [0.1, 0, 0.1, 0.8], // a zero entry exercises the 1e-8 floor
    ];
    const centroids = tf.tensor2d(centroidRows);
    expectClose(
      scalarOf(conditionalMutualInformation(logits, labels, { numClasses: 4, centroids })),
      referenceCmi(logits, labelValues, 4, centroidRows),
    );
    tf.dispose([logits, labels, centroids]);
  });

  it('is zero when all outputs of a class are equal and positive otherwise', () => {
    const classA = [2, -1, 0.5];
    const classB = [-3, 1, 4];
    const logits = tf.tensor2d([classA, classB, classA, classB, classA]);
    const labels = labelsTensor([0, 2, 0, 2, 0]);
    expectClose(scalarOf(conditionalMutualInformation(logits, labels, { numClasses: 3 })), 0, { atol: 1e-6 });
    const spread = randomTensor([5, 3], 32, -3, 3);
    expect(scalarOf(conditionalMutualInformation(spread, labels, { numClasses: 3 }))).toBeGreaterThan(1e-3);
    tf.dispose([logits, labels, spread]);
  });

  it('is non-negative over many random batches', () => {
    const labels = labelsTensor([0, 1, 2, 0, 1, 2, 0, 0]);
    for (let seed = 0; seed < 20; seed++) {
      const logits = randomTensor([8, 3], 100 + seed, -6, 6);
      expect(scalarOf(conditionalMutualInformation(logits, labels, { numClasses: 3 }))).toBeGreaterThanOrEqual(0);
      logits.dispose();
    }
    labels.dispose();
  });

  it('has gradients equal to central finite differences, batch and fixed centroids', () => {
    const logits = randomTensor([6, 3], 33, -2, 2);
    const labels = labelsTensor([0, 1, 0, 1, 2, 0]);
    const centroids = tf.tensor2d([
      [0.6, 0.3, 0.1],
      [0.2, 0.6, 0.2],
      [0.1, 0.1, 0.8],
    ]);
    expectGradientMatchesFiniteDifferences((x) => conditionalMutualInformation(x, labels, { numClasses: 3 }), logits);
    expectGradientMatchesFiniteDifferences(
      (x) => conditionalMutualInformation(x, labels, { numClasses: 3, centroids }),
      logits,
    );
    tf.dispose([logits, labels, centroids]);
  });

  it('treats given centroids as constants (zero gradient into them)', () => {
    const logits = randomTensor([4, 3], 34, -2, 2);
    const labels = labelsTensor([0, 1, 2, 0]);
    const centroids = tf.tensor2d([
      [0.6, 0.3, 0.1],
      [0.2, 0.6, 0.2],
      [0.1, 0.1, 0.8],
    ]);
    const gradient = valuesOf(
      tf.grad((q: tf.Tensor) => conditionalMutualInformation(logits, labels, { numClasses: 3, centroids: q }))(
        centroids,
      ),
    );
    expect(Array.from(gradient).every((value) => value === 0)).toBe(true);
    tf.dispose([logits, labels, centroids]);
  });

  it('stays finite with logits of ±1e3, values and gradients', () => {
    const logits = tf.tensor2d([
      [1e3, -1e3, 0],
      [-1e3, 1e3, 1e3],
      [1e3, 1e3, -1e3],
    ]);
    const labels = labelsTensor([0, 0, 1]);
    const centroidRows = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const centroids = tf.tensor2d(centroidRows);
    for (const given of [undefined, centroids]) {
      const options = given === undefined ? { numClasses: 3 } : { numClasses: 3, centroids: given };
      const value = scalarOf(conditionalMutualInformation(logits, labels, options));
      expectClose(value, referenceCmi(logits, [0, 0, 1], 3, given === undefined ? undefined : centroidRows), {
        rtol: 1e-5,
      });
      const gradient = valuesOf(tf.grad((x: tf.Tensor) => conditionalMutualInformation(x, labels, options))(logits));
      expect(Array.from(gradient).every(Number.isFinite)).toBe(true);
    }
    tf.dispose([logits, labels, centroids]);
  });

  it('rejects bad inputs with errors naming the function and the argument', () => {
    const logits = tf.zeros([2, 3]);
    const labels = labelsTensor([0, 1]);
    const outOfRange = labelsTensor([0, 3]);
    const wrongCentroids = tf.fill([2, 2], 0.5);
    const negativeCentroids = tf.tensor2d([
      [1.5, -0.5, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    const unnormalised = tf.tensor2d([
      [2, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    const nanCentroids = tf.tensor2d([
      [NaN, 0, 1],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    const fn = 'conditionalMutualInformation';
    const cmi = conditionalMutualInformation as (...args: unknown[]) => tf.Scalar;
    expectThrowsWith(() => cmi(logits, labels), fn, 'numClasses');
    expectThrowsWith(() => cmi(logits, labels, { numClasses: 4 }), fn, 'logits', 'numClasses is 4');
    expectThrowsWith(() => cmi(logits, labels, { numClasses: 0 }), fn, 'numClasses');
    expectThrowsWith(() => cmi(logits, outOfRange, { numClasses: 3 }), fn, 'labels[1] = 3', 'out of range');
    expectThrowsWith(() => cmi(logits, labels, { numClasses: 3, centroids: wrongCentroids }), fn, 'centroids', '[3,3]');
    expectThrowsWith(
      () => cmi(logits, labels, { numClasses: 3, centroids: negativeCentroids }),
      fn,
      'centroids',
      'non-negative',
    );
    expectThrowsWith(
      () => cmi(logits, labels, { numClasses: 3, centroids: unnormalised }),
      fn,
      'centroids',
      'row 0 sums to 2',
    );
    expectThrowsWith(() => cmi(logits, labels, { numClasses: 3, centroids: nanCentroids }), fn, 'centroids', 'NaN');
    expectThrowsWith(
      () => cmi(logits, labels, { numClasses: 3, centroid: wrongCentroids }),
      fn,
      "unknown option 'centroid'",
    );
    expectThrowsWith(() => cmi(tf.zeros as unknown, labels, { numClasses: 3 }), fn, 'logits', 'tf.Tensor');
    tf.dispose([logits, labels, outOfRange, wrongCentroids, negativeCentroids, unnormalised, nanCentroids]);
  });
});
