/**
 * Batches of a {@link Dataset} as tfjs tensors, with seeded per-epoch shuffling, seeded augmentation and
 * asynchronous prefetch.
 *
 * Reproducibility: epoch k's sample order is a pure function of (seed, k) and batch b's crops and flips a pure
 * function of (seed, k, b), so a run resumed at epoch k (even mid-epoch, with `startBatch`) sees exactly the
 * batches of the uninterrupted run, whichever thread prepared them.
 *
 * Memory: batches are prepared as plain Float32Arrays; tensors are created only when the consumer takes a
 * batch, so an abandoned iteration leaves no tensor behind and the consumer owns (and disposes) every tensor
 * it receives.
 */
import { assertKnownOptions, assertSeed, deriveSeed, SeededRandom, shuffledRange } from '@kd/internal';
import * as tf from '@tensorflow/tfjs-core';
import type { AugmentJob, AugmentOptions } from './augment';
import { assertAugmentOptions, augmentBatchKernel, planAugmentation } from './augment';
import type { Dataset } from './dataset';
import { assertDataset } from './dataset';
import type { Normalization } from './normalization';
import { assertNormalization, normalizationCoefficients } from './normalization';
import { Random } from './random';
import { assertBoolean, assertNumber } from './validate';

export interface Batch {
  /** float32 `[N, H, W, C]`, augmented and normalised. */
  images: tf.Tensor4D;
  /** int32 `[N]`. */
  labels: tf.Tensor1D;
  /** Original index of each sample (`dataset.indices`), e.g. for CRD's memory bank. */
  indices: Int32Array;
  /** Disposes `images` and `labels`. */
  dispose(): void;
}

/**
 * Runs {@link AugmentJob}s for one dataset and resolves with the float32 NHWC pixels. The default runs on the
 * main thread between event-loop turns; `createWorkerProducer` in `@kd/data/node` runs them on worker threads.
 */
export interface BatchProducer {
  run(job: AugmentJob): Promise<Float32Array>;
}

/** The keys of {@link LoaderOptions}, for the unknown-key check. */
export const LOADER_OPTION_KEYS = [
  'batchSize',
  'shuffle',
  'seed',
  'dropLast',
  'augment',
  'normalize',
  'epoch',
  'epochLength',
  'prefetch',
  'producer',
] as const;

export interface LoaderOptions {
  /** Samples per batch. */
  batchSize: number;
  /** Reshuffle every epoch (order a pure function of (seed, epoch)). Default false: file order. */
  shuffle?: boolean;
  /** Seed of shuffling and augmentation. Default 0. */
  seed?: number;
  /** Drop the last incomplete batch. Default false. */
  dropLast?: boolean;
  /** Random crop / flip; none by default. */
  augment?: AugmentOptions;
  /** Per-channel normalisation after x/255; without it images are x/255 in [0, 1]. */
  normalize?: Normalization;
  /** Epoch iterated by `for await (const batch of loader)`. Default 0. */
  epoch?: number;
  /**
   * Samples per epoch, when it should differ from the dataset's size: positions 0..epochLength−1 map to dataset
   * rows p mod N (before shuffling the positions). With a few-shot subset and `epochLength` = size of the full
   * split, an epoch has as many steps as on the full data, as in the MCMI few-shot code.
   */
  epochLength?: number;
  /** Batches prepared ahead of the consumer. Default 2. */
  prefetch?: number;
  /** Where augmentation runs (default: the main thread, between event-loop turns). */
  producer?: BatchProducer;
}

export interface Loader extends AsyncIterable<Batch> {
  readonly batchSize: number;
  /** Samples seen per epoch (epochLength, or the dataset's size). */
  readonly samplesPerEpoch: number;
  /** Batches per epoch (the last one partial unless dropLast). */
  readonly batchesPerEpoch: number;
  /** The batches of one epoch, optionally starting at batch `startBatch` (to resume mid-epoch). */
  batches(options?: { epoch?: number; startBatch?: number }): AsyncIterableIterator<Batch>;
  /** Dataset rows of epoch `epoch`, in the order they are batched. */
  epochOrder(options: { epoch: number }): Int32Array;
}

const nextTurn: (callback: () => void) => void =
  typeof setImmediate === 'function' ? (callback) => setImmediate(callback) : (callback) => setTimeout(callback, 0);

/** Runs jobs on the main thread, each in its own event-loop turn so the consumer's awaits can interleave. */
export function createMainThreadProducer({ dataset }: { dataset: Dataset }): BatchProducer {
  return {
    run(job: AugmentJob): Promise<Float32Array> {
      return new Promise((resolve, reject) => {
        nextTurn(() => {
          try {
            const out = new Float32Array(job.rows.length * dataset.height * dataset.width * dataset.channels);
            augmentBatchKernel({ source: dataset, job, out });
            resolve(out);
          } catch (error) {
            reject(error);
          }
        });
      });
    },
  };
}

// Salts keep the shuffle stream and the augmentation streams of the same (seed, epoch) independent.
const SHUFFLE_SALT = 0x5348;
const AUGMENT_SALT = 0x4147;

/**
 * Creates a loader over `dataset`.
 *
 * @example
 * const loader = createLoader(train, { batchSize: 64, shuffle: true, seed: 1, augment: CIFAR_AUGMENTATION,
 *   normalize: CIFAR100_NORMALIZATION });
 * for (let epoch = 0; epoch < 240; epoch++) {
 *   for await (const batch of loader.batches({ epoch })) {
 *     // ... train on batch.images, batch.labels ...
 *     batch.dispose();
 *   }
 * }
 */
export function createLoader(dataset: Dataset, options: LoaderOptions): Loader {
  const fn = 'createLoader';
  assertDataset(fn, 'dataset', dataset);
  assertKnownOptions(fn, options, LOADER_OPTION_KEYS);
  if (options === undefined) throw new Error(`${fn}: options.batchSize is required`);
  const batchSize = assertNumber(fn, 'options.batchSize', options.batchSize, { integer: true, positive: true });
  const shuffle = assertBoolean(fn, 'options.shuffle', options.shuffle ?? false);
  const seed = assertSeed(fn, 'options.seed', options.seed ?? 0);
  const dropLast = assertBoolean(fn, 'options.dropLast', options.dropLast ?? false);
  const augment = assertAugmentOptions(fn, 'options.augment', options.augment);
  if (options.normalize !== undefined)
    assertNormalization(fn, 'options.normalize', options.normalize, dataset.channels);
  const defaultEpoch = assertNumber(fn, 'options.epoch', options.epoch ?? 0, { integer: true, nonNegative: true });
  const count = dataset.labels.length;
  if (count === 0) throw new Error(`${fn}: dataset is empty`);
  const samplesPerEpoch = assertNumber(fn, 'options.epochLength', options.epochLength ?? count, {
    integer: true,
    positive: true,
  });
  const prefetch = assertNumber(fn, 'options.prefetch', options.prefetch ?? 2, { integer: true, nonNegative: true });
  const producer = options.producer ?? createMainThreadProducer({ dataset });
  const batchesPerEpoch = dropLast ? Math.floor(samplesPerEpoch / batchSize) : Math.ceil(samplesPerEpoch / batchSize);
  if (batchesPerEpoch === 0) {
    throw new Error(
      `${fn}: options.dropLast drops every batch: ${samplesPerEpoch} samples per epoch < batchSize ${batchSize}`,
    );
  }
  const { scale, bias } = normalizationCoefficients(options.normalize, dataset.channels);
  const { height, width, channels } = dataset;

  function epochOrder({ epoch }: { epoch: number }): Int32Array {
    assertNumber('Loader.epochOrder', 'epoch', epoch, { integer: true, nonNegative: true });
    const order = shuffle
      ? shuffledRange(samplesPerEpoch, new SeededRandom(deriveSeed([seed, epoch, SHUFFLE_SALT])))
      : Int32Array.from({ length: samplesPerEpoch }, (_, i) => i);
    if (samplesPerEpoch !== count) for (let i = 0; i < order.length; i++) order[i] = order[i]! % count;
    return order;
  }

  function batches(batchOptions: { epoch?: number; startBatch?: number } = {}): AsyncIterableIterator<Batch> {
    assertKnownOptions('Loader.batches', batchOptions, ['epoch', 'startBatch']);
    const epoch = assertNumber('Loader.batches', 'options.epoch', batchOptions.epoch ?? defaultEpoch, {
      integer: true,
      nonNegative: true,
    });
    const startBatch = assertNumber('Loader.batches', 'options.startBatch', batchOptions.startBatch ?? 0, {
      integer: true,
      min: 0,
      max: batchesPerEpoch,
    });
    const order = epochOrder({ epoch });
    let nextToStart = startBatch;
    let nextToYield = startBatch;
    let finished = false;
    const pending: Array<{ rows: Int32Array; pixels: Promise<Float32Array> }> = [];

    const start = (): void => {
      const batchIndex = nextToStart++;
      const rows = order.slice(batchIndex * batchSize, Math.min((batchIndex + 1) * batchSize, samplesPerEpoch));
      const random = new Random({ seed: deriveSeed([seed, epoch, batchIndex, AUGMENT_SALT]) });
      const plan = planAugmentation({ count: rows.length, augment, random });
      const pixels = producer.run({
        rows,
        padding: plan.padding,
        top: plan.top,
        left: plan.left,
        flip: plan.flip,
        scale,
        bias,
      });
      // Failures surface when the consumer awaits this batch; until then, do not report them as unhandled.
      pixels.catch(() => undefined);
      pending.push({ rows, pixels });
    };
    const fill = (): void => {
      while (!finished && nextToStart < batchesPerEpoch && pending.length <= prefetch) start();
    };

    const iterator: AsyncIterableIterator<Batch> = {
      async next(): Promise<IteratorResult<Batch>> {
        if (finished || nextToYield >= batchesPerEpoch) {
          finished = true;
          return { done: true, value: undefined };
        }
        fill();
        const job = pending.shift()!;
        nextToYield++;
        let pixels: Float32Array;
        try {
          pixels = await job.pixels;
        } catch (error) {
          finished = true;
          pending.length = 0;
          throw error;
        }
        fill();
        const n = job.rows.length;
        const labels = new Int32Array(n);
        const indices = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          labels[i] = dataset.labels[job.rows[i]!]!;
          indices[i] = dataset.indices[job.rows[i]!]!;
        }
        // Tensors are created only now, when the consumer takes the batch.
        const images = tf.tensor4d(pixels, [n, height, width, channels], 'float32');
        const labelTensor = tf.tensor1d(labels, 'int32');
        return {
          done: false,
          value: {
            images,
            labels: labelTensor,
            indices,
            dispose() {
              images.dispose();
              labelTensor.dispose();
            },
          },
        };
      },
      async return(): Promise<IteratorResult<Batch>> {
        finished = true;
        pending.length = 0;
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  return {
    batchSize,
    samplesPerEpoch,
    batchesPerEpoch,
    batches,
    epochOrder,
    [Symbol.asyncIterator]: () => batches({ epoch: defaultEpoch }),
  };
}
