import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithBackends } from '@kd/test-utils';
import { encodeTar } from '../__fixtures__/archives';
import { randomDataset } from '../__fixtures__/datasets';
import { flatJpeg } from '../__fixtures__/images';
import { md5, startServer } from '../__fixtures__/server';
import type { Route, TestServer } from '../__fixtures__/server';
import { encodeCifar100Batch, encodeCifar10Batch } from '../cifar';
import { encodeIdx } from '../idx';
import { encodeStl10Images, encodeStl10Labels } from '../stl10';
import { defaultDataDir } from './cache-dir';
import { extractArchive } from './extract';
import { loadCifar10, loadCifar100, loadFashionMnist, loadStl10, loadTinyImagenet } from './load';
import { silentDownloadProgress } from './progress';
import { CIFAR100_SOURCE, CIFAR10_SOURCE, FASHION_MNIST_SOURCE, STL10_SOURCE, TINY_IMAGENET_SOURCE } from './sources';
import type { ArchiveSource } from './sources';
import { writeCifar10Binary } from './write';

const text = (s: string) => new TextEncoder().encode(s);
const names10 = text(
  `${['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'].join('\n')}\n`,
);

// CIFAR-10: five train batches of 2 images each, one test batch of 3.
const cifarTrain = randomDataset({ count: 10, height: 32, width: 32, channels: 3, numClasses: 10, seed: 21 });
const cifarTest = randomDataset({ count: 3, height: 32, width: 32, channels: 3, numClasses: 10, seed: 22 });
function cifar10Entries(overrides: Record<string, Uint8Array> = {}) {
  const entries = [{ name: 'cifar-10-batches-bin/', type: 'directory' as const }];
  const files: Record<string, Uint8Array> = {};
  for (let k = 0; k < 5; k++) {
    files[`data_batch_${k + 1}.bin`] = encodeCifar10Batch({
      images: cifarTrain.images.subarray(k * 2 * 3072, (k + 1) * 2 * 3072),
      labels: cifarTrain.labels.subarray(2 * k, 2 * k + 2),
    });
  }
  files['test_batch.bin'] = encodeCifar10Batch({ images: cifarTest.images, labels: cifarTest.labels });
  files['batches.meta.txt'] = names10;
  Object.assign(files, overrides);
  return [
    ...entries,
    ...Object.entries(files).map(([name, bytes]) => ({ name: `cifar-10-batches-bin/${name}`, bytes })),
  ];
}
const cifar10Archive = gzipSync(encodeTar(cifar10Entries()));
const truncatedArchive = cifar10Archive.subarray(0, Math.floor(cifar10Archive.length * 0.6));
const corruptRecordArchive = gzipSync(encodeTar(cifar10Entries({ 'data_batch_3.bin': new Uint8Array(3073 + 100) })));
const escapingArchive = gzipSync(
  encodeTar([
    { name: 'cifar-10-batches-bin/ok.bin', bytes: Uint8Array.of(1) },
    { name: '../escaped.txt', bytes: text('gotcha') },
  ]),
);
const corruptGzip = cifar10Archive.slice();
for (let i = 200; i < 260; i++) corruptGzip[i] = corruptGzip[i]! ^ 0xa5;

const cifar100Train = randomDataset({ count: 4, height: 32, width: 32, channels: 3, numClasses: 100, seed: 23 });
const cifar100Archive = gzipSync(
  encodeTar([
    {
      name: 'cifar-100-binary/train.bin',
      bytes: encodeCifar100Batch({
        images: cifar100Train.images,
        coarseLabels: [1, 2, 3, 19],
        fineLabels: [5, 50, 99, 0],
      }),
    },
    {
      name: 'cifar-100-binary/test.bin',
      bytes: encodeCifar100Batch({
        images: cifar100Train.images.subarray(0, 3072),
        coarseLabels: [4],
        fineLabels: [7],
      }),
    },
    {
      name: 'cifar-100-binary/fine_label_names.txt',
      bytes: text(Array.from({ length: 100 }, (_, k) => `f${k}`).join('\n')),
    },
    {
      name: 'cifar-100-binary/coarse_label_names.txt',
      bytes: text(Array.from({ length: 20 }, (_, k) => `c${k}`).join('\n')),
    },
  ]),
);

const stlTrain = randomDataset({ count: 2, height: 96, width: 96, channels: 3, numClasses: 10, seed: 24 });
const stlArchive = gzipSync(
  encodeTar([
    { name: 'stl10_binary/train_X.bin', bytes: encodeStl10Images({ images: stlTrain.images }) },
    { name: 'stl10_binary/train_y.bin', bytes: encodeStl10Labels({ labels: [3, 8] }) },
    { name: 'stl10_binary/unlabeled_X.bin', bytes: encodeStl10Images({ images: stlTrain.images.subarray(0, 27648) }) },
    {
      name: 'stl10_binary/class_names.txt',
      bytes: text('airplane\nbird\ncar\ncat\ndeer\ndog\nhorse\nmonkey\nship\ntruck\n'),
    },
  ]),
);

const jpeg = (rgb: [number, number, number]) => flatJpeg(rgb, 'x').bytes;
const tinyZip = zipSync(
  {
    'tiny-imagenet-200/wnids.txt': text('n02\nn01\n'),
    'tiny-imagenet-200/words.txt': text('n01\tfirst\nn02\tsecond\n'),
    'tiny-imagenet-200/train/n01/images/n01_0.JPEG': jpeg([250, 0, 0]),
    'tiny-imagenet-200/train/n02/images/n02_0.JPEG': jpeg([0, 250, 0]),
    'tiny-imagenet-200/val/images/val_0.JPEG': jpeg([0, 0, 250]),
    'tiny-imagenet-200/val/val_annotations.txt': text('val_0.JPEG\tn01\t0\t0\t10\t10\n'),
  },
  { level: 0 },
);

const fashionImages = Uint8Array.from({ length: 3 * 784 }, (_, i) => i % 256);
const fashionFiles: Record<string, Uint8Array> = {
  'train-images-idx3-ubyte.gz': gzipSync(encodeIdx({ dims: [3, 28, 28], data: fashionImages })),
  'train-labels-idx1-ubyte.gz': gzipSync(encodeIdx({ dims: [3], data: Uint8Array.of(9, 0, 4) })),
};

const archiveSource = (base: ArchiveSource, url: string, body: Uint8Array): ArchiveSource => ({
  ...base,
  archive: { ...base.archive, url, md5: md5(body) },
});

describeWithBackends('dataset loaders over a local HTTP server', () => {
  let server: TestServer;
  let dir: string;
  const routes: Record<string, Route> = {
    '/cifar10.tar.gz': { body: cifar10Archive, dropFirst: true },
    '/truncated.tar.gz': { body: truncatedArchive },
    '/corrupt-record.tar.gz': { body: corruptRecordArchive },
    '/corrupt-gzip.tar.gz': { body: corruptGzip },
    '/cifar100.tar.gz': { body: cifar100Archive },
    '/stl10.tar.gz': { body: stlArchive },
    '/tiny.zip': { body: tinyZip },
    ...Object.fromEntries(Object.entries(fashionFiles).map(([name, body]) => [`/fashion/${name}`, { body }])),
  };
  beforeAll(async () => {
    server = await startServer(routes);
    dir = mkdtempSync(join(tmpdir(), 'kd-load-'));
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const fresh = (name: string) => join(dir, name);

  it('CIFAR-10: downloads (resuming once), verifies, extracts and decodes byte-exactly; then reads from the cache', async () => {
    const dataDir = fresh('c10');
    const source = archiveSource(CIFAR10_SOURCE, server.url('/cifar10.tar.gz'), cifar10Archive);
    const train = await loadCifar10({ split: 'train', dataDir, source, reporter: silentDownloadProgress });
    expect([...train.images]).toEqual([...cifarTrain.images]);
    expect([...train.labels]).toEqual([...cifarTrain.labels]);
    expect(train.classNames[0]).toBe('airplane');
    const requestsBefore = server.requests.length;
    const test = await loadCifar10({ split: 'test', dataDir, source, reporter: silentDownloadProgress });
    expect([...test.images]).toEqual([...cifarTest.images]);
    expect(server.requests.length).toBe(requestsBefore);
    expect(server.requests.filter((r) => r.path === '/cifar10.tar.gz').map((r) => r.range !== undefined)).toEqual([
      false,
      true,
    ]);
    expect(readdirSync(dataDir).sort()).toEqual(['cifar-10-batches-bin', 'cifar-10-binary.tar.gz']);
  });

  it('a truncated archive gives a clear error and leaves no extracted folder', async () => {
    const dataDir = fresh('trunc');
    const source = archiveSource(CIFAR10_SOURCE, server.url('/truncated.tar.gz'), truncatedArchive);
    await expect(loadCifar10({ split: 'train', dataDir, source, reporter: silentDownloadProgress })).rejects.toThrow(
      /cifar-10-binary\.tar\.gz: truncated/,
    );
    expect(readdirSync(dataDir)).toEqual(['cifar-10-binary.tar.gz']);
  });

  it('a corrupt gzip stream gives a clear error and leaves no extracted folder', async () => {
    const dataDir = fresh('gz');
    const source = archiveSource(CIFAR10_SOURCE, server.url('/corrupt-gzip.tar.gz'), corruptGzip);
    await expect(loadCifar10({ split: 'train', dataDir, source, reporter: silentDownloadProgress })).rejects.toThrow(
      /cifar-10-binary\.tar\.gz: (corrupt|truncated)/,
    );
    expect(readdirSync(dataDir)).toEqual(['cifar-10-binary.tar.gz']);
  });

  it('a corrupt file inside a good archive is named in the error', async () => {
    const dataDir = fresh('record');
    const source = archiveSource(CIFAR10_SOURCE, server.url('/corrupt-record.tar.gz'), corruptRecordArchive);
    await expect(loadCifar10({ split: 'train', dataDir, source, reporter: silentDownloadProgress })).rejects.toThrow(
      /data_batch_3\.bin: 3173 bytes is not a whole number of 3073-byte CIFAR-10 records/,
    );
  });

  it('a checksum mismatch leaves nothing under the final name', async () => {
    const dataDir = fresh('md5');
    const source = {
      ...CIFAR10_SOURCE,
      archive: { ...CIFAR10_SOURCE.archive, url: server.url('/cifar10.tar.gz'), md5: '0'.repeat(32) },
    };
    await expect(loadCifar10({ split: 'train', dataDir, source, reporter: silentDownloadProgress })).rejects.toThrow(
      'cifar-10-binary.tar.gz: checksum mismatch',
    );
    expect(existsSync(dataDir) ? readdirSync(dataDir) : []).toEqual([]);
  });

  it('refuses archive members escaping the target', async () => {
    const dataDir = fresh('escape');
    const archive = join(dir, 'escape.tar.gz');
    writeFileSync(archive, escapingArchive);
    await expect(extractArchive({ archive, directory: dataDir, folder: 'cifar-10-batches-bin' })).rejects.toThrow(
      "escape.tar.gz: member '../escaped.txt' escapes the target directory",
    );
    expect(existsSync(join(dataDir, '..', 'escaped.txt'))).toBe(false);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('CIFAR-100 fine and coarse labels', async () => {
    const dataDir = fresh('c100');
    const source = archiveSource(CIFAR100_SOURCE, server.url('/cifar100.tar.gz'), cifar100Archive);
    const fine = await loadCifar100({ split: 'train', dataDir, source, reporter: silentDownloadProgress });
    expect([...fine.labels]).toEqual([5, 50, 99, 0]);
    expect([...fine.images]).toEqual([...cifar100Train.images]);
    expect(fine.classNames[99]).toBe('f99');
    const coarse = await loadCifar100({
      split: 'test',
      labels: 'coarse',
      dataDir,
      source,
      reporter: silentDownloadProgress,
    });
    expect([...coarse.labels]).toEqual([4]);
    expect(coarse.classNames.length).toBe(20);
  });

  it('STL-10 train and unlabeled', async () => {
    const dataDir = fresh('stl');
    const source = archiveSource(STL10_SOURCE, server.url('/stl10.tar.gz'), stlArchive);
    const train = await loadStl10({ split: 'train', dataDir, source, reporter: silentDownloadProgress });
    expect([...train.labels]).toEqual([3, 8]);
    expect([...train.images]).toEqual([...stlTrain.images]);
    const unlabeled = await loadStl10({ split: 'unlabeled', dataDir, source, reporter: silentDownloadProgress });
    expect([...unlabeled.labels]).toEqual([-1]);
  });

  it('Tiny ImageNet from a zip', async () => {
    const dataDir = fresh('tiny');
    const source = archiveSource(TINY_IMAGENET_SOURCE, server.url('/tiny.zip'), tinyZip);
    const train = await loadTinyImagenet({ split: 'train', dataDir, source, reporter: silentDownloadProgress });
    expect([...train.labels]).toEqual([0, 1]); // wnids order: n02 first
    expect(train.classNames).toEqual(['second', 'first']);
    expect(Math.abs(train.images[1]! - 250)).toBeLessThanOrEqual(3); // the n02 image is green
    const val = await loadTinyImagenet({ split: 'val', dataDir, source, reporter: silentDownloadProgress });
    expect([...val.labels]).toEqual([1]);
    // The decoded split is cached: with the JPEGs gone the second load still returns the same pixels.
    const folder = join(dataDir, 'tiny-imagenet-200');
    rmSync(join(folder, 'train', 'n01', 'images', 'n01_0.JPEG'));
    const cached = await loadTinyImagenet({ split: 'train', dataDir, source, reporter: silentDownloadProgress });
    expect([...cached.images]).toEqual([...train.images]);
    expect([...cached.labels]).toEqual([0, 1]);
    expect(cached.classNames).toEqual(['second', 'first']);
    const cacheFile = join(folder, '.kd-cache', 'train.bin');
    writeFileSync(cacheFile, readFileSync(cacheFile).subarray(0, 100));
    await expect(loadTinyImagenet({ split: 'train', dataDir, source })).rejects.toThrow(
      /decoded cache .*train\.bin is corrupt \(100 bytes, expected 24616\)/,
    );
  });

  it('Fashion-MNIST from separate files; download: false reports what is missing', async () => {
    const dataDir = fresh('fashion');
    const source = {
      ...FASHION_MNIST_SOURCE,
      files: FASHION_MNIST_SOURCE.files.map((f) => ({
        ...f,
        url: server.url(`/fashion/${f.fileName}`),
        md5: fashionFiles[f.fileName] ? md5(fashionFiles[f.fileName]!) : f.md5,
      })),
    };
    const train = await loadFashionMnist({ split: 'train', dataDir, source, reporter: silentDownloadProgress });
    expect([...train.labels]).toEqual([9, 0, 4]);
    expect([...train.images]).toEqual([...fashionImages]);
    expect(server.requests.some((r) => r.path.includes('t10k'))).toBe(false);
    await expect(loadFashionMnist({ split: 'test', dataDir, download: false })).rejects.toThrow(
      /loadFashionMnist: .*t10k-images-idx3-ubyte\.gz.* not found; pass download: true/,
    );
  });

  it('writeCifar10Binary produces what loadCifar10 reads', async () => {
    const dataDir = fresh('written');
    writeCifar10Binary({ directory: dataDir, train: cifarTrain, test: cifarTest });
    const train = await loadCifar10({ split: 'train', dataDir, download: false });
    expect([...train.images]).toEqual([...cifarTrain.images]);
    expect([...train.labels]).toEqual([...cifarTrain.labels]);
  });

  it('rejects bad options', async () => {
    await expect(loadCifar10({ split: 'validation' as never })).rejects.toThrow(
      "loadCifar10: options.split must be one of 'train', 'test'",
    );
    await expect(loadCifar10({ split: 'train', source: STL10_SOURCE, download: false })).rejects.toThrow(
      'loadCifar10: options.source',
    );
  });
});

describeWithBackends('defaultDataDir', () => {
  it('prefers KD_DATA_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
    const saved = { kd: process.env.KD_DATA_DIR, xdg: process.env.XDG_CACHE_HOME };
    try {
      process.env.KD_DATA_DIR = '/data/kd';
      expect(defaultDataDir()).toBe('/data/kd');
      delete process.env.KD_DATA_DIR;
      process.env.XDG_CACHE_HOME = '/xdg';
      expect(defaultDataDir()).toBe(join('/xdg', 'kd', 'datasets'));
      delete process.env.XDG_CACHE_HOME;
      expect(defaultDataDir()).toMatch(/\.cache[/\\]kd[/\\]datasets$/);
    } finally {
      if (saved.kd === undefined) delete process.env.KD_DATA_DIR;
      else process.env.KD_DATA_DIR = saved.kd;
      if (saved.xdg === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved.xdg;
    }
  });
});
