import { assertKnownOptions } from '@kd/internal';
import * as tf from '@tensorflow/tfjs-core';
import type { KdModel } from '@kd/models';
import type { Dataset } from '@kd/data';
import { releaseBatch, type LoaderFactory } from '../data';
import { assertBoolean } from '../validate';
import { ClassificationAccumulator, type ClassificationMetrics } from './classification';

/** Options of {@link evaluateModel}. */
export interface EvaluateOptions {
  model: KdModel;
  dataset: Dataset;
  loader: LoaderFactory;
  /** Default 64. */
  batchSize?: number;
  /**
   * Passed to every `model.apply` of the pass: scan the images for NaN and ±Infinity. Default true; the
   * trainer's own evaluations pass false (their datasets are validated up front).
   */
  checkValues?: boolean;
}

/**
 * One inference-mode pass (BN running statistics, no augmentation, no shuffling) over `dataset`: top-1, top-5,
 * per-class accuracy, confusion matrix and mean cross-entropy. Logits are read once per batch.
 *
 * @example
 * const { top1, confusionMatrix } = await evaluateModel({ model, dataset: test, loader: createLoader });
 */
export async function evaluateModel(options: EvaluateOptions): Promise<ClassificationMetrics> {
  assertKnownOptions('evaluateModel', options, ['model', 'dataset', 'loader', 'batchSize', 'checkValues']);
  const { model, dataset, loader, batchSize = 64, checkValues = true } = options;
  assertBoolean('evaluateModel', 'checkValues', checkValues);
  const accumulator = new ClassificationAccumulator(dataset.numClasses);
  const batches = loader(dataset, { batchSize, shuffle: false, seed: 0, dropLast: false, augment: false, epoch: 1 });
  for await (const batch of batches) {
    try {
      const logits = tf.tidy(() => model.apply(batch.images, { training: false, checkValues }).logits);
      const values = logits.dataSync();
      logits.dispose();
      accumulator.add(values, batch.labels.dataSync());
    } finally {
      releaseBatch(batch);
    }
  }
  return accumulator.result();
}
