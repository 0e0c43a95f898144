/**
 * STL-10 binary version (https://cs.stanford.edu/~acoates/stl10/): `train_X.bin`, `test_X.bin`,
 * `unlabeled_X.bin` hold 96×96×3 uint8 images, each stored as three channel planes in column-major order
 * (byte c·9216 + x·96 + y is pixel (y, x) of channel c); `train_y.bin`, `test_y.bin` hold one label byte per
 * image in 1..10. Labels are shifted to 0..9; the unlabeled split gets label −1.
 */
import type { Dataset } from './dataset';
import { UNLABELED } from './dataset';
import type { FileBytes } from './file-bytes';
import { assertFileBytes, parseClassNames } from './file-bytes';
import { assertKnownOptions } from '@kd/internal';

const SIDE = 96;
const PLANE = SIDE * SIDE;
export const STL10_IMAGE_BYTES = 3 * PLANE;

/** STL-10 class names, as listed in `class_names.txt`. */
export const STL10_CLASS_NAMES: readonly string[] = [
  'airplane',
  'bird',
  'car',
  'cat',
  'deer',
  'dog',
  'horse',
  'monkey',
  'ship',
  'truck',
];

/**
 * Decodes an STL-10 image file and, for the labeled splits, its label file into an NHWC {@link Dataset}.
 *
 * @example
 * const train = decodeStl10({ images: { bytes: x, name: 'train_X.bin' }, labels: { bytes: y, name: 'train_y.bin' } });
 */
export function decodeStl10(options: { images: FileBytes; labels?: FileBytes; classNamesFile?: FileBytes }): Dataset {
  assertKnownOptions('decodeStl10', options, ['images', 'labels', 'classNamesFile']);
  const { images, labels, classNamesFile } = options;
  const fn = 'decodeStl10';
  assertFileBytes(fn, 'images', images);
  if (labels !== undefined) assertFileBytes(fn, 'labels', labels);
  const n = images.bytes.length;
  if (n === 0) throw new Error(`${fn}: ${images.name}: empty file`);
  if (n % STL10_IMAGE_BYTES !== 0) {
    throw new Error(
      `${fn}: ${images.name}: ${n} bytes is not a whole number of 96×96×3 images (${STL10_IMAGE_BYTES} bytes each; ${n % STL10_IMAGE_BYTES} extra): truncated or not STL-10`,
    );
  }
  const count = n / STL10_IMAGE_BYTES;
  const classNames = classNamesFile ? parseClassNames({ file: classNamesFile, expected: 10 }) : [...STL10_CLASS_NAMES];
  const labelValues = new Int32Array(count).fill(UNLABELED);
  if (labels) {
    if (labels.bytes.length !== count)
      throw new Error(
        `${fn}: ${labels.name} holds ${labels.bytes.length} labels but ${images.name} holds ${count} images`,
      );
    for (let i = 0; i < count; i++) {
      const label = labels.bytes[i]!;
      if (label < 1 || label > 10)
        throw new Error(`${fn}: ${labels.name}: label ${label} at record ${i} is out of range [1, 10]`);
      labelValues[i] = label - 1;
    }
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < count; i++) {
    const base = i * STL10_IMAGE_BYTES;
    for (let c = 0; c < 3; c++) {
      for (let x = 0; x < SIDE; x++) {
        const column = base + c * PLANE + x * SIDE;
        for (let y = 0; y < SIDE; y++) out[base + (y * SIDE + x) * 3 + c] = images.bytes[column + y]!;
      }
    }
  }
  return {
    images: out,
    labels: labelValues,
    indices: Int32Array.from({ length: count }, (_, i) => i),
    height: SIDE,
    width: SIDE,
    channels: 3,
    numClasses: 10,
    classNames,
  };
}

/** Encodes NHWC 96×96×3 images in STL-10's column-major layout (the inverse of {@link decodeStl10}). */
export function encodeStl10Images({ images }: { images: Uint8Array }): Uint8Array {
  if (!(images instanceof Uint8Array) || images.length % STL10_IMAGE_BYTES !== 0) {
    throw new Error(`encodeStl10Images: images must be a Uint8Array of N·96·96·3 bytes, got ${images?.length}`);
  }
  const out = new Uint8Array(images.length);
  for (let base = 0; base < images.length; base += STL10_IMAGE_BYTES) {
    for (let c = 0; c < 3; c++)
      for (let x = 0; x < SIDE; x++)
        for (let y = 0; y < SIDE; y++) out[base + c * PLANE + x * SIDE + y] = images[base + (y * SIDE + x) * 3 + c]!;
  }
  return out;
}

/** Encodes labels 0..9 as STL-10 label bytes 1..10. */
export function encodeStl10Labels({ labels }: { labels: ArrayLike<number> }): Uint8Array {
  return Uint8Array.from({ length: labels.length }, (_, i) => {
    const label = labels[i]!;
    if (!(Number.isInteger(label) && label >= 0 && label < 10))
      throw new Error(`encodeStl10Labels: labels[${i}] = ${label} is out of range [0, 10)`);
    return label + 1;
  });
}
