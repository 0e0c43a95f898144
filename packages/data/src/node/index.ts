/**
 * Node-only parts of @kd/data: file system, downloads, archive extraction, the cache directory and worker
 * threads. The main entry (`@kd/data`) stays browser-safe.
 */
export { defaultDataDir } from './cache-dir';
export { downloadFile, md5OfFile } from './download';
export type { DownloadOptions } from './download';
export { extractArchive } from './extract';
export type { ExtractOptions } from './extract';
export {
  createDownloadProgressBar,
  formatBytes,
  formatDuration,
  formatDownloadProgress,
  silentDownloadProgress,
} from './progress';
export type { DownloadProgressEvent, DownloadProgressReporter } from './progress';
export {
  CIFAR100_SOURCE,
  CIFAR10_SOURCE,
  FASHION_MNIST_SOURCE,
  MNIST_SOURCE,
  STL10_SOURCE,
  TINY_IMAGENET_SOURCE,
} from './sources';
export type { ArchiveSource, DatasetSource, FilesSource, RemoteFile } from './sources';
export {
  ensureDataset,
  loadCifar10,
  loadCifar100,
  loadFashionMnist,
  loadMnist,
  loadStl10,
  loadTinyImagenet,
} from './load';
export type { LoadOptions } from './load';
export { createParallelLoader, createWorkerProducer } from './workers';
export type { WorkerProducer } from './workers';
export { writeCifar100Binary, writeCifar10Binary } from './write';
