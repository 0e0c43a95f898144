/**
 * Loads the data sets the commands use from `--data-dir`, in @kd/data's layout, and turns a missing directory
 * into a message that says where to put the files or how to let the command download them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  CIFAR100_NORMALIZATION,
  CIFAR10_NORMALIZATION,
  resize,
  selectSamples,
  type Dataset,
  type Normalization,
} from '@kd/data';
import { loadCifar10, loadCifar100, loadStl10, loadTinyImagenet } from '@kd/data/node';
import type { SourceDataset, TransferDataset } from './presets';

type AnyDataset = SourceDataset | TransferDataset;

/** The files each data set needs, relative to the data directory, and where the official archive comes from. */
const LAYOUT: Record<AnyDataset, { folder: string; files: string[]; archive: string }> = {
  cifar100: {
    folder: 'cifar-100-binary',
    files: ['train.bin', 'test.bin', 'fine_label_names.txt'],
    archive: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
  },
  cifar10: {
    folder: 'cifar-10-batches-bin',
    files: [
      'data_batch_1.bin',
      'data_batch_2.bin',
      'data_batch_3.bin',
      'data_batch_4.bin',
      'data_batch_5.bin',
      'test_batch.bin',
      'batches.meta.txt',
    ],
    archive: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
  },
  stl10: {
    folder: 'stl10_binary',
    files: ['train_X.bin', 'train_y.bin', 'test_X.bin', 'test_y.bin', 'class_names.txt'],
    archive: 'http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz',
  },
  'tiny-imagenet': {
    folder: 'tiny-imagenet-200',
    files: ['wnids.txt', 'words.txt', 'train', 'val/val_annotations.txt'],
    archive: 'http://cs231n.stanford.edu/tiny-imagenet-200.zip',
  },
};

/**
 * Throws a how-to-fix message when files are missing and downloading is off. With `download` the @kd/data
 * loaders fetch and verify the archive themselves.
 */
export function checkDataDirectory(dataset: AnyDataset, dataDir: string, download: boolean): void {
  if (download) return;
  const layout = LAYOUT[dataset];
  const missing = layout.files.filter((file) => !existsSync(join(dataDir, layout.folder, file)));
  if (missing.length === 0) return;
  throw new Error(
    [
      `${dataset}: missing ${missing.map((file) => join(dataDir, layout.folder, file)).join(', ')}.`,
      `Either pass --download to fetch and verify ${layout.archive} into ${dataDir},`,
      `or unpack that archive yourself so that ${join(dataDir, layout.folder, layout.files[0]!)} exists`,
      `(the data directory is --data-dir, else $KD_DATA_DIR, else ~/.cache/kd/datasets).`,
    ].join('\n'),
  );
}

/** The first `limit` samples (all when `limit` is undefined or not smaller). */
export function firstSamples(dataset: Dataset, limit: number | undefined): Dataset {
  if (limit === undefined || limit >= dataset.labels.length) return dataset;
  return selectSamples({ dataset, positions: Int32Array.from({ length: limit }, (_, i) => i) });
}

export interface LoadedSplits {
  train: Dataset;
  test: Dataset;
  normalization: Normalization;
}

/** The test split of CIFAR-100 or CIFAR-10 only (Eigen-CAM pictures), limited to the first N samples. */
export async function loadSourceTestSet({
  dataset,
  dataDir,
  download,
  limitTest,
}: {
  dataset: SourceDataset;
  dataDir: string;
  download: boolean;
  limitTest?: number;
}): Promise<{ test: Dataset; normalization: Normalization }> {
  checkDataDirectory(dataset, dataDir, download);
  const test = await (dataset === 'cifar100' ? loadCifar100 : loadCifar10)({ split: 'test', dataDir, download });
  return {
    test: firstSamples(test, limitTest),
    normalization: dataset === 'cifar100' ? CIFAR100_NORMALIZATION : CIFAR10_NORMALIZATION,
  };
}

/** CIFAR-100 or CIFAR-10, train and test, limited to the first N samples when asked. */
export async function loadSourceDataset({
  dataset,
  dataDir,
  download,
  limitTrain,
  limitTest,
}: {
  dataset: SourceDataset;
  dataDir: string;
  download: boolean;
  limitTrain?: number;
  limitTest?: number;
}): Promise<LoadedSplits> {
  checkDataDirectory(dataset, dataDir, download);
  const load = dataset === 'cifar100' ? loadCifar100 : loadCifar10;
  const train = await load({ split: 'train', dataDir, download });
  const test = await load({ split: 'test', dataDir, download });
  return {
    train: firstSamples(train, limitTrain),
    test: firstSamples(test, limitTest),
    normalization: dataset === 'cifar100' ? CIFAR100_NORMALIZATION : CIFAR10_NORMALIZATION,
  };
}

/**
 * The transfer target resized to 32×32 (ICD's protocol): STL-10 train/test (96×96) or Tiny ImageNet train/val
 * (64×64). The limits apply before resizing, so smoke runs stay fast.
 */
export async function loadTransferDataset({
  dataset,
  dataDir,
  download,
  limitTrain,
  limitTest,
}: {
  dataset: TransferDataset;
  dataDir: string;
  download: boolean;
  limitTrain?: number;
  limitTest?: number;
}): Promise<{ train: Dataset; test: Dataset }> {
  checkDataDirectory(dataset, dataDir, download);
  const [train, test] =
    dataset === 'stl10'
      ? [await loadStl10({ split: 'train', dataDir, download }), await loadStl10({ split: 'test', dataDir, download })]
      : [
          await loadTinyImagenet({ split: 'train', dataDir, download }),
          await loadTinyImagenet({ split: 'val', dataDir, download }),
        ];
  const to32 = (split: Dataset) =>
    split.height === 32 && split.width === 32 ? split : resize({ dataset: split, height: 32, width: 32 });
  return { train: to32(firstSamples(train, limitTrain)), test: to32(firstSamples(test, limitTest)) };
}
