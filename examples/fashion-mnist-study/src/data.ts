/**
 * The study's data: the first `trainImages` training and `testImages` test images of Fashion-MNIST (file order),
 * and each student setting's slice of the training pool.
 */
import {
  FASHION_MNIST_NORMALIZATION,
  createLoader,
  fewShotSubset,
  omitClasses,
  resize,
  selectSamples,
  type Dataset,
} from '@kd/data';
import { loadFashionMnist } from '@kd/data/node';
import type { LoaderFactory } from '@kd/trainer';
import type { StudentSetting, StudyConfig } from './config';

export interface StudyData {
  train: Dataset;
  test: Dataset;
}

/**
 * Where the Fashion-MNIST IDX files are (the folder holding `fashion-mnist/`): `KD_DATA_DIR`, else where Debian's
 * `dataset-fashion-mnist` package installs them.
 */
export const DEFAULT_DATA_DIR = process.env.KD_DATA_DIR ?? '/usr/share/datasets';

function head(dataset: Dataset, count: number, what: string): Dataset {
  if (count > dataset.labels.length)
    throw new Error(`loadStudyData: ${what} asks for ${count} images, the split has ${dataset.labels.length}`);
  return selectSamples({ dataset, positions: Int32Array.from({ length: count }, (_, index) => index) });
}

export async function loadStudyData(
  config: StudyConfig,
  dataDir = config.dataDir ?? DEFAULT_DATA_DIR,
): Promise<StudyData> {
  const [train, test] = await Promise.all([
    loadFashionMnist({ split: 'train', dataDir, download: false }),
    loadFashionMnist({ split: 'test', dataDir, download: false }),
  ]);
  const sized = (dataset: Dataset) =>
    dataset.height === config.imageSize && dataset.width === config.imageSize
      ? dataset
      : resize({ dataset, height: config.imageSize, width: config.imageSize });
  return {
    train: sized(head(train, config.trainImages, 'trainImages')),
    test: sized(head(test, config.testImages, 'testImages')),
  };
}

/** The training data of a student setting and the samples per epoch (always the full pool's: same steps). */
export function settingData(pool: Dataset, setting: StudentSetting): { train: Dataset; epochLength: number } {
  const epochLength = pool.labels.length;
  if (setting.kind === 'few-shot') {
    if (setting.fraction === undefined)
      throw new Error(`settingData: few-shot setting '${setting.name}' needs a fraction`);
    return { train: fewShotSubset(pool, { fraction: setting.fraction, mode: 'head' }), epochLength };
  }
  if (setting.kind === 'zero-shot') {
    if (setting.omittedClasses === undefined)
      throw new Error(`settingData: zero-shot setting '${setting.name}' needs omittedClasses`);
    return { train: omitClasses(pool, { classes: setting.omittedClasses }), epochLength };
  }
  return { train: pool, epochLength };
}

/** Inference-mode batches of a dataset, normalised as in training (for CMI passes and Eigen-CAM). */
export const evaluationLoader: LoaderFactory = (dataset, options) =>
  createLoader(dataset, {
    batchSize: options.batchSize,
    shuffle: options.shuffle,
    seed: options.seed,
    dropLast: options.dropLast,
    epoch: options.epoch,
    normalize: FASHION_MNIST_NORMALIZATION,
  });
