/**
 * Tiny data sets in the real on-disk formats (CIFAR-100 and CIFAR-10 binary, STL-10 binary), written with
 * @kd/data's encoders, so the smoke tests read them through the same loaders as the real downloads.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STL10_CLASS_NAMES, encodeStl10Images, encodeStl10Labels } from '@kd/data';
import { writeCifar100Binary, writeCifar10Binary } from '@kd/data/node';

/** Deterministic pseudo-random bytes (mulberry32). */
function randomBytes(count: number, seed: number): Uint8Array {
  let state = seed >>> 0;
  const bytes = new Uint8Array(count);
  for (let index = 0; index < count; index++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    bytes[index] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return bytes;
}

function labels(count: number, numClasses: number): number[] {
  return Array.from({ length: count }, (_, index) => (index * 7) % numClasses);
}

/** Writes CIFAR-100 (train/test), CIFAR-10 (train/test) and STL-10 (train/test) into `directory`. */
export function writeTinyDatasets(
  directory: string,
  { train = 24, test = 8 }: { train?: number; test?: number } = {},
): void {
  const side = 32 * 32 * 3;
  writeCifar100Binary({
    directory,
    train: { images: randomBytes(train * side, 1), fineLabels: labels(train, 100), coarseLabels: labels(train, 20) },
    test: { images: randomBytes(test * side, 2), fineLabels: labels(test, 100), coarseLabels: labels(test, 20) },
  });
  writeCifar10Binary({
    directory,
    train: { images: randomBytes(train * side, 3), labels: labels(train, 10) },
    test: { images: randomBytes(test * side, 4), labels: labels(test, 10) },
  });
  const stl = join(directory, 'stl10_binary');
  mkdirSync(stl, { recursive: true });
  const stlSide = 96 * 96 * 3;
  for (const [split, count, seed] of [
    ['train', train, 5],
    ['test', test, 6],
  ] as const) {
    writeFileSync(join(stl, `${split}_X.bin`), encodeStl10Images({ images: randomBytes(count * stlSide, seed) }));
    writeFileSync(join(stl, `${split}_y.bin`), encodeStl10Labels({ labels: labels(count, 10) }));
  }
  writeFileSync(join(stl, 'class_names.txt'), `${STL10_CLASS_NAMES.join('\n')}\n`);
}
