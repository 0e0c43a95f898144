import { assertKnownOptions } from '@kd/internal';
import * as tf from '@tensorflow/tfjs-core';
import type { KdModel } from '@kd/models';
import type { Dataset } from '@kd/data';
import { releaseBatch, type LoaderFactory } from '../data';
import { assertBoolean } from '../validate';

/** Options of {@link measureClassConditionalStatistics}. */
export interface CmiPassOptions {
  model: KdModel;
  dataset: Dataset;
  loader: LoaderFactory;
  /** Default 64. */
  batchSize?: number;
  /**
   * Run the model in training mode (batch statistics; updates BN running statistics) — the reference's
   * `centroid.py` pass. Default false (`MTCMI.py`: eval mode).
   */
  training?: boolean;
  /** Augment the images as in training (the centroid pass does). Default false. */
  augment?: boolean;
  /** Shuffle the pass (the centroid pass does, as the reference's training loader). Default false. */
  shuffle?: boolean;
  /** Loader seed (matters only with augmentation or shuffling). Default 0. */
  seed?: number;
  /** Clamp for log Q in the KL (the reference has none; a centroid entry can underflow to 0). Default 1e-8. */
  epsilon?: number;
  /**
   * Passed to every `model.apply` of the pass: scan the images for NaN and ±Infinity. Default true; the
   * trainer's own passes give false (their datasets are validated up front).
   */
  checkValues?: boolean;
}

/** Result of {@link measureClassConditionalStatistics}. */
export interface CmiStatistics {
  /** Î = (1/n) Σ_i KL(P_{x_i} ‖ Q̂_{y_i}) in nats. */
  cmi: number;
  /** `[C·C]` row-major: row y is Q̂_y = mean softmax of the samples labelled y (uniform for an absent class). */
  centroids: Float32Array;
  /** Top-1 accuracy of the same pass. */
  accuracy: number;
  /** Mean cross-entropy of the same pass. */
  crossEntropy: number;
  count: number;
}

/**
 * The teacher's conditional mutual information over a whole dataset (MCMI, Yang et al., ICLR 2024):
 *
 *   Q̂_y = mean_{i: y_i = y} softmax(z_i),   Î = (1/n) Σ_i Σ_c P_i(c)·(log P_i(c) − log max(Q̂_{y_i}(c), ε))
 *
 * Two passes in JS over the softmax rows read once per batch (float64 sums). With `training: true,
 * augment: true` it is the reference's centroid pass for MCMI fine-tuning (which also updates BN running
 * statistics, as the reference does); with the defaults it is `MTCMI.py`'s evaluation.
 *
 * @example
 * const { cmi } = await measureClassConditionalStatistics({ model: teacher, dataset: train, loader: createLoader });
 */
export async function measureClassConditionalStatistics(options: CmiPassOptions): Promise<CmiStatistics> {
  const fn = 'measureClassConditionalStatistics';
  assertKnownOptions(fn, options, [
    'model',
    'dataset',
    'loader',
    'batchSize',
    'training',
    'augment',
    'shuffle',
    'seed',
    'epsilon',
    'checkValues',
  ]);
  const {
    model,
    dataset,
    loader,
    batchSize = 64,
    training = false,
    augment = false,
    shuffle = false,
    seed = 0,
    epsilon = 1e-8,
  } = options;
  const checkValues = assertBoolean(fn, 'checkValues', options.checkValues ?? true);
  const classes = dataset.numClasses;
  const probabilityRows: Float32Array[] = [];
  const labelRows: Int32Array[] = [];
  const sums = new Float64Array(classes * classes);
  const counts = new Float64Array(classes);
  let correct = 0;
  let crossEntropySum = 0;
  const batches = loader(dataset, { batchSize, shuffle, seed, dropLast: false, augment, epoch: 1 });
  for await (const batch of batches) {
    try {
      const probabilities = tf.tidy(() => tf.softmax(model.apply(batch.images, { training, checkValues }).logits));
      const values = probabilities.dataSync() as Float32Array;
      probabilities.dispose();
      const labels = batch.labels.dataSync() as Int32Array;
      probabilityRows.push(values.slice());
      labelRows.push(labels.slice());
      for (let row = 0; row < labels.length; row++) {
        const label = labels[row] as number;
        counts[label]! += 1;
        let best = 0;
        for (let c = 0; c < classes; c++) {
          const p = values[row * classes + c] as number;
          sums[label * classes + c]! += p;
          if (p > (values[row * classes + best] as number)) best = c;
        }
        if (best === label) correct++;
        crossEntropySum -= Math.log(Math.max(values[row * classes + label] as number, 1e-30));
      }
    } finally {
      releaseBatch(batch);
    }
  }
  const centroids = new Float32Array(classes * classes);
  for (let label = 0; label < classes; label++) {
    const count = counts[label] as number;
    if (count === 0) {
      // A class with no sample gets the uniform row, as @kd/losses' CentroidTracker.
      centroids.fill(1 / classes, label * classes, (label + 1) * classes);
      continue;
    }
    for (let c = 0; c < classes; c++) centroids[label * classes + c] = (sums[label * classes + c] as number) / count;
  }
  let klSum = 0;
  let total = 0;
  probabilityRows.forEach((values, batchIndex) => {
    const labels = labelRows[batchIndex] as Int32Array;
    for (let row = 0; row < labels.length; row++) {
      const label = labels[row] as number;
      for (let c = 0; c < classes; c++) {
        const p = values[row * classes + c] as number;
        if (p > 0) klSum += p * (Math.log(p) - Math.log(Math.max(centroids[label * classes + c] as number, epsilon)));
      }
      total++;
    }
  });
  const n = Math.max(total, 1);
  return { cmi: klSum / n, centroids, accuracy: correct / n, crossEntropy: crossEntropySum / n, count: total };
}
