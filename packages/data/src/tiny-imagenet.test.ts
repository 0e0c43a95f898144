import jpeg from 'jpeg-js';
import { expect, it } from 'vitest';
import { describeWithBackends, expectThrowsWith } from '@kd/test-utils';
import type { FileBytes } from './file-bytes';
import { decodeTinyImagenet } from './tiny-imagenet';
import { flatJpeg } from './__fixtures__/images';

const text = (content: string, name: string): FileBytes => ({ bytes: new TextEncoder().encode(content), name });

const wnids = text('n01443537\nn01629819\n', 'wnids.txt');
const words = text(
  'n01443537\tgoldfish, Carassius auratus\nn01629819\tEuropean fire salamander\nn09999999\tother\n',
  'words.txt',
);
const valAnnotations = text(
  'val_0.JPEG\tn01629819\t0\t0\t63\t63\nval_1.JPEG\tn01443537\t1\t1\t60\t60\n',
  'val_annotations.txt',
);

describeWithBackends('Tiny ImageNet', () => {
  it('labels train images by folder in wnids order, then image number, and decodes pixels', () => {
    const images = [
      flatJpeg([200, 10, 10], 'train/n01629819/images/n01629819_1.JPEG'),
      flatJpeg([10, 200, 10], 'train/n01443537/images/n01443537_10.JPEG'),
      flatJpeg([10, 10, 200], 'train/n01443537/images/n01443537_2.JPEG'),
    ];
    const dataset = decodeTinyImagenet({ split: 'train', wnids, words, images });
    expect([...dataset.labels]).toEqual([0, 0, 1]);
    expect(dataset.classNames).toEqual(['goldfish, Carassius auratus', 'European fire salamander']);
    expect([dataset.height, dataset.width, dataset.channels]).toEqual([64, 64, 3]);
    const pixel = (row: number) => [...dataset.images.subarray(row * 12288 + 3 * 100, row * 12288 + 3 * 100 + 3)];
    // Exactly what jpeg-js decodes from the same bytes, and within JPEG rounding of the colour written.
    const reference = jpeg.decode(images[2]!.bytes, { useTArray: true });
    expect(pixel(0)).toEqual([...reference.data.subarray(400, 403)]);
    for (const [row, colour] of [
      [0, [10, 10, 200]],
      [1, [10, 200, 10]],
      [2, [200, 10, 10]],
    ] as const) {
      pixel(row).forEach((v, c) => expect(Math.abs(v - colour[c]!)).toBeLessThanOrEqual(3));
    }
  });

  it('labels val images from val_annotations.txt; test images are unlabeled', () => {
    const val = decodeTinyImagenet({
      split: 'val',
      wnids,
      valAnnotations,
      images: [flatJpeg([1, 2, 3], 'val/images/val_1.JPEG'), flatJpeg([1, 2, 3], 'val/images/val_0.JPEG')],
    });
    expect([...val.labels]).toEqual([0, 1]);
    expect(val.classNames).toEqual(['n01443537', 'n01629819']);
    const test = decodeTinyImagenet({ split: 'test', wnids, images: [flatJpeg([1, 2, 3], 'test/images/test_0.JPEG')] });
    expect([...test.labels]).toEqual([-1]);
  });

  it('rejects bad inputs, naming the file', () => {
    const good = flatJpeg([1, 2, 3], 'train/n01443537/images/n01443537_0.JPEG');
    expectThrowsWith(
      () => decodeTinyImagenet({ split: 'train', wnids, images: [{ ...good, bytes: good.bytes.subarray(0, 200) }] }),
      'n01443537_0.JPEG',
      'JPEG',
    );
    expectThrowsWith(
      () =>
        decodeTinyImagenet({ split: 'train', wnids, images: [{ bytes: Uint8Array.of(1, 2, 3, 4), name: good.name }] }),
      'n01443537_0.JPEG',
      'corrupt',
    );
    expectThrowsWith(
      () => decodeTinyImagenet({ split: 'train', wnids, images: [flatJpeg([1, 2, 3], good.name, 32)] }),
      'n01443537_0.JPEG',
      '32×32',
      '64×64',
    );
    expectThrowsWith(
      () =>
        decodeTinyImagenet({ split: 'train', wnids, images: [{ ...good, name: 'train/n00000000/images/a_0.JPEG' }] }),
      'n00000000',
      'wnids.txt',
    );
    expectThrowsWith(() => decodeTinyImagenet({ split: 'val', wnids, images: [] }), 'valAnnotations', 'required');
    expectThrowsWith(
      () =>
        decodeTinyImagenet({
          split: 'val',
          wnids,
          valAnnotations,
          images: [flatJpeg([1, 2, 3], 'val/images/val_7.JPEG')],
        }),
      'val_7.JPEG',
      'no entry',
      'val_annotations.txt',
    );
    expectThrowsWith(
      () => decodeTinyImagenet({ split: 'train', wnids: text('a\na\n', 'wnids.txt'), images: [] }),
      'wnids.txt',
      'twice',
    );
    expectThrowsWith(
      () => decodeTinyImagenet({ split: 'dev' as never, wnids, images: [] }),
      'decodeTinyImagenet',
      'split',
    );
  });
});
