import { describeWithBackends, expectArraysClose, expectThrowsWith, randomTensor, tf, valuesOf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { classCentroids, conditionalMutualInformation } from '../info/index';
import { type Plain, plain, rows } from './__fixtures__/reference';
import { CentroidTracker } from './centroid-tracker';

function softmaxRows(logits: Plain): number[][] {
  return rows(logits).map((row) => {
    const max = Math.max(...row);
    const exps = row.map((value) => Math.exp(value - max));
    const total = exps.reduce((a, b) => a + b, 0);
    return exps.map((value) => value / total);
  });
}

describeWithBackends('CentroidTracker', () => {
  it("mode 'pass': the class mean of softmax over every batch, uniform for absent classes, then fixed", () => {
    const tracker = new CentroidTracker({ numClasses: 4 });
    const batches = [
      { logits: randomTensor([3, 4], 1, -3, 3), labels: tf.tensor1d([0, 1, 0], 'int32') },
      { logits: randomTensor([2, 4], 2, -3, 3), labels: tf.tensor1d([2, 0], 'int32') },
    ];
    const sums = [0, 1, 2, 3].map(() => [0, 0, 0, 0]);
    const counts = [0, 0, 0, 0];
    for (const { logits, labels } of batches) {
      tracker.update(logits, labels);
      const labelValues = Array.from(labels.dataSync());
      softmaxRows(plain(logits)).forEach((p, row) => {
        const label = labelValues[row] as number;
        p.forEach(
          (value, column) =>
            ((sums[label] as number[])[column] = ((sums[label] as number[])[column] as number) + value),
        );
        counts[label] = (counts[label] as number) + 1;
      });
    }
    const expected = sums.flatMap((row, label) =>
      counts[label] === 0 ? [0.25, 0.25, 0.25, 0.25] : row.map((value) => value / (counts[label] as number)),
    );
    expect(tracker.classCounts).toEqual([3, 1, 1, 0]);
    expectArraysClose(valuesOf(tracker.centroids()), expected);
    expect(tracker.isFinalised).toBe(true);
    const [first] = batches as [{ logits: tf.Tensor; labels: tf.Tensor }];
    expectThrowsWith(() => tracker.update(first.logits, first.labels), 'CentroidTracker.update', 'reset()');
    expectArraysClose(valuesOf(tracker.centroids()), expected);
    tracker.reset();
    expectArraysClose(valuesOf(tracker.centroids()), new Array(16).fill(0.25));
    batches.forEach(({ logits, labels }) => tf.dispose([logits, labels]));
    tracker.dispose();
  });

  it("mode 'ema': the first batch of a class sets its row, later ones move it by (1 − m)", () => {
    const tracker = new CentroidTracker({ numClasses: 3, mode: 'ema', momentum: 0.8 });
    const logitsA = randomTensor([2, 3], 3, -2, 2);
    const labelsA = tf.tensor1d([1, 1], 'int32');
    const logitsB = randomTensor([1, 3], 4, -2, 2);
    const labelsB = tf.tensor1d([1], 'int32');
    tracker.update(logitsA, labelsA);
    const pa = softmaxRows(plain(logitsA));
    const first = [0, 1, 2].map((c) => (((pa[0] as number[])[c] as number) + ((pa[1] as number[])[c] as number)) / 2);
    expectArraysClose(valuesOf(tracker.centroids()), [1 / 3, 1 / 3, 1 / 3, ...first, 1 / 3, 1 / 3, 1 / 3]);
    tracker.update(logitsB, labelsB);
    const pb = softmaxRows(plain(logitsB))[0] as number[];
    const mixed = first.map((value, c) => 0.8 * value + 0.2 * (pb[c] as number));
    const total = mixed.reduce((a, b) => a + b, 0);
    expectArraysClose(valuesOf(tracker.centroids()), [
      1 / 3,
      1 / 3,
      1 / 3,
      ...mixed.map((value) => value / total),
      1 / 3,
      1 / 3,
      1 / 3,
    ]);
    expect(tracker.isFinalised).toBe(false);
    tf.dispose([logitsA, labelsA, logitsB, labelsB]);
    tracker.dispose();
  });

  it('after one batch equals classCentroids of that batch and feeds conditionalMutualInformation', () => {
    const tracker = new CentroidTracker({ numClasses: 4 });
    const logits = randomTensor([6, 4], 9, -3, 3);
    const labels = tf.tensor1d([0, 0, 1, 3, 3, 3], 'int32');
    tracker.update(logits, labels);
    const centroids = tracker.centroids();
    expectArraysClose(valuesOf(tf.clone(centroids)), valuesOf(classCentroids(logits, labels, 4)));
    const withTracker = valuesOf(conditionalMutualInformation(logits, labels, { numClasses: 4, centroids }));
    const withBatch = valuesOf(conditionalMutualInformation(logits, labels, { numClasses: 4 }));
    expectArraysClose(withTracker, withBatch);
    tf.dispose([logits, labels, centroids]);
    tracker.dispose();
  });

  it('saves and loads its state, and a resumed pass gives the same centroids', async () => {
    const source = new CentroidTracker({ numClasses: 3 });
    const logits = randomTensor([4, 3], 5, -2, 2);
    const labels = tf.tensor1d([0, 2, 2, 1], 'int32');
    source.update(logits, labels);
    const artifacts = await source.saveWeights();
    const target = new CentroidTracker({ numClasses: 3 });
    target.loadWeights(artifacts);
    source.update(logits, labels);
    target.update(logits, labels);
    expectArraysClose(valuesOf(target.centroids()), valuesOf(source.centroids()));
    expect(target.trainableVariables).toEqual([]);
    const finalised = await source.saveWeights();
    const resumed = new CentroidTracker({ numClasses: 3 });
    resumed.loadWeights(finalised);
    expect(resumed.isFinalised).toBe(true);
    const bigger = new CentroidTracker({ numClasses: 4 });
    expectThrowsWith(() => bigger.loadWeights(artifacts), 'CentroidTracker.loadWeights', "'sums'", 'shape');
    tf.dispose([logits, labels]);
    [source, target, resumed, bigger].forEach((tracker) => tracker.dispose());
  });

  it('rejects bad options and inputs with the function and argument named', () => {
    expectThrowsWith(() => new CentroidTracker({ numClasses: 0 }), 'CentroidTracker', 'numClasses');
    expect(() => new CentroidTracker({ numClasses: 1e6 })).toThrow(
      'CentroidTracker: the centroids [numClasses 1000000, numClasses 1000000] would need 1.000e+12 values, 8.0 TB; one tensor holds at most 2147483647 values (17.2 GB)',
    );
    expectThrowsWith(() => new CentroidTracker({ numClasses: 46341 }), 'CentroidTracker', 'would need 2.147e+9 values');
    expectThrowsWith(
      () => new CentroidTracker({ numClasses: 3, mode: 'batch' as never }),
      'CentroidTracker',
      'mode',
      "'pass', 'ema'",
    );
    expectThrowsWith(
      () => new CentroidTracker({ numClasses: 3, mode: 'ema', momentum: 1.5 }),
      'CentroidTracker',
      'momentum',
    );
    expectThrowsWith(
      () => new CentroidTracker({ numClasses: 3, momentum: 0.9 }),
      'CentroidTracker',
      'momentum',
      "'ema'",
    );
    const tracker = new CentroidTracker({ numClasses: 3 });
    const logits = randomTensor([2, 3], 6);
    const wide = randomTensor([2, 4], 7);
    const labels = tf.tensor1d([0, 1], 'int32');
    const floatLabels = tf.tensor1d([0, 1], 'float32');
    const outOfRange = tf.tensor1d([0, 3], 'int32');
    const short = tf.tensor1d([0], 'int32');
    const nan = tf.tensor2d([
      [0, Number.NaN, 1],
      [1, 2, 3],
    ]);
    expectThrowsWith(() => tracker.update(wide, labels), 'CentroidTracker.update', 'logits', 'numClasses');
    expectThrowsWith(() => tracker.update(logits, floatLabels), 'CentroidTracker.update', 'labels', 'int32');
    expectThrowsWith(() => tracker.update(logits, outOfRange), 'CentroidTracker.update', 'labels[1] = 3');
    expectThrowsWith(() => tracker.update(logits, short), 'CentroidTracker.update', 'labels', 'batch');
    expectThrowsWith(() => tracker.update(nan, labels), 'CentroidTracker.update', 'logits', 'NaN');
    expect(tracker.classCounts).toEqual([0, 0, 0]);
    tf.dispose([logits, wide, labels, floatLabels, outOfRange, short, nan]);
    tracker.dispose();
  });
});
