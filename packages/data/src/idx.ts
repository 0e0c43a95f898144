/**
 * IDX files (MNIST, Fashion-MNIST), gzip-compressed or not. Layout: magic (two zero bytes, a type byte, the
 * number of dimensions), one big-endian uint32 size per dimension, then the row-major data. Images have magic
 * 2051 (0x00000803: ubyte, 3 dims [N, 28, 28]), labels 2049 (0x00000801: ubyte, 1 dim [N]).
 */
import type { Dataset } from './dataset';
import type { FileBytes } from './file-bytes';
import { assertFileBytes, gunzipFile, isGzip } from './file-bytes';
import { assertKnownOptions } from '@kd/internal';

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

export const MNIST_CLASS_NAMES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export interface IdxArray {
  magic: number;
  dims: number[];
  data: Uint8Array;
}

/**
 * Parses an unsigned-byte IDX file (gunzipping it first when it starts with 1f 8b). Checks the magic, that the
 * data holds exactly Π dims bytes, and names the file in every error.
 *
 * @example
 * const { dims, data } = parseIdx({ file: { bytes, name: 'train-labels-idx1-ubyte.gz' } });
 */
export function parseIdx(options: { file: FileBytes; expectedMagic?: number }): IdxArray {
  assertKnownOptions('parseIdx', options, ['file', 'expectedMagic']);
  const { file, expectedMagic } = options;
  const fn = 'parseIdx';
  assertFileBytes(fn, 'file', file);
  const bytes = isGzip(file.bytes) ? gunzipFile(fn, file) : file.bytes;
  if (bytes.length < 4) throw new Error(`${fn}: ${file.name}: truncated IDX file (${bytes.length} bytes, no header)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0)
    throw new Error(`${fn}: ${file.name}: not an IDX file (magic ${magic} does not start with two zero bytes)`);
  if (bytes[2] !== 0x08) {
    throw new Error(
      `${fn}: ${file.name}: IDX data type 0x${bytes[2]!.toString(16).padStart(2, '0')} is not supported (only 0x08, unsigned byte)`,
    );
  }
  if (expectedMagic !== undefined && magic !== expectedMagic) {
    throw new Error(`${fn}: ${file.name}: magic number ${magic}, expected ${expectedMagic}`);
  }
  const rank = bytes[3]!;
  if (rank < 1) throw new Error(`${fn}: ${file.name}: IDX header declares 0 dimensions`);
  const headerSize = 4 + 4 * rank;
  if (bytes.length < headerSize)
    throw new Error(`${fn}: ${file.name}: truncated IDX header (${bytes.length} bytes, need ${headerSize})`);
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const size = dims.reduce((a, b) => a * b, 1);
  const available = bytes.length - headerSize;
  if (available < size)
    throw new Error(
      `${fn}: ${file.name}: truncated: [${dims.join(', ')}] needs ${size} data bytes, found ${available}`,
    );
  if (available > size)
    throw new Error(`${fn}: ${file.name}: ${available - size} unexpected bytes after the [${dims.join(', ')}] data`);
  return { magic, dims, data: bytes.subarray(headerSize) };
}

/** Writes an unsigned-byte IDX file (uncompressed) holding `data` with shape `dims`. */
export function encodeIdx(options: { dims: readonly number[]; data: Uint8Array }): Uint8Array {
  assertKnownOptions('encodeIdx', options, ['dims', 'data']);
  const { dims, data } = options;
  const size = dims.reduce((a, b) => a * b, 1);
  if (data.length !== size)
    throw new Error(`encodeIdx: data has ${data.length} bytes, dims [${dims.join(', ')}] need ${size}`);
  if (dims.length < 1 || dims.length > 255)
    throw new Error(`encodeIdx: dims must have 1..255 entries, got ${dims.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + size);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 + dims.length, false);
  dims.forEach((dim, d) => view.setUint32(4 + 4 * d, dim, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/**
 * Builds a {@link Dataset} from an IDX image file (magic 2051, [N, H, W]) and label file (magic 2049, [N]),
 * checking the counts match and every label is below `classNames.length`.
 *
 * @example
 * const train = decodeIdxDataset({ images: { bytes: imageBytes, name: 'train-images-idx3-ubyte.gz' },
 *   labels: { bytes: labelBytes, name: 'train-labels-idx1-ubyte.gz' }, classNames: FASHION_MNIST_CLASS_NAMES });
 */
export function decodeIdxDataset({
  images,
  labels,
  classNames,
}: {
  images: FileBytes;
  labels: FileBytes;
  classNames: readonly string[];
}): Dataset {
  const fn = 'decodeIdxDataset';
  assertFileBytes(fn, 'images', images);
  assertFileBytes(fn, 'labels', labels);
  const imageArray = parseIdx({ file: images, expectedMagic: IDX_IMAGES_MAGIC });
  const labelArray = parseIdx({ file: labels, expectedMagic: IDX_LABELS_MAGIC });
  const [count, height, width] = imageArray.dims as [number, number, number];
  const labelCount = labelArray.dims[0]!;
  if (count !== labelCount) {
    throw new Error(`${fn}: ${images.name} holds ${count} images but ${labels.name} holds ${labelCount} labels`);
  }
  const numClasses = classNames.length;
  const labelValues = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = labelArray.data[i]!;
    if (label >= numClasses)
      throw new Error(`${fn}: ${labels.name}: label ${label} at record ${i} is out of range [0, ${numClasses})`);
    labelValues[i] = label;
  }
  return {
    images: imageArray.data.slice(),
    labels: labelValues,
    indices: Int32Array.from({ length: count }, (_, i) => i),
    height,
    width,
    channels: 1,
    numClasses,
    classNames: [...classNames],
  };
}
