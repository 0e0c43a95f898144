import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_NORMALIZATION,
  createLoader,
  decodeIdxDataset,
  type Dataset,
} from '@kd/data';

/** The first `count` images of a split of the Fashion-MNIST IDX files in `dataDir` (28×28×1). */
export async function loadSplit(dataDir: string, prefix: 'train' | 't10k', count: number): Promise<Dataset> {
  const read = async (kind: 'images-idx3' | 'labels-idx1') => {
    const name = `${prefix}-${kind}-ubyte.gz`;
    return { name, bytes: new Uint8Array(await readFile(join(dataDir, name))) };
  };
  const full = decodeIdxDataset({
    images: await read('images-idx3'),
    labels: await read('labels-idx1'),
    classNames: FASHION_MNIST_CLASS_NAMES,
  });
  if (count > full.labels.length)
    throw new Error(
      `bring-your-own-model: asked for ${count} ${prefix} images, ${dataDir} holds ${full.labels.length}`,
    );
  const pixels = full.height * full.width;
  return {
    ...full,
    images: full.images.slice(0, count * pixels),
    labels: full.labels.slice(0, count),
    indices: full.indices.slice(0, count),
  };
}

/**
 * Runs `predict` over `dataset` normalised as in training ((x/255 − mean)/std) and returns the top-1 accuracy
 * and the outputs of the first `keep` images (to compare two copies of a model number for number).
 */
export async function predictDataset(
  dataset: Dataset,
  predict: (images: tf.Tensor4D) => tf.Tensor2D,
  keep = 8,
): Promise<{ accuracy: number; firstOutputs: number[][] }> {
  let correct = 0;
  const firstOutputs: number[][] = [];
  for await (const batch of createLoader(dataset, {
    batchSize: 100,
    shuffle: false,
    normalize: FASHION_MNIST_NORMALIZATION,
  })) {
    const [outputs, predicted] = tf.tidy(() => {
      const output = predict(batch.images);
      return [output.arraySync(), tf.argMax(output, 1).dataSync()] as const;
    });
    const labels = batch.labels.dataSync();
    predicted.forEach((value, row) => (correct += value === labels[row] ? 1 : 0));
    for (const row of outputs) if (firstOutputs.length < keep) firstOutputs.push(row);
    tf.dispose([batch.images, batch.labels]);
  }
  return { accuracy: correct / dataset.labels.length, firstOutputs };
}
