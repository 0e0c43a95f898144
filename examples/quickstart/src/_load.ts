import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FASHION_MNIST_CLASS_NAMES, decodeIdxDataset } from '@kd/data';
export async function loadSplitForExp(prefix: 'train' | 't10k', count: number) {
  const read = async (kind: string) => { const name = `${prefix}-${kind}-ubyte.gz`; return { name, bytes: new Uint8Array(await readFile(join('data', name))) }; };
  const full = decodeIdxDataset({ images: await read('images-idx3'), labels: await read('labels-idx1'), classNames: FASHION_MNIST_CLASS_NAMES });
  const p = full.height * full.width;
  return { ...full, images: full.images.slice(0, count * p), labels: full.labels.slice(0, count), indices: full.indices.slice(0, count) };
}
