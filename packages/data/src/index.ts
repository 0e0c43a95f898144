export { UNLABELED, assertDataset, createDataset, datasetLength, labelHistogram, selectSamples } from './dataset';
export type { CreateDatasetOptions, Dataset } from './dataset';
export { Random } from './random';
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
export {
  CIFAR_AUGMENTATION,
  augmentBatchInto,
  augmentImages,
  cropWithPadding,
  flipHorizontal,
  planAugmentation,
} from './augment';
export type {
  AugmentBatchIntoOptions,
  AugmentImagesOptions,
  AugmentJob,
  AugmentOptions,
  AugmentSource,
  AugmentationPlan,
} from './augment';
export { resize, resizeImage } from './resize';
export { padTo } from './pad';
export { fewShotSubset, omitClasses } from './subsets';
export type { FewShotMode, FewShotSubsetOptions } from './subsets';
export { isGzip, parseClassNames } from './file-bytes';
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
export type { Batch, BatchProducer, Loader, LoaderOptions } from './loader';
export {
  CIFAR100_RECORD_BYTES,
  CIFAR10_CLASS_NAMES,
  CIFAR10_RECORD_BYTES,
  decodeCifar10,
  decodeCifar100,
  encodeCifar100Batch,
  encodeCifar10Batch,
} from './cifar';
export { STL10_CLASS_NAMES, STL10_IMAGE_BYTES, decodeStl10, encodeStl10Images, encodeStl10Labels } from './stl10';
export {
  TINY_IMAGENET_SIDE,
  decodeTinyImagenet,
  decodeTinyImagenetJpeg,
  parseValAnnotations,
  parseWnids,
  parseWords,
} from './tiny-imagenet';
export type { DecodeTinyImagenetOptions, TinyImagenetSplit } from './tiny-imagenet';
export { TarParser, readTar } from './tar';
export type { TarEntry, TarEntryType, TarHandlers } from './tar';
export { safeRelativePath } from './archive-paths';
