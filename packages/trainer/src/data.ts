import type * as tf from '@tensorflow/tfjs-core';

/**
 * An in-memory labelled image set, structurally the dataset type of `@kd/data` (any object with these fields
 * works): NHWC uint8 images, int32 labels and each sample's index in the full set (CRD's memory rows).
 */
export interface TrainingDataset {
  /** `[N·H·W·C]` uint8 pixels, NHWC. */
  readonly images: Uint8Array;
  /** `[N]` labels in `[0, numClasses)`. */
  readonly labels: Int32Array;
  /** `[N]` index of each sample in the full dataset; the trainers fill in 0…N−1 where absent. */
  readonly indices?: Int32Array;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly numClasses: number;
  /** One name per class; the trainers fill in '0', '1', … where absent. */
  readonly classNames?: readonly string[];
}

/** One mini-batch as the trainer consumes it (the trainer disposes the tensors after the step). */
export interface Batch {
  /** `[B, H, W, C]` float32, already normalised/augmented by the loader. */
  images: tf.Tensor4D;
  /** `[B]` int32 labels. */
  labels: tf.Tensor1D;
  /** `[B]` dataset indices of the samples. */
  indices: Int32Array;
}

/** Options the trainer passes to a {@link LoaderFactory} (those of `@kd/data`'s `createLoader`). */
export interface LoaderOptions {
  batchSize: number;
  shuffle: boolean;
  seed: number;
  dropLast: boolean;
  augment: boolean;
  /** 1-based epoch: the order and augmentation of an epoch depend only on (seed, epoch), so resume replays it. */
  epoch: number;
}

/** Makes the batches of one pass over `dataset` (sync or async iterable). */
export type LoaderFactory = (dataset: TrainingDataset, options: LoaderOptions) => Iterable<Batch> | AsyncIterable<Batch>;
