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
import { dot, logSoftmaxOf, mean, normalizeRow, rowsOf } from './__fixtures__/reference';
import { infoNceLoss } from './info-nce';

function referenceInfoNce(anchors: tf.Tensor, positives: tf.Tensor, temperature: number, normalize: boolean): number {
  const a = rowsOf(anchors).map((row) => (normalize ? normalizeRow(row) : row));
  const p = rowsOf(positives).map((row) => (normalize ? normalizeRow(row) : row));
  return mean(a.map((row, i) => -(logSoftmaxOf(p.map((other) => dot(row, other) / temperature))[i] as number)));
}

describeWithBackends('infoNceLoss', () => {
  it('equals the mean in-batch cross-entropy computed with loops', () => {
    const anchors = randomTensor([5, 4], 61);
    const positives = randomTensor([5, 4], 62);
    expectClose(scalarOf(infoNceLoss(anchors, positives)), referenceInfoNce(anchors, positives, 0.07, true));
    expectClose(
      scalarOf(infoNceLoss(anchors, positives, { temperature: 0.5 })),
      referenceInfoNce(anchors, positives, 0.5, true),
    );
    expectClose(
      scalarOf(infoNceLoss(anchors, positives, { temperature: 2, normalize: false })),
      referenceInfoNce(anchors, positives, 2, false),
    );
    tf.dispose([anchors, positives]);
  });

  it('is ≈ log N for unrelated random embeddings and small when anchors equal positives', () => {
    const size = 16;
    const anchors = randomTensor([size, 2048], 63);
    const positives = randomTensor([size, 2048], 64);
    // cosines of independent 2048-d vectors are ≈ N(0, 1/2048): at τ = 1 the logits are almost equal
    expectClose(scalarOf(infoNceLoss(anchors, positives, { temperature: 1 })), Math.log(size), { rtol: 0.01 });
    expect(scalarOf(infoNceLoss(anchors, anchors))).toBeLessThan(0.01);
    tf.dispose([anchors, positives]);
  });

  it('has gradients equal to central finite differences for both arguments', () => {
    const anchors = randomTensor([3, 4], 65);
    const positives = randomTensor([3, 4], 66);
    expectGradientMatchesFiniteDifferences((x) => infoNceLoss(x, positives, { temperature: 0.5 }), anchors, {
      step: 1e-3,
    });
    expectGradientMatchesFiniteDifferences((x) => infoNceLoss(anchors, x, { temperature: 0.5 }), positives, {
      step: 1e-3,
    });
    expectGradientMatchesFiniteDifferences(
      (x) => infoNceLoss(x, positives, { temperature: 2, normalize: false }),
      anchors,
    );
    tf.dispose([anchors, positives]);
  });

  it('stays finite for inputs of ±1e3 (un-normalised logits of ±1e6), values and gradients', () => {
    const anchors = tf.tensor2d([
      [1e3, -1e3],
      [-1e3, 1e3],
      [1e3, 1e3],
    ]);
    const positives = tf.tensor2d([
      [-1e3, 1e3],
      [1e3, 1e3],
      [1e3, -1e3],
    ]);
    for (const normalize of [true, false]) {
      const value = scalarOf(infoNceLoss(anchors, positives, { normalize }));
      expect(Number.isFinite(value)).toBe(true);
      expectClose(value, referenceInfoNce(anchors, positives, 0.07, normalize), { rtol: 1e-5 });
      const gradient = valuesOf(tf.grad((x: tf.Tensor) => infoNceLoss(x, positives, { normalize }))(anchors));
      expect(Array.from(gradient).every(Number.isFinite)).toBe(true);
    }
    tf.dispose([anchors, positives]);
  });

  it('rejects bad inputs with errors naming the function and the argument', () => {
    const good = tf.zeros([3, 4]);
    const single = tf.zeros([1, 4]);
    const otherWidth = tf.zeros([3, 5]);
    const rank1 = tf.zeros([4]);
    const withNaN = tf.tensor2d([
      [NaN, 0],
      [0, 0],
    ]);
    const pair = tf.zeros([2, 2]);
    expectThrowsWith(() => infoNceLoss(rank1, good), 'infoNceLoss', 'anchors', 'rank 2');
    expectThrowsWith(() => infoNceLoss(good, otherWidth), 'infoNceLoss', 'same shape');
    expectThrowsWith(() => infoNceLoss(single, single), 'infoNceLoss', 'anchors', 'at least 2 rows');
    expectThrowsWith(() => infoNceLoss(pair, withNaN), 'infoNceLoss', 'positives', 'NaN');
    expectThrowsWith(() => infoNceLoss(good, good, { temperature: 0 }), 'infoNceLoss', 'temperature', '> 0');
    expectThrowsWith(
      () => infoNceLoss(good, good, { normalize: 'yes' } as never),
      'infoNceLoss',
      'normalize',
      'boolean',
    );
    expectThrowsWith(() => infoNceLoss(good, good, { tau: 0.1 } as never), 'infoNceLoss', "unknown option 'tau'");
    tf.dispose([good, single, otherWidth, rank1, withNaN, pair]);
  });
});
