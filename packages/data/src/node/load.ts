/**
 * One call per data set: find the files in the data directory, download and extract them when missing (verified,
 * resumable, atomic), decode and validate them.
 */
import { assertKnownOptions } from '@kd/internal';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { decodeCifar10, decodeCifar100 } from '../cifar';
import type { Dataset } from '../dataset';
import { assertDataset } from '../dataset';
import type { FileBytes } from '../file-bytes';
import { FASHION_MNIST_CLASS_NAMES, MNIST_CLASS_NAMES, decodeIdxDataset } from '../idx';
import { decodeStl10 } from '../stl10';
import { decodeTinyImagenet, parseWnids, parseWords } from '../tiny-imagenet';
import { assertBoolean, assertOneOf } from '../validate';
import { writeFileAtomicSync } from '@kd/internal/node';
import { defaultDataDir } from './cache-dir';
import { downloadFile } from './download';
import { extractArchive } from './extract';
import type { DownloadProgressReporter } from './progress';
import type { ArchiveSource, DatasetSource, FilesSource } from './sources';
import {
  CIFAR100_SOURCE,
  CIFAR10_SOURCE,
  FASHION_MNIST_SOURCE,
  MNIST_SOURCE,
  STL10_SOURCE,
  TINY_IMAGENET_SOURCE,
} from './sources';

export interface LoadOptions<Split extends string> {
  split: Split;
  /** Data directory; default `KD_DATA_DIR`, `$XDG_CACHE_HOME/kd/datasets` or `~/.cache/kd/datasets`. */
  dataDir?: string;
  /** Download (and extract) missing files. Default true. */
  download?: boolean;
  /** Download progress; default a bar on stderr. */
  reporter?: DownloadProgressReporter;
  /** Where to download from (a mirror, or a test server); default the official source. */
  source?: DatasetSource;
}

function readFileBytes(path: string): FileBytes {
  return { bytes: new Uint8Array(readFileSync(path)), name: path };
}

/** Ensures `folder/` holds `required` files, downloading and extracting when allowed. Returns the folder path. */
export async function ensureDataset({
  fn,
  source,
  dataDir,
  download,
  reporter,
  required,
}: {
  fn: string;
  source: DatasetSource;
  dataDir: string;
  download: boolean;
  reporter?: DownloadProgressReporter;
  required: readonly string[];
}): Promise<string> {
  const folder = join(dataDir, source.folder);
  const missing = () => required.filter((name) => !existsSync(join(folder, name)));
  if (missing().length === 0) return folder;
  if (!download) {
    throw new Error(
      `${fn}: ${missing()
        .map((name) => join(folder, name))
        .join(', ')} not found; pass download: true or put the files there`,
    );
  }
  if (source.kind === 'archive') {
    const archivePath = join(dataDir, source.archive.fileName);
    await downloadFile({ url: source.archive.url, destination: archivePath, md5: source.archive.md5, reporter });
    try {
      await extractArchive({
        archive: archivePath,
        directory: dataDir,
        folder: source.folder,
        maxBytes: source.maxExtractedBytes,
      });
    } catch (error) {
      throw new Error(`${fn}: ${(error as Error).message}; delete ${archivePath} to download it again`);
    }
  } else {
    for (const file of source.files) {
      await downloadFile({ url: file.url, destination: join(folder, file.fileName), md5: file.md5, reporter });
    }
  }
  const stillMissing = missing();
  if (stillMissing.length > 0)
    throw new Error(`${fn}: the download of ${source.folder} lacks ${stillMissing.join(', ')}`);
  return folder;
}

function common<Split extends string>(
  fn: string,
  options: LoadOptions<Split>,
  splits: readonly Split[],
  defaultSource: DatasetSource,
  extraKeys: readonly string[] = [],
) {
  assertKnownOptions(fn, options, ['split', 'dataDir', 'download', 'reporter', 'source', ...extraKeys]);
  if (options === undefined) throw new Error(`${fn}: options.split is required (${splits.join(', ')})`);
  const split = assertOneOf(fn, 'options.split', options.split, splits);
  const download = assertBoolean(fn, 'options.download', options.download ?? true);
  const source = options.source ?? defaultSource;
  if (source.kind !== defaultSource.kind || source.folder !== defaultSource.folder) {
    throw new Error(
      `${fn}: options.source must describe the same ${defaultSource.kind} unpacking to '${defaultSource.folder}/'`,
    );
  }
  return { split, download, source, dataDir: options.dataDir ?? defaultDataDir(), reporter: options.reporter };
}

/**
 * CIFAR-10 (binary version): train = `data_batch_1..5.bin` (50,000), test = `test_batch.bin` (10,000).
 *
 * @example
 * const train = await loadCifar10({ split: 'train' });
 */
export async function loadCifar10(options: LoadOptions<'train' | 'test'>): Promise<Dataset> {
  const fn = 'loadCifar10';
  const { split, download, source, dataDir, reporter } = common(fn, options, ['train', 'test'], CIFAR10_SOURCE);
  const batches = split === 'train' ? [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`) : ['test_batch.bin'];
  const folder = await ensureDataset({
    fn,
    source,
    dataDir,
    download,
    reporter,
    required: [...batches, 'batches.meta.txt'],
  });
  return decodeCifar10({
    batches: batches.map((name) => readFileBytes(join(folder, name))),
    meta: readFileBytes(join(folder, 'batches.meta.txt')),
  });
}

/**
 * CIFAR-100 (binary version): `train.bin` (50,000) or `test.bin` (10,000), fine labels by default.
 *
 * @example
 * const test = await loadCifar100({ split: 'test' });
 */
export async function loadCifar100(
  options: LoadOptions<'train' | 'test'> & { labels?: 'fine' | 'coarse' },
): Promise<Dataset> {
  const fn = 'loadCifar100';
  const { split, download, source, dataDir, reporter } = common(fn, options, ['train', 'test'], CIFAR100_SOURCE, [
    'labels',
  ]);
  const labels = assertOneOf(fn, 'options.labels', options.labels ?? 'fine', ['fine', 'coarse'] as const);
  const namesFile = `${labels}_label_names.txt`;
  const folder = await ensureDataset({
    fn,
    source,
    dataDir,
    download,
    reporter,
    required: [`${split}.bin`, namesFile],
  });
  return decodeCifar100({
    file: readFileBytes(join(folder, `${split}.bin`)),
    labels,
    classNamesFile: readFileBytes(join(folder, namesFile)),
  });
}

/**
 * STL-10 (binary version): train (5,000), test (8,000) or unlabeled (100,000, labels −1), 96×96×3.
 *
 * @example
 * const train32 = resize({ dataset: await loadStl10({ split: 'train' }), height: 32, width: 32 });
 */
export async function loadStl10(options: LoadOptions<'train' | 'test' | 'unlabeled'>): Promise<Dataset> {
  const fn = 'loadStl10';
  const { split, download, source, dataDir, reporter } = common(
    fn,
    options,
    ['train', 'test', 'unlabeled'],
    STL10_SOURCE,
  );
  const required = split === 'unlabeled' ? ['unlabeled_X.bin'] : [`${split}_X.bin`, `${split}_y.bin`];
  const folder = await ensureDataset({
    fn,
    source,
    dataDir,
    download,
    reporter,
    required: [...required, 'class_names.txt'],
  });
  return decodeStl10({
    images: readFileBytes(join(folder, required[0]!)),
    labels: split === 'unlabeled' ? undefined : readFileBytes(join(folder, required[1]!)),
    classNamesFile: readFileBytes(join(folder, 'class_names.txt')),
  });
}

function idxFile(folder: string, stem: string): FileBytes {
  const gz = join(folder, `${stem}.gz`);
  const raw = join(folder, stem);
  if (existsSync(gz)) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(gunzipSync(readFileSync(gz)));
    } catch (error) {
      throw new Error(`${gz}: corrupt or truncated gzip data (${(error as Error).message})`);
    }
    return { bytes, name: gz };
  }
  return readFileBytes(raw);
}

async function loadIdx(
  fn: string,
  options: LoadOptions<'train' | 'test'>,
  defaultSource: FilesSource,
  classNames: readonly string[],
): Promise<Dataset> {
  const { split, download, source, dataDir, reporter } = common(fn, options, ['train', 'test'], defaultSource);
  const prefix = split === 'train' ? 'train' : 't10k';
  const stems = [`${prefix}-images-idx3-ubyte`, `${prefix}-labels-idx1-ubyte`];
  const folder = join(dataDir, source.folder);
  // Uncompressed copies are accepted as they are; otherwise the .gz files are fetched.
  const present = stems.every((stem) => existsSync(join(folder, stem)) || existsSync(join(folder, `${stem}.gz`)));
  if (!present) {
    const wanted = (source as FilesSource).files.filter((file) => stems.some((stem) => file.fileName.startsWith(stem)));
    await ensureDataset({
      fn,
      source: { ...(source as FilesSource), files: wanted },
      dataDir,
      download,
      reporter,
      required: stems.map((stem) => `${stem}.gz`),
    });
  }
  // The IDX reader would gunzip too; node:zlib is several times faster than the pure-JS path on 47 MB.
  return decodeIdxDataset({ images: idxFile(folder, stems[0]!), labels: idxFile(folder, stems[1]!), classNames });
}

/**
 * Fashion-MNIST: train (60,000) or test (10,000) 28×28 greyscale. Pad to 32×32 for the CIFAR zoo with `padTo`.
 *
 * @example
 * const train = await loadFashionMnist({ split: 'train', dataDir: '/usr/share/datasets' });
 */
export function loadFashionMnist(options: LoadOptions<'train' | 'test'>): Promise<Dataset> {
  return loadIdx('loadFashionMnist', options, FASHION_MNIST_SOURCE, FASHION_MNIST_CLASS_NAMES);
}

/**
 * MNIST: train (60,000) or test (10,000) 28×28 greyscale.
 *
 * @example
 * const test = await loadMnist({ split: 'test' });
 */
export function loadMnist(options: LoadOptions<'train' | 'test'>): Promise<Dataset> {
  return loadIdx('loadMnist', options, MNIST_SOURCE, MNIST_CLASS_NAMES);
}

function listJpegs(directory: string, prefix: string): FileBytes[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .filter((name) => /\.jpe?g$/i.test(name))
    .map((name) => ({ bytes: new Uint8Array(readFileSync(join(directory, name))), name: `${prefix}/${name}` }));
}

/**
 * Tiny ImageNet 200: train (100,000), val (10,000) or test (10,000, unlabeled) 64×64×3, decoded in pure JS.
 * Decoding the train split takes minutes, so the decoded pixels are cached in `tiny-imagenet-200/.kd-cache/`
 * (written atomically; `cache: false` to skip). Resize to 32×32 with `resize` for the CIFAR transfer protocol.
 *
 * @example
 * const val = await loadTinyImagenet({ split: 'val' });
 */
export async function loadTinyImagenet(
  options: LoadOptions<'train' | 'val' | 'test'> & { cache?: boolean },
): Promise<Dataset> {
  const fn = 'loadTinyImagenet';
  const { split, download, source, dataDir, reporter } = common(
    fn,
    options,
    ['train', 'val', 'test'],
    TINY_IMAGENET_SOURCE,
    ['cache'],
  );
  const cache = assertBoolean(fn, 'options.cache', options.cache ?? true);
  const required = ['wnids.txt', 'words.txt', split === 'val' ? 'val/val_annotations.txt' : `${split}`];
  const folder = await ensureDataset({ fn, source: source as ArchiveSource, dataDir, download, reporter, required });
  const wnids = readFileBytes(join(folder, 'wnids.txt'));
  const words = readFileBytes(join(folder, 'words.txt'));
  const cachePath = join(folder, '.kd-cache', `${split}.bin`);
  if (cache && existsSync(cachePath)) {
    const wordMap = parseWords({ file: words });
    const classNames = parseWnids({ file: wnids }).map((wnid) => wordMap.get(wnid) ?? wnid);
    return readDecodedCache({ fn, path: cachePath, classNames });
  }
  let images: FileBytes[];
  if (split === 'train') {
    images = readdirSync(join(folder, 'train')).flatMap((wnid) =>
      listJpegs(join(folder, 'train', wnid, 'images'), `train/${wnid}/images`),
    );
  } else {
    images = listJpegs(join(folder, split, 'images'), `${split}/images`);
  }
  if (images.length === 0) throw new Error(`${fn}: no JPEG files under ${join(folder, split)}`);
  let dataset: Dataset;
  try {
    dataset = decodeTinyImagenet({
      split,
      wnids,
      words,
      valAnnotations: split === 'val' ? readFileBytes(join(folder, 'val', 'val_annotations.txt')) : undefined,
      images,
    });
  } catch (error) {
    throw new Error(`${(error as Error).message} (in ${basename(folder)})`);
  }
  if (cache) writeDecodedCache({ path: cachePath, dataset });
  return dataset;
}

// Decoded-split cache: decoding 100,000 JPEGs in pure JS takes minutes, reading 1.2 GB of pixels a second.
// Layout: 'KDDS', then uint32 LE version, count, height, width, channels, numClasses, 0; int32 LE labels; pixels.
const CACHE_MAGIC = 0x5344444b; // 'KDDS' little endian
const CACHE_HEADER_BYTES = 32;

function writeDecodedCache({ path, dataset }: { path: string; dataset: Dataset }): void {
  mkdirSync(dirname(path), { recursive: true });
  const header = new Uint8Array(CACHE_HEADER_BYTES);
  const view = new DataView(header.buffer);
  [
    CACHE_MAGIC,
    1,
    dataset.labels.length,
    dataset.height,
    dataset.width,
    dataset.channels,
    dataset.numClasses,
    0,
  ].forEach((value, i) => view.setUint32(4 * i, value, true));
  const labels = new Uint8Array(dataset.labels.buffer, dataset.labels.byteOffset, dataset.labels.byteLength);
  writeFileAtomicSync(path, [header, labels, dataset.images]);
}

function readDecodedCache({ fn, path, classNames }: { fn: string; path: string; classNames: string[] }): Dataset {
  const bytes = readFileSync(path);
  const corrupt = (what: string) =>
    new Error(`${fn}: decoded cache ${path} is corrupt (${what}); delete it to decode the JPEGs again`);
  if (bytes.length < CACHE_HEADER_BYTES) throw corrupt(`${bytes.length} bytes, no header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, CACHE_HEADER_BYTES);
  const [magic, version, count, height, width, channels, numClasses] = Array.from({ length: 7 }, (_, i) =>
    view.getUint32(4 * i, true),
  ) as number[];
  if (magic !== CACHE_MAGIC || version !== 1) throw corrupt('bad magic or version');
  if (numClasses !== classNames.length) throw corrupt(`${numClasses} classes, wnids.txt lists ${classNames.length}`);
  const expected = CACHE_HEADER_BYTES + count! * 4 + count! * height! * width! * channels!;
  if (bytes.length !== expected) throw corrupt(`${bytes.length} bytes, expected ${expected}`);
  const labels = new Int32Array(count!);
  new Uint8Array(labels.buffer).set(bytes.subarray(CACHE_HEADER_BYTES, CACHE_HEADER_BYTES + count! * 4));
  const images = new Uint8Array(
    bytes.buffer,
    bytes.byteOffset + CACHE_HEADER_BYTES + count! * 4,
    count! * height! * width! * channels!,
  );
  return assertDataset(fn, 'the decoded cache', {
    images,
    labels,
    indices: Int32Array.from({ length: count! }, (_, i) => i),
    height: height!,
    width: width!,
    channels: channels!,
    numClasses: numClasses!,
    classNames,
  });
}
