/**
 * The zero-shot protocol of the MCMI authors' code: the student's loader goes over the FULL training set, and the
 * samples of the omitted classes are dropped inside each mini-batch. An epoch therefore has as many steps as on
 * the full set, each on a smaller batch, so the schedule (240 epochs, decay at 150/180/210) gives the student as
 * many updates as the full-data recipe. Removing the samples from the dataset instead ('omit-samples') gives up
 * to 2.5× fewer updates (6 of 10 classes omitted), which changes the omitted-class accuracy the paper reports.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CIFAR_AUGMENTATION, createLoader, type Batch, type Normalization } from '@kd/data';
import type { LoaderFactory } from '@kd/trainer';

/** The samples of `batch` whose label is not in `omitted`; the batch itself when none is dropped, undefined when all are. */
function dropClasses(batch: Batch, omitted: ReadonlySet<number>): Batch | undefined {
  const labels = batch.labels.dataSync();
  const keep: number[] = [];
  labels.forEach((label, row) => {
    if (!omitted.has(label)) keep.push(row);
  });
  if (keep.length === labels.length) return batch;
  if (keep.length === 0) {
    batch.dispose();
    return undefined;
  }
  const rows = tf.tensor1d(keep, 'int32');
  try {
    const images = tf.gather(batch.images, rows) as tf.Tensor4D;
    const labels = tf.gather(batch.labels, rows) as tf.Tensor1D;
    return {
      images,
      labels,
      indices: Int32Array.from(keep, (row) => batch.indices[row] as number),
      dispose: () => tf.dispose([images, labels]),
    };
  } finally {
    rows.dispose();
    batch.dispose();
  }
}

/**
 * The trainer's default loader (crop + flip when it asks for augmentation, `normalization` always) over the full
 * training set, with the omitted classes dropped from every training batch (the shuffled passes). Evaluation
 * passes (unshuffled: the test set, the teacher's CMI) are left whole. A batch holding only omitted classes is
 * skipped (with batch 64 and at most 6 of 10 classes omitted, the chance is below 0.6⁶⁴ ≈ 6·10⁻¹⁵ per batch).
 *
 * @example
 * distillStudent({ ..., data: { train: fullTrain, test }, loader: maskingLoader({ omitted: [9, 7], normalization }) });
 */
export function maskingLoader({
  omitted,
  normalization,
}: {
  omitted: readonly number[];
  normalization: Normalization;
}): LoaderFactory {
  const omittedSet = new Set(omitted);
  return (dataset, options) => {
    const batches = createLoader(dataset, {
      batchSize: options.batchSize,
      shuffle: options.shuffle,
      seed: options.seed,
      dropLast: options.dropLast,
      epoch: options.epoch,
      normalize: normalization,
      ...(options.augment ? { augment: CIFAR_AUGMENTATION } : {}),
    });
    if (!options.shuffle) return batches;
    return (async function* () {
      for await (const batch of batches) {
        const kept = dropClasses(batch, omittedSet);
        if (kept !== undefined) yield kept;
      }
    })();
  };
}
