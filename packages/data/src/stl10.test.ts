import { expect, it } from 'vitest';
import { describeWithBackends, expectThrowsWith } from '@kd/test-utils';
import { randomDataset } from './__fixtures__/datasets';
import { decodeStl10, encodeStl10Images, encodeStl10Labels } from './stl10';

describeWithBackends('STL-10 binary', () => {
  const source = randomDataset({ count: 2, height: 96, width: 96, channels: 3, numClasses: 10, seed: 4 });
  const imageFile = encodeStl10Images({ images: source.images });
  const labelFile = encodeStl10Labels({ labels: [0, 9] });

  it('stores channel planes in column-major order and labels as 1..10', () => {
    // Pixel (y 5, x 7, c 2) of image 1 sits at 27648 + 2·9216 + 7·96 + 5.
    expect(imageFile[27648 + 2 * 9216 + 7 * 96 + 5]).toBe(source.images[27648 + (5 * 96 + 7) * 3 + 2]);
    expect([...labelFile]).toEqual([1, 10]);
  });

  it('round-trips byte-exactly; labels shift to 0..9; the unlabeled split gets −1', () => {
    const train = decodeStl10({
      images: { bytes: imageFile, name: 'train_X.bin' },
      labels: { bytes: labelFile, name: 'train_y.bin' },
    });
    expect([...train.images]).toEqual([...source.images]);
    expect([...train.labels]).toEqual([0, 9]);
    expect(train.classNames[2]).toBe('car');
    const unlabeled = decodeStl10({ images: { bytes: imageFile, name: 'unlabeled_X.bin' } });
    expect([...unlabeled.labels]).toEqual([-1, -1]);
  });

  it('rejects bad files, naming them', () => {
    expectThrowsWith(
      () => decodeStl10({ images: { bytes: imageFile.subarray(1), name: 'test_X.bin' } }),
      'test_X.bin',
      'truncated',
    );
    expectThrowsWith(
      () =>
        decodeStl10({
          images: { bytes: imageFile, name: 'x' },
          labels: { bytes: Uint8Array.of(1), name: 'test_y.bin' },
        }),
      'test_y.bin holds 1 labels but x holds 2 images',
    );
    expectThrowsWith(
      () =>
        decodeStl10({
          images: { bytes: imageFile, name: 'x' },
          labels: { bytes: Uint8Array.of(0, 3), name: 'train_y.bin' },
        }),
      'train_y.bin',
      'label 0 at record 0',
      '[1, 10]',
    );
    expectThrowsWith(
      () =>
        decodeStl10({
          images: { bytes: imageFile, name: 'x' },
          labels: { bytes: Uint8Array.of(3, 11), name: 'train_y.bin' },
        }),
      'train_y.bin',
      'label 11 at record 1',
    );
    expectThrowsWith(() => encodeStl10Labels({ labels: [10] }), 'encodeStl10Labels', 'labels[0]');
  });
});
