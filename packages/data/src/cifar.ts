/**
 * CIFAR-10 and CIFAR-100 binary versions (https://www.cs.toronto.edu/~kriz/cifar.html).
 * CIFAR-10 record (3073 bytes): label byte (0–9), then 3072 pixel bytes: 1024 red, 1024 green, 1024 blue, each
 * a row-major 32×32 plane (CHW). CIFAR-100 record (3074 bytes): coarse label (0–19), fine label (0–99), pixels.
 */
import type { Dataset } from './dataset';
import type { FileBytes } from './file-bytes';
import { assertFileBytes, parseClassNames } from './file-bytes';
import { assertOneOf } from './validate';
import { assertKnownOptions } from '@kd/internal';

const SIDE = 32;
const PLANE = SIDE * SIDE;
const PIXELS = 3 * PLANE;
export const CIFAR10_RECORD_BYTES = 1 + PIXELS;
export const CIFAR100_RECORD_BYTES = 2 + PIXELS;

/** CIFAR-10 class names, as listed in `batches.meta.txt`. */
export const CIFAR10_CLASS_NAMES: readonly string[] = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

/** Copies a CHW 32×32×3 record into NHWC position `row` of `out`: out[(y·32 + x)·3 + c] = record[c·1024 + y·32 + x]. */
function chwToHwc(source: Uint8Array, offset: number, out: Uint8Array, row: number): void {
  const base = row * PIXELS;
  for (let p = 0; p < PLANE; p++) {
    out[base + 3 * p] = source[offset + p]!;
    out[base + 3 * p + 1] = source[offset + PLANE + p]!;
    out[base + 3 * p + 2] = source[offset + 2 * PLANE + p]!;
  }
}

function hwcToChw(images: Uint8Array, row: number, out: Uint8Array, offset: number): void {
  const base = row * PIXELS;
  for (let p = 0; p < PLANE; p++) {
    out[offset + p] = images[base + 3 * p]!;
    out[offset + PLANE + p] = images[base + 3 * p + 1]!;
    out[offset + 2 * PLANE + p] = images[base + 3 * p + 2]!;
  }
}

function recordCount(fn: string, file: FileBytes, recordBytes: number, format: string): number {
  const n = file.bytes.length;
  if (n === 0) throw new Error(`${fn}: ${file.name}: empty file`);
  if (n % recordBytes !== 0) {
    throw new Error(
      `${fn}: ${file.name}: ${n} bytes is not a whole number of ${recordBytes}-byte ${format} records ` +
        `(${Math.floor(n / recordBytes)} records and ${n % recordBytes} extra bytes: truncated or not a ${format} binary file)`,
    );
  }
  return n / recordBytes;
}

/**
 * Decodes CIFAR-10 binary batches (`data_batch_1.bin` … `data_batch_5.bin` for train, `test_batch.bin` for
 * test), concatenated in the given order, into an NHWC {@link Dataset}. Class names come from
 * `batches.meta.txt` when given.
 *
 * @example
 * const test = decodeCifar10({ batches: [{ bytes, name: 'test_batch.bin' }] });
 */
export function decodeCifar10(options: { batches: readonly FileBytes[]; meta?: FileBytes }): Dataset {
  assertKnownOptions('decodeCifar10', options, ['batches', 'meta']);
  const { batches, meta } = options;
  const fn = 'decodeCifar10';
  if (!Array.isArray(batches) || batches.length === 0)
    throw new Error(`${fn}: batches must be a non-empty array of files`);
  batches.forEach((file, i) => assertFileBytes(fn, `batches[${i}]`, file));
  const classNames = meta ? parseClassNames({ file: meta, expected: 10 }) : [...CIFAR10_CLASS_NAMES];
  const counts = batches.map((file) => recordCount(fn, file, CIFAR10_RECORD_BYTES, 'CIFAR-10'));
  const total = counts.reduce((a, b) => a + b, 0);
  const images = new Uint8Array(total * PIXELS);
  const labels = new Int32Array(total);
  let row = 0;
  batches.forEach((file, b) => {
    for (let r = 0; r < counts[b]!; r++, row++) {
      const offset = r * CIFAR10_RECORD_BYTES;
      const label = file.bytes[offset]!;
      if (label > 9) throw new Error(`${fn}: ${file.name}: label ${label} at record ${r} is out of range [0, 10)`);
      labels[row] = label;
      chwToHwc(file.bytes, offset + 1, images, row);
    }
  });
  return {
    images,
    labels,
    indices: Int32Array.from({ length: total }, (_, i) => i),
    height: SIDE,
    width: SIDE,
    channels: 3,
    numClasses: 10,
    classNames,
  };
}

/**
 * Decodes CIFAR-100 binary files (`train.bin`, `test.bin`). `labels` picks the fine (100 classes, default) or
 * coarse (20 superclasses) labels; names come from `fine_label_names.txt` / `coarse_label_names.txt` when given.
 *
 * @example
 * const train = decodeCifar100({ file: { bytes, name: 'train.bin' }, classNamesFile: { bytes: names, name: 'fine_label_names.txt' } });
 */
export function decodeCifar100(options: {
  file: FileBytes;
  labels?: 'fine' | 'coarse';
  classNamesFile?: FileBytes;
}): Dataset {
  assertKnownOptions('decodeCifar100', options, ['file', 'labels', 'classNamesFile']);
  const { file, labels = 'fine', classNamesFile } = options;
  const fn = 'decodeCifar100';
  assertFileBytes(fn, 'file', file);
  const which = assertOneOf(fn, 'labels', labels, ['fine', 'coarse'] as const);
  const numClasses = which === 'fine' ? 100 : 20;
  const classNames = classNamesFile
    ? parseClassNames({ file: classNamesFile, expected: numClasses })
    : Array.from({ length: numClasses }, (_, k) => `${which}_${k}`);
  const count = recordCount(fn, file, CIFAR100_RECORD_BYTES, 'CIFAR-100');
  const images = new Uint8Array(count * PIXELS);
  const labelValues = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    const offset = r * CIFAR100_RECORD_BYTES;
    const coarse = file.bytes[offset]!;
    const fine = file.bytes[offset + 1]!;
    if (coarse > 19)
      throw new Error(`${fn}: ${file.name}: coarse label ${coarse} at record ${r} is out of range [0, 20)`);
    if (fine > 99) throw new Error(`${fn}: ${file.name}: fine label ${fine} at record ${r} is out of range [0, 100)`);
    labelValues[r] = which === 'fine' ? fine : coarse;
    chwToHwc(file.bytes, offset + 2, images, r);
  }
  return {
    images,
    labels: labelValues,
    indices: Int32Array.from({ length: count }, (_, i) => i),
    height: SIDE,
    width: SIDE,
    channels: 3,
    numClasses,
    classNames,
  };
}

function checkImages(fn: string, images: Uint8Array, count: number): void {
  if (!(images instanceof Uint8Array)) throw new Error(`${fn}: images must be a Uint8Array (NHWC, 32×32×3)`);
  if (images.length !== count * PIXELS)
    throw new Error(
      `${fn}: images has ${images.length} bytes, expected ${count}·32·32·3 = ${count * PIXELS} for ${count} labels`,
    );
}

function checkLabels(fn: string, arg: string, labels: ArrayLike<number>, numClasses: number): void {
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!(Number.isInteger(label) && label >= 0 && label < numClasses))
      throw new Error(`${fn}: ${arg}[${i}] = ${label} is out of range [0, ${numClasses})`);
  }
}

/**
 * Encodes NHWC 32×32×3 images and labels (0–9) as a CIFAR-10 binary batch (the inverse of
 * {@link decodeCifar10}); used to generate test data in the exact format.
 */
export function encodeCifar10Batch(options: { images: Uint8Array; labels: ArrayLike<number> }): Uint8Array {
  assertKnownOptions('encodeCifar10Batch', options, ['images', 'labels']);
  const { images, labels } = options;
  const fn = 'encodeCifar10Batch';
  checkImages(fn, images, labels.length);
  checkLabels(fn, 'labels', labels, 10);
  const out = new Uint8Array(labels.length * CIFAR10_RECORD_BYTES);
  for (let r = 0; r < labels.length; r++) {
    out[r * CIFAR10_RECORD_BYTES] = labels[r]!;
    hwcToChw(images, r, out, r * CIFAR10_RECORD_BYTES + 1);
  }
  return out;
}

/** Encodes NHWC 32×32×3 images with coarse (0–19) and fine (0–99) labels as a CIFAR-100 binary file. */
export function encodeCifar100Batch(options: {
  images: Uint8Array;
  coarseLabels: ArrayLike<number>;
  fineLabels: ArrayLike<number>;
}): Uint8Array {
  assertKnownOptions('encodeCifar100Batch', options, ['images', 'coarseLabels', 'fineLabels']);
  const { images, coarseLabels, fineLabels } = options;
  const fn = 'encodeCifar100Batch';
  if (coarseLabels.length !== fineLabels.length)
    throw new Error(`${fn}: coarseLabels has ${coarseLabels.length} entries, fineLabels ${fineLabels.length}`);
  checkImages(fn, images, fineLabels.length);
  checkLabels(fn, 'coarseLabels', coarseLabels, 20);
  checkLabels(fn, 'fineLabels', fineLabels, 100);
  const out = new Uint8Array(fineLabels.length * CIFAR100_RECORD_BYTES);
  for (let r = 0; r < fineLabels.length; r++) {
    out[r * CIFAR100_RECORD_BYTES] = coarseLabels[r]!;
    out[r * CIFAR100_RECORD_BYTES + 1] = fineLabels[r]!;
    hwcToChw(images, r, out, r * CIFAR100_RECORD_BYTES + 2);
  }
  return out;
}
