/**
 * Real-valued vectors as the trainer's datasets. The trainer and `@kd/data` carry uint8 images; here the inputs
 * are float vectors x ∈ R^d, shaped `[N, 1, 1, d]` for the zoo `mlp`. A {@link VectorDataset} is a `@kd/data`
 * dataset whose `images` are a zero placeholder of the right size, plus the float32 `values`; the
 * {@link vectorLoader} is `@kd/data`'s `createLoader` (its seeded shuffling, few-shot cycling and prefetch) with
 * a batch producer that gathers rows of `values` instead of decoding pixels.
 */
import { createDataset, createLoader, type BatchProducer, type Dataset } from '@kd/data';
import type { LoaderFactory } from '@kd/trainer';
import type { Sample } from './problem';

export interface VectorDataset extends Dataset {
  /** `[N, d]` row-major float32 inputs (what the models see). */
  readonly values: Float32Array;
}

/** The first `count` rows of `sample` (all when omitted) as a dataset of `[1, 1, d]` inputs. */
export function vectorDataset({
  sample,
  dimension,
  numClasses,
  count = sample.count,
}: {
  sample: Sample;
  dimension: number;
  numClasses: number;
  count?: number;
}): VectorDataset {
  if (!Number.isSafeInteger(count) || count < 1 || count > sample.count) {
    throw new Error(`vectorDataset: count must be an integer in [1, ${sample.count}], got ${count}`);
  }
  const dataset = createDataset({
    images: new Uint8Array(count * dimension),
    labels: sample.labels.slice(0, count),
    height: 1,
    width: 1,
    channels: dimension,
    classNames: Array.from({ length: numClasses }, (_, label) => `class ${label}`),
  });
  return { ...dataset, values: Float32Array.from(sample.x.subarray(0, count * dimension)) };
}

function isVectorDataset(dataset: unknown): dataset is VectorDataset {
  return (
    typeof dataset === 'object' && dataset !== null && (dataset as { values?: unknown }).values instanceof Float32Array
  );
}

/** A producer that serves the rows of a batch from `dataset.values`. */
function vectorProducer(dataset: VectorDataset): BatchProducer {
  const d = dataset.channels;
  return {
    run: async ({ rows }) => {
      const out = new Float32Array(rows.length * d);
      rows.forEach((row, position) => out.set(dataset.values.subarray(row * d, (row + 1) * d), position * d));
      return out;
    },
  };
}

/**
 * The trainer's loader for {@link VectorDataset}s. `epochLength` (training passes only, as the default loader)
 * cycles a few-shot subset to the steps of the full pool.
 */
export function vectorLoader({ epochLength }: { epochLength?: number } = {}): LoaderFactory {
  return (dataset, options) => {
    if (!isVectorDataset(dataset))
      throw new Error(
        'vectorLoader: dataset must be a VectorDataset (vectorDataset(...)), got one without float values',
      );
    return createLoader(dataset, {
      batchSize: options.batchSize,
      shuffle: options.shuffle,
      seed: options.seed,
      dropLast: options.dropLast,
      epoch: options.epoch,
      producer: vectorProducer(dataset),
      ...(epochLength !== undefined && options.shuffle ? { epochLength } : {}),
    });
  };
}
