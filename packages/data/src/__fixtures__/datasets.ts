/** Small deterministic datasets for tests. */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { seededRandom } from '@kd/test-utils';
import type { Dataset } from '../dataset';

/** A dataset whose pixels are seeded random bytes and whose labels cycle 0, 1, …, numClasses − 1. */
export function randomDataset({
  count,
  height,
  width,
  channels,
  numClasses,
  seed = 1,
}: {
  count: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  seed?: number;
}): Dataset {
  const random = seededRandom(seed);
  const images = new Uint8Array(count * height * width * channels);
  for (let i = 0; i < images.length; i++) images[i] = Math.floor(random() * 256);
  return {
    images,
    labels: Int32Array.from({ length: count }, (_, i) => i % numClasses),
    indices: Int32Array.from({ length: count }, (_, i) => i),
    height,
    width,
    channels,
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, k) => `class${k}`),
  };
}

/**
 * The real Fashion-MNIST files for the tests that read them: `KD_FASHION_MNIST_DIR`, else the workplace copy next
 * to the repository (`../shared/datasets/fashion-mnist/`), else Debian's `dataset-fashion-mnist` package
 * (`/usr/share/datasets/fashion-mnist/`, which `.ci/run` installs). The first folder holding the files wins.
 */
export const FASHION_MNIST_DIR: URL = (() => {
  const candidates = [
    ...(process.env.KD_FASHION_MNIST_DIR
      ? [pathToFileURL(`${process.env.KD_FASHION_MNIST_DIR.replace(/\/?$/, '/')}`)]
      : []),
    new URL('../../../../../shared/datasets/fashion-mnist/', import.meta.url),
    pathToFileURL('/usr/share/datasets/fashion-mnist/'),
  ];
  return candidates.find((url) => existsSync(new URL('train-images-idx3-ubyte.gz', url))) ?? (candidates[0] as URL);
})();
