/**
 * The in-memory dataset every reader returns and every transform, subset and loader takes: uint8 images in
 * NHWC order, int32 labels, and the index of each sample in the original file (CRD's memory bank and the
 * few-shot protocol need it after subsetting).
 */
import { assertKnownOptions } from '@kd/internal';
import { assertNumber } from './validate';

/** Label of a sample without one (STL-10's unlabeled split, Tiny ImageNet's test split). */
export const UNLABELED = -1;

export interface Dataset {
  /** Pixels, uint8, `[N, height, width, channels]` row-major (NHWC). */
  readonly images: Uint8Array;
  /** Class of each sample in `[0, numClasses)`, or {@link UNLABELED} (−1). */
  readonly labels: Int32Array;
  /** Index of each sample in the original split (file order), kept through subsets. */
  readonly indices: Int32Array;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly numClasses: number;
  /** `numClasses` human-readable names, in label order. */
  readonly classNames: readonly string[];
}

export interface CreateDatasetOptions {
  images: Uint8Array;
  labels: Int32Array;
  /** Defaults to 0, 1, …, N − 1. */
  indices?: Int32Array;
  height: number;
  width: number;
  channels: number;
  classNames: readonly string[];
}

/** Number of samples in a dataset. */
export function datasetLength(dataset: Dataset): number {
  return dataset.labels.length;
}

/**
 * Checks that `dataset` is a consistent {@link Dataset}: images hold N·H·W·C bytes, N labels and indices,
 * every label in [0, numClasses) or −1, one class name per class. Throws naming `fn` and `arg`.
 */
export function assertDataset(fn: string, arg: string, dataset: unknown): Dataset {
  if (dataset === null || typeof dataset !== 'object')
    throw new Error(`${fn}: ${arg} must be a Dataset object, got ${String(dataset)}`);
  const d = dataset as Partial<Dataset>;
  if (!(d.images instanceof Uint8Array)) throw new Error(`${fn}: ${arg}.images must be a Uint8Array (NHWC uint8)`);
  if (!(d.labels instanceof Int32Array)) throw new Error(`${fn}: ${arg}.labels must be an Int32Array`);
  if (!(d.indices instanceof Int32Array)) {
    const got = typeof d.indices;
    throw new Error(`${fn}: ${arg}.indices must be an Int32Array (createDataset fills in 0…N−1), got ${got}`);
  }
  const height = assertNumber(fn, `${arg}.height`, d.height, { integer: true, positive: true });
  const width = assertNumber(fn, `${arg}.width`, d.width, { integer: true, positive: true });
  const channels = assertNumber(fn, `${arg}.channels`, d.channels, { integer: true, positive: true });
  const numClasses = assertNumber(fn, `${arg}.numClasses`, d.numClasses, { integer: true, positive: true });
  if (!Array.isArray(d.classNames) || d.classNames.length !== numClasses) {
    throw new Error(
      `${fn}: ${arg}.classNames must list ${numClasses} names, got ${Array.isArray(d.classNames) ? d.classNames.length : typeof d.classNames}`,
    );
  }
  const count = d.labels.length;
  if (d.images.length !== count * height * width * channels) {
    throw new Error(
      `${fn}: ${arg}.images has ${d.images.length} bytes, expected N·H·W·C = ${count}·${height}·${width}·${channels} = ${count * height * width * channels}`,
    );
  }
  if (d.indices.length !== count)
    throw new Error(`${fn}: ${arg}.indices has ${d.indices.length} entries, expected ${count} (one per label)`);
  for (let i = 0; i < count; i++) {
    const label = d.labels[i] as number;
    if (!(label >= 0 && label < numClasses) && label !== UNLABELED) {
      throw new Error(`${fn}: ${arg}.labels[${i}] = ${label} is out of range [0, ${numClasses})`);
    }
  }
  return d as Dataset;
}

/**
 * Builds a validated {@link Dataset}. `numClasses` is `classNames.length`.
 *
 * @example
 * const tiny = createDataset({ images: new Uint8Array(2 * 4 * 4 * 3), labels: Int32Array.of(0, 1),
 *   height: 4, width: 4, channels: 3, classNames: ['cat', 'dog'] });
 */
export function createDataset(options: CreateDatasetOptions): Dataset {
  assertKnownOptions('createDataset', options, [
    'images',
    'labels',
    'indices',
    'height',
    'width',
    'channels',
    'classNames',
  ]);
  const labels = options.labels;
  const indices =
    options.indices ?? Int32Array.from({ length: labels instanceof Int32Array ? labels.length : 0 }, (_, i) => i);
  const dataset = {
    images: options.images,
    labels,
    indices,
    height: options.height,
    width: options.width,
    channels: options.channels,
    numClasses: Array.isArray(options.classNames) ? options.classNames.length : 0,
    classNames: options.classNames,
  };
  return assertDataset('createDataset', 'options', dataset);
}

/**
 * A new dataset holding the samples at `positions` (rows of `dataset`, in that order), images copied, original
 * `indices` kept.
 */
export function selectSamples(options: { dataset: Dataset; positions: ArrayLike<number> }): Dataset {
  assertKnownOptions('selectSamples', options, ['dataset', 'positions']);
  const { dataset, positions } = options;
  const imageSize = dataset.height * dataset.width * dataset.channels;
  const count = positions.length;
  const images = new Uint8Array(count * imageSize);
  const labels = new Int32Array(count);
  const indices = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const row = positions[i] as number;
    if (!(Number.isInteger(row) && row >= 0 && row < dataset.labels.length)) {
      throw new Error(`selectSamples: positions[${i}] = ${row} is out of range [0, ${dataset.labels.length})`);
    }
    images.set(dataset.images.subarray(row * imageSize, (row + 1) * imageSize), i * imageSize);
    labels[i] = dataset.labels[row] as number;
    indices[i] = dataset.indices[row] as number;
  }
  return { ...dataset, images, labels, indices };
}

/** Count of samples per class (length numClasses; unlabeled samples are not counted). */
export function labelHistogram(dataset: Dataset): Int32Array {
  const counts = new Int32Array(dataset.numClasses);
  for (const label of dataset.labels) if (label >= 0) counts[label] = (counts[label] as number) + 1;
  return counts;
}
