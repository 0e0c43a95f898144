/**
 * `bench.html?backend=wasm&threads=1&model=resnet8&batch=16&steps=6`: images per second of the trainer's teacher step
 * (cross-entropy, SGD with momentum) on the bundled Fashion-MNIST images, measured over the steps after the
 * first epoch (which compiles shaders / warms caches). Result in `window.kdBench` and on the page.
 */
import * as tf from '@tensorflow/tfjs-core';
import { FASHION_MNIST_NORMALIZATION } from '@kd/data';
import { createModel } from '@kd/models';
import { trainSupervised } from '@kd/trainer';
import trainImagesUrl from '../../quickstart/data/train-images-idx3-ubyte.gz?url';
import trainLabelsUrl from '../../quickstart/data/train-labels-idx1-ubyte.gz?url';
import testImagesUrl from '../../quickstart/data/t10k-images-idx3-ubyte.gz?url';
import testLabelsUrl from '../../quickstart/data/t10k-labels-idx1-ubyte.gz?url';
import { startBackend } from './backend';
import { decodeBundledSlice } from './pipeline';
import type { BackendChoice } from './protocol';

declare global {
  interface Window {
    kdBench: {
      state: 'running' | 'finished' | 'failed';
      backend?: string;
      threads?: number;
      model?: string;
      batchSize?: number;
      imagesPerSecond?: number;
      firstEpochImagesPerSecond?: number;
      error?: string;
    };
  }
}

window.kdBench = { state: 'running' };
const out = document.getElementById('out') as HTMLElement;

async function main(): Promise<void> {
  const query = new URLSearchParams(location.search);
  const choice = (query.get('backend') ?? 'wasm') as BackendChoice;
  const modelName = query.get('model') ?? 'resnet8';
  const batchSize = Number(query.get('batch') ?? '16');
  const steps = Number(query.get('steps') ?? '6');
  const threads = query.get('threads');
  const running = await startBackend(choice, threads === null ? undefined : Number(threads));
  const bytes = async (url: string) => new Uint8Array(await (await fetch(url)).arrayBuffer());
  const files = {
    trainImages: await bytes(trainImagesUrl),
    trainLabels: await bytes(trainLabelsUrl),
    testImages: await bytes(testImagesUrl),
    testLabels: await bytes(testLabelsUrl),
  };
  const { train } = decodeBundledSlice(files, { trainSize: batchSize * steps, testSize: 1 });
  const model = createModel(modelName, { numClasses: 10, seed: 1, inputChannels: 1 });
  const result = await trainSupervised({
    model,
    data: { train },
    epochs: 2,
    batchSize,
    normalization: FASHION_MNIST_NORMALIZATION,
    progress: false,
  });
  model.dispose();
  const [first, second] = result.history;
  window.kdBench = {
    state: 'finished',
    backend: `${running.backend} (${tf.getBackend()})`,
    threads: running.threads,
    model: modelName,
    batchSize,
    imagesPerSecond: second?.imagesPerSecond,
    firstEpochImagesPerSecond: first?.imagesPerSecond,
  };
  out.textContent = JSON.stringify({ ...window.kdBench, detail: running.detail }, null, 2);
}

main().catch((error: unknown) => {
  window.kdBench = { state: 'failed', error: error instanceof Error ? error.message : String(error) };
  out.textContent = String(error);
});
