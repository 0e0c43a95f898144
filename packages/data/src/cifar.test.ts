import { expect, it } from 'vitest';
import { describeWithBackends, expectThrowsWith } from '@kd/test-utils';
import { randomDataset } from './__fixtures__/datasets';
import {
  CIFAR10_RECORD_BYTES,
  CIFAR100_RECORD_BYTES,
  decodeCifar10,
  decodeCifar100,
  encodeCifar100Batch,
  encodeCifar10Batch,
} from './cifar';

const names10 = new TextEncoder().encode('airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n');

describeWithBackends('CIFAR-10 binary', () => {
  const a = randomDataset({ count: 3, height: 32, width: 32, channels: 3, numClasses: 10, seed: 1 });
  const b = randomDataset({ count: 2, height: 32, width: 32, channels: 3, numClasses: 10, seed: 2 });
  const batchA = encodeCifar10Batch({ images: a.images, labels: Int32Array.of(3, 9, 0) });
  const batchB = encodeCifar10Batch({ images: b.images, labels: Int32Array.of(1, 2) });

  it('stores label then the R, G, B planes (CHW) per record', () => {
    expect(batchA.length).toBe(3 * 3073);
    expect(batchA[3073]).toBe(9);
    // Pixel (y 1, x 2) of record 1: red at 1 + 32 + 2, green 1024 further, blue 2048 further.
    const p = (1 * 32 + 2) * 3;
    const record = batchA.subarray(3073, 2 * 3073);
    expect([record[1 + 34], record[1 + 1024 + 34], record[1 + 2048 + 34]]).toEqual([
      ...a.images.subarray(3072 + p, 3072 + p + 3),
    ]);
  });

  it('round-trips byte-exactly across batches, with names from batches.meta.txt', () => {
    const dataset = decodeCifar10({
      batches: [
        { bytes: batchA, name: 'data_batch_1.bin' },
        { bytes: batchB, name: 'data_batch_2.bin' },
      ],
      meta: { bytes: names10, name: 'batches.meta.txt' },
    });
    expect([...dataset.images]).toEqual([...a.images, ...b.images]);
    expect([...dataset.labels]).toEqual([3, 9, 0, 1, 2]);
    expect([...dataset.indices]).toEqual([0, 1, 2, 3, 4]);
    expect(dataset.classNames[9]).toBe('truck');
    expect([dataset.height, dataset.width, dataset.channels, dataset.numClasses]).toEqual([32, 32, 3, 10]);
  });

  it('rejects bad files, naming them', () => {
    expectThrowsWith(
      () => decodeCifar10({ batches: [{ bytes: batchA.subarray(0, 5000), name: 'data_batch_3.bin' }] }),
      'data_batch_3.bin',
      '5000 bytes',
      '3073',
      'truncated',
    );
    const badLabel = batchA.slice();
    badLabel[CIFAR10_RECORD_BYTES * 2] = 10;
    expectThrowsWith(
      () => decodeCifar10({ batches: [{ bytes: badLabel, name: 'test_batch.bin' }] }),
      'test_batch.bin',
      'label 10 at record 2',
    );
    expectThrowsWith(() => decodeCifar10({ batches: [{ bytes: new Uint8Array(0), name: 'e.bin' }] }), 'e.bin', 'empty');
    expectThrowsWith(
      () =>
        decodeCifar10({
          batches: [{ bytes: batchA, name: 'x' }],
          meta: { bytes: new TextEncoder().encode('a\nb'), name: 'batches.meta.txt' },
        }),
      'batches.meta.txt',
      'expected 10 class names',
      'found 2',
    );
    expectThrowsWith(() => decodeCifar10({ batches: [] }), 'decodeCifar10', 'batches');
    expectThrowsWith(() => encodeCifar10Batch({ images: a.images, labels: [1, 2] }), 'encodeCifar10Batch', 'images');
    expectThrowsWith(
      () => encodeCifar10Batch({ images: a.images, labels: [1, 2, 10] }),
      'encodeCifar10Batch',
      'labels[2] = 10',
    );
  });
});

describeWithBackends('CIFAR-100 binary', () => {
  const a = randomDataset({ count: 4, height: 32, width: 32, channels: 3, numClasses: 100, seed: 3 });
  const coarse = [19, 0, 4, 7];
  const fine = [99, 3, 42, 0];
  const file = encodeCifar100Batch({ images: a.images, coarseLabels: coarse, fineLabels: fine });

  it('round-trips byte-exactly with fine or coarse labels', () => {
    expect(file.length).toBe(4 * 3074);
    expect([file[0], file[1]]).toEqual([19, 99]);
    const fineSet = decodeCifar100({ file: { bytes: file, name: 'train.bin' } });
    expect([...fineSet.images]).toEqual([...a.images]);
    expect([...fineSet.labels]).toEqual(fine);
    expect(fineSet.numClasses).toBe(100);
    const names = new TextEncoder().encode(Array.from({ length: 20 }, (_, k) => `super${k}`).join('\n'));
    const coarseSet = decodeCifar100({
      file: { bytes: file, name: 'train.bin' },
      labels: 'coarse',
      classNamesFile: { bytes: names, name: 'coarse_label_names.txt' },
    });
    expect([...coarseSet.labels]).toEqual(coarse);
    expect(coarseSet.classNames[19]).toBe('super19');
  });

  it('rejects bad files, naming them', () => {
    expectThrowsWith(
      () => decodeCifar100({ file: { bytes: file.subarray(0, 3073), name: 'test.bin' } }),
      'test.bin',
      '3074',
      'truncated',
    );
    const badFine = file.slice();
    badFine[CIFAR100_RECORD_BYTES + 1] = 100;
    expectThrowsWith(
      () => decodeCifar100({ file: { bytes: badFine, name: 'train.bin' } }),
      'train.bin',
      'fine label 100 at record 1',
    );
    const badCoarse = file.slice();
    badCoarse[0] = 20;
    expectThrowsWith(
      () => decodeCifar100({ file: { bytes: badCoarse, name: 'train.bin' } }),
      'train.bin',
      'coarse label 20 at record 0',
    );
    expectThrowsWith(
      () => decodeCifar100({ file: { bytes: file, name: 'train.bin' }, labels: 'medium' as never }),
      'decodeCifar100',
      'labels',
      "'fine', 'coarse'",
    );
    expectThrowsWith(
      () => encodeCifar100Batch({ images: a.images, coarseLabels: [1, 2, 3, 20], fineLabels: fine }),
      'encodeCifar100Batch',
      'coarseLabels[3]',
    );
  });
});
