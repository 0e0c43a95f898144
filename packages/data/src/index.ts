export { UNLABELED, assertDataset, createDataset, datasetLength, labelHistogram, selectSamples } from './dataset';
export type { CreateDatasetOptions, Dataset } from './dataset';
export { Random, deriveSeed, shuffledRange } from './random';
export type { RandomState } from './random';
export {
  CIFAR100_NORMALIZATION,
  CIFAR10_NORMALIZATION,
  FASHION_MNIST_NORMALIZATION,
  MNIST_NORMALIZATION,
  computeNormalization,
  normalizeImages,
} from './normalization';
export type { Normalization } from './normalization';
export { CIFAR_AUGMENTATION, augmentBatchInto, augmentImages, cropWithPadding, flipHorizontal, planAugmentation } from './augment';
export type { AugmentImagesOptions, AugmentOptions, AugmentationPlan } from './augment';
export { resize, resizeImage } from './resize';
export { padTo } from './pad';
export { fewShotSubset, omitClasses } from './subsets';
export type { FewShotMode, FewShotSubsetOptions } from './subsets';
export { crc32, isGzip, parseClassNames } from './file-bytes';
export type { FileBytes } from './file-bytes';
export {
  FASHION_MNIST_CLASS_NAMES,
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  MNIST_CLASS_NAMES,
  decodeIdxDataset,
  encodeIdx,
  parseIdx,
} from './idx';
export type { IdxArray } from './idx';
export { createLoader, createMainThreadProducer } from './loader';
export type { AugmentJob, Batch, BatchProducer, Loader, LoaderOptions } from './loader';
