import type { Batch, Dataset, LoaderOptions } from '@kd/data';
import * as tf from '@tensorflow/tfjs-core';

/**
 * What the trainer asks of a {@link LoaderFactory} for one pass: `@kd/data`'s {@link LoaderOptions} fields, all
 * given, with `augment` reduced to a flag (true on training passes, false on evaluation passes); the factory
 * picks the augmentation. `epoch` is 1-based: the order and augmentation of an epoch depend only on
 * (seed, epoch), so a resumed run replays it.
 */
export type LoaderFactoryOptions = Required<Pick<LoaderOptions, LoaderFactoryKey>> & { augment: boolean };

type LoaderFactoryKey = 'batchSize' | 'shuffle' | 'seed' | 'dropLast' | 'epoch';

/**
 * Makes the batches of one pass over `dataset` (sync or async iterable), as `@kd/data`'s `createLoader` does. The
 * trainer calls each batch's `dispose()` once it is done with it.
 */
export type LoaderFactory = (dataset: Dataset, options: LoaderFactoryOptions) => Iterable<Batch> | AsyncIterable<Batch>;

/**
 * Releases a batch the trainer is done with through its own `dispose()` (the loader decides what its tensors
 * are); a batch without one, refused before use, has its `images` and `labels` disposed so nothing leaks.
 */
export function releaseBatch(batch: Batch): void {
  if (typeof (batch as Partial<Batch>).dispose === 'function') batch.dispose();
  else tf.dispose([batch.images, batch.labels]);
}
