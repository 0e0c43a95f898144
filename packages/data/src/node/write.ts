/**
 * Writers of the official on-disk layouts, so examples and tests can generate data sets that
 * `loadCifar10` / `loadCifar100` read exactly like the real downloads (pass the same `dataDir`, `download: false`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CIFAR10_CLASS_NAMES, encodeCifar100Batch, encodeCifar10Batch } from '../cifar';
import { writeFileAtomicSync } from '@kd/internal/node';

export interface Cifar10Split {
  /** NHWC 32×32×3 uint8. */
  images: Uint8Array;
  /** 0–9. */
  labels: ArrayLike<number>;
}

/**
 * Writes `directory/cifar-10-batches-bin/` with `data_batch_1..5.bin` (train split into five consecutive parts),
 * `test_batch.bin` and `batches.meta.txt`. Every file is written atomically. Returns the folder.
 *
 * @example
 * writeCifar10Binary({ directory: tmp, train: { images, labels }, test: { images: testImages, labels: testLabels } });
 * const train = await loadCifar10({ split: 'train', dataDir: tmp, download: false });
 */
export function writeCifar10Binary({
  directory,
  train,
  test,
  classNames = CIFAR10_CLASS_NAMES,
}: {
  directory: string;
  train: Cifar10Split;
  test: Cifar10Split;
  classNames?: readonly string[];
}): string {
  const fn = 'writeCifar10Binary';
  if (train.labels.length < 5)
    throw new Error(`${fn}: train needs at least 5 samples (one per data_batch file), got ${train.labels.length}`);
  if (classNames.length !== 10) throw new Error(`${fn}: classNames must list 10 names, got ${classNames.length}`);
  const folder = join(directory, 'cifar-10-batches-bin');
  mkdirSync(folder, { recursive: true });
  const n = train.labels.length;
  for (let k = 0; k < 5; k++) {
    const from = Math.floor((k * n) / 5);
    const to = Math.floor(((k + 1) * n) / 5);
    const labels = Array.from({ length: to - from }, (_, i) => train.labels[from + i]!);
    writeFileAtomicSync(
      join(folder, `data_batch_${k + 1}.bin`),
      encodeCifar10Batch({ images: train.images.subarray(from * 3072, to * 3072), labels }),
    );
  }
  writeFileAtomicSync(join(folder, 'test_batch.bin'), encodeCifar10Batch({ images: test.images, labels: test.labels }));
  writeFileAtomicSync(join(folder, 'batches.meta.txt'), `${classNames.join('\n')}\n\n`);
  return folder;
}

export interface Cifar100Split {
  images: Uint8Array;
  coarseLabels: ArrayLike<number>;
  fineLabels: ArrayLike<number>;
}

/**
 * Writes `directory/cifar-100-binary/` with `train.bin`, `test.bin`, `fine_label_names.txt` and
 * `coarse_label_names.txt`, atomically. Returns the folder.
 */
export function writeCifar100Binary({
  directory,
  train,
  test,
  fineClassNames,
  coarseClassNames,
}: {
  directory: string;
  train: Cifar100Split;
  test: Cifar100Split;
  fineClassNames?: readonly string[];
  coarseClassNames?: readonly string[];
}): string {
  const fine = fineClassNames ?? Array.from({ length: 100 }, (_, k) => `fine_${k}`);
  const coarse = coarseClassNames ?? Array.from({ length: 20 }, (_, k) => `coarse_${k}`);
  if (fine.length !== 100 || coarse.length !== 20)
    throw new Error('writeCifar100Binary: fineClassNames needs 100 names and coarseClassNames 20');
  const folder = join(directory, 'cifar-100-binary');
  mkdirSync(folder, { recursive: true });
  writeFileAtomicSync(
    join(folder, 'train.bin'),
    encodeCifar100Batch({ images: train.images, coarseLabels: train.coarseLabels, fineLabels: train.fineLabels }),
  );
  writeFileAtomicSync(
    join(folder, 'test.bin'),
    encodeCifar100Batch({ images: test.images, coarseLabels: test.coarseLabels, fineLabels: test.fineLabels }),
  );
  writeFileAtomicSync(join(folder, 'fine_label_names.txt'), `${fine.join('\n')}\n`);
  writeFileAtomicSync(join(folder, 'coarse_label_names.txt'), `${coarse.join('\n')}\n`);
  return folder;
}
