import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'fflate';
import { expect, it } from 'vitest';
import { describeWithBackends, expectThrowsWith } from '@kd/test-utils';
import { FASHION_MNIST_DIR } from './__fixtures__/datasets';
import { labelHistogram } from './dataset';
import { FASHION_MNIST_CLASS_NAMES, decodeIdxDataset, encodeIdx, parseIdx } from './idx';

const pixels = Uint8Array.from({ length: 3 * 4 * 5 }, (_, i) => (i * 37) % 256);
const labels = Uint8Array.of(2, 0, 9);
const imageFile = encodeIdx({ dims: [3, 4, 5], data: pixels });
const labelFile = encodeIdx({ dims: [3], data: labels });

describeWithBackends('IDX files', () => {
  it('writes the documented header: magic 2051 / 2049 and big-endian sizes', () => {
    expect([...imageFile.subarray(0, 16)]).toEqual([0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5]);
    expect([...labelFile.subarray(0, 8)]).toEqual([0, 0, 8, 1, 0, 0, 0, 3]);
  });

  it('round-trips images and labels byte-exactly, gzip or not', () => {
    for (const compress of [false, true]) {
      const wrap = (bytes: Uint8Array) => (compress ? gzipSync(bytes) : bytes);
      const dataset = decodeIdxDataset({
        images: { bytes: wrap(imageFile), name: 'images.idx' },
        labels: { bytes: wrap(labelFile), name: 'labels.idx' },
        classNames: FASHION_MNIST_CLASS_NAMES,
      });
      expect([dataset.height, dataset.width, dataset.channels, dataset.numClasses]).toEqual([4, 5, 1, 10]);
      expect([...dataset.images]).toEqual([...pixels]);
      expect([...dataset.labels]).toEqual([2, 0, 9]);
      expect([...dataset.indices]).toEqual([0, 1, 2]);
    }
  });

  it('rejects every bad input, naming the file', () => {
    const decode = (images: Uint8Array, labelBytes: Uint8Array, classNames = FASHION_MNIST_CLASS_NAMES) =>
      decodeIdxDataset({
        images: { bytes: images, name: 'img.idx' },
        labels: { bytes: labelBytes, name: 'lab.idx' },
        classNames,
      });
    expectThrowsWith(() => decode(labelFile, labelFile), 'img.idx', 'magic number 2049, expected 2051');
    expectThrowsWith(() => decode(imageFile, imageFile), 'lab.idx', 'magic number 2051, expected 2049');
    expectThrowsWith(
      () => decode(imageFile.subarray(0, 30), labelFile),
      'img.idx',
      'truncated',
      'needs 60 data bytes, found 14',
    );
    expectThrowsWith(() => decode(imageFile.subarray(0, 10), labelFile), 'img.idx', 'truncated IDX header');
    expectThrowsWith(() => decode(Uint8Array.of(1, 2), labelFile), 'img.idx', 'truncated');
    expectThrowsWith(() => decode(Uint8Array.of(...imageFile, 7), labelFile), 'img.idx', '1 unexpected bytes');
    expectThrowsWith(
      () => decode(Uint8Array.of(1, 0, 8, 3, ...imageFile.subarray(4)), labelFile),
      'img.idx',
      'not an IDX file',
    );
    expectThrowsWith(
      () => decode(Uint8Array.of(0, 0, 0x0d, 3, ...imageFile.subarray(4)), labelFile),
      'img.idx',
      '0x0d',
      'not supported',
    );
    expectThrowsWith(
      () => decode(imageFile, encodeIdx({ dims: [2], data: Uint8Array.of(1, 2) })),
      'holds 3 images but lab.idx holds 2 labels',
    );
    expectThrowsWith(
      () => decode(imageFile, encodeIdx({ dims: [3], data: Uint8Array.of(1, 10, 2) })),
      'lab.idx',
      'label 10 at record 1',
      '[0, 10)',
    );
    const gz = gzipSync(imageFile);
    expectThrowsWith(() => decode(gz.subarray(0, gz.length - 5), labelFile), 'img.idx', 'gzip');
    const flipped = gz.slice();
    flipped[gz.length - 6]! ^= 0xff; // the CRC-32 in the trailer
    expectThrowsWith(() => decode(flipped, labelFile), 'img.idx', 'CRC-32');
    expectThrowsWith(() => parseIdx({ file: { bytes: [1] as never, name: 'x' } }), 'parseIdx', 'file');
  });
});

const realDataPresent = existsSync(new URL('train-images-idx3-ubyte.gz', FASHION_MNIST_DIR));

describeWithBackends('real Fashion-MNIST files', () => {
  it.skipIf(!realDataPresent)('holds 60,000 / 10,000 28×28 images with 6,000 / 1,000 per class', () => {
    const read = (name: string) => ({ bytes: new Uint8Array(readFileSync(new URL(name, FASHION_MNIST_DIR))), name });
    const train = decodeIdxDataset({
      images: read('train-images-idx3-ubyte.gz'),
      labels: read('train-labels-idx1-ubyte.gz'),
      classNames: FASHION_MNIST_CLASS_NAMES,
    });
    const test = decodeIdxDataset({
      images: read('t10k-images-idx3-ubyte.gz'),
      labels: read('t10k-labels-idx1-ubyte.gz'),
      classNames: FASHION_MNIST_CLASS_NAMES,
    });
    expect([train.labels.length, train.height, train.width, train.channels]).toEqual([60000, 28, 28, 1]);
    expect(test.labels.length).toBe(10000);
    expect([...labelHistogram(train)]).toEqual(new Array(10).fill(6000));
    expect([...labelHistogram(test)]).toEqual(new Array(10).fill(1000));
  });
});
