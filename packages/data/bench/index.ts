/**
 * Input-pipeline throughput for CIFAR-shaped data (random uint8 32×32×3, batch 64): crop with padding 4 +
 * horizontal flip + CIFAR-100 normalisation + batching into tfjs tensors, on the main thread and on worker
 * threads. Figures are images per second measured in this run; compare them with the training step rate of
 * the model (a resnet20 step on the cpu backend processes far fewer images per second).
 *
 *   pnpm bench                  # in packages/data
 *   KD_BENCH_IMAGES=20000 pnpm bench
 */
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  CIFAR100_NORMALIZATION,
  CIFAR_AUGMENTATION,
  Random,
  augmentBatchInto,
  createDataset,
  createLoader,
  planAugmentation,
} from '../src/index';
import type { Loader } from '../src/index';
import { createParallelLoader } from '../src/node/index';

tf.env().set('IS_TEST', true); // silence the "install tfjs-node" banner

const count = Number(process.env.KD_BENCH_IMAGES ?? 10_000);
const batchSize = 64;
const random = new Random({ seed: 1 });
const images = new Uint8Array(count * 32 * 32 * 3);
for (let i = 0; i < images.length; i += 4) {
  const word = random.nextUint32();
  images[i] = word & 255;
  images[i + 1] = (word >>> 8) & 255;
  images[i + 2] = (word >>> 16) & 255;
  images[i + 3] = word >>> 24;
}
const dataset = createDataset({
  images,
  labels: Int32Array.from({ length: count }, (_, i) => i % 100),
  height: 32,
  width: 32,
  channels: 3,
  classNames: Array.from({ length: 100 }, (_, k) => `class${k}`),
});
const loaderOptions = {
  batchSize,
  shuffle: true,
  seed: 7,
  augment: CIFAR_AUGMENTATION,
  normalize: CIFAR100_NORMALIZATION,
};

function kernelOnly(): number {
  const { scale, bias } = { scale: new Float32Array(3), bias: new Float32Array(3) };
  for (let c = 0; c < 3; c++) {
    scale[c] = 1 / (255 * CIFAR100_NORMALIZATION.std[c]!);
    bias[c] = -CIFAR100_NORMALIZATION.mean[c]! / CIFAR100_NORMALIZATION.std[c]!;
  }
  const start = performance.now();
  for (let first = 0; first < count; first += batchSize) {
    const n = Math.min(batchSize, count - first);
    const rows = Int32Array.from({ length: n }, (_, i) => first + i);
    const plan = planAugmentation({ count: n, augment: CIFAR_AUGMENTATION, random });
    const out = new Float32Array(n * 3072);
    const source = { images, height: 32, width: 32, channels: 3 };
    augmentBatchInto({ source, job: { rows, ...plan, scale, bias }, out });
  }
  return count / ((performance.now() - start) / 1000);
}

function busyWait(milliseconds: number): void {
  const end = performance.now() + milliseconds;
  while (performance.now() < end) {
    // stands in for a synchronous training step on the main thread
  }
}

/** One epoch; `stepMs` > 0 simulates a training step per batch and yields once (as `await data()` would). */
async function epoch(loader: Loader, stepMs: number): Promise<{ imagesPerSecond: number; seconds: number }> {
  const start = performance.now();
  let seen = 0;
  for await (const batch of loader.batches({ epoch: 0 })) {
    seen += batch.indices.length;
    if (stepMs > 0) {
      busyWait(stepMs);
      await new Promise((resolve) => setImmediate(resolve));
    }
    batch.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  return { imagesPerSecond: seen / seconds, seconds };
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
  const tensorsBefore = tf.memory().numTensors;
  console.log(`@kd/data bench: ${count} CIFAR-shaped images, batch ${batchSize}, crop(pad 4) + flip + normalise`);
  console.log(
    `machine: ${availableParallelism()} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  kernelOnly(); // warm-up
  const kernel = kernelOnly();
  const single = createLoader(dataset, loaderOptions);
  await epoch(single, 0); // warm-up
  const singleRate = await epoch(single, 0);
  const rows: Array<[string, number]> = [
    ['augment kernel only (main thread)', kernel],
    ['loader, main thread (tensors included)', singleRate.imagesPerSecond],
  ];
  const parallel: Record<number, Loader & { close(): Promise<void> }> = {};
  for (const workers of [1, 2]) {
    parallel[workers] = createParallelLoader(dataset, { ...loaderOptions, workers });
    await epoch(parallel[workers]!, 0);
    rows.push([
      `loader, ${workers} worker thread${workers > 1 ? 's' : ''}`,
      (await epoch(parallel[workers]!, 0)).imagesPerSecond,
    ]);
  }
  console.log('\n| pipeline | images/s | vs main-thread loader |');
  console.log('|---|---:|---:|');
  for (const [name, rate] of rows)
    console.log(`| ${name} | ${rate.toFixed(0)} | ${(rate / singleRate.imagesPerSecond).toFixed(2)}× |`);

  // Overlap: with a simulated 20 ms training step per batch, how much longer than the steps alone is the epoch?
  const stepMs = 20;
  const batches = single.batchesPerEpoch;
  const stepsOnly = (batches * stepMs) / 1000;
  console.log(
    `\nwith a simulated ${stepMs} ms training step per batch (${batches} steps = ${stepsOnly.toFixed(2)} s of pure training):`,
  );
  console.log('| pipeline | epoch s | data overhead |');
  console.log('|---|---:|---:|');
  for (const [name, loader] of [
    ['main thread', single],
    ['1 worker', parallel[1]!],
    ['2 workers', parallel[2]!],
  ] as const) {
    const { seconds } = await epoch(loader, stepMs);
    console.log(`| ${name} | ${seconds.toFixed(2)} | ${(((seconds - stepsOnly) / stepsOnly) * 100).toFixed(1)}% |`);
  }
  for (const loader of Object.values(parallel)) await loader.close();
  const leaked = tf.memory().numTensors - tensorsBefore;
  console.log(`\ntensors left alive after all epochs: ${leaked}`);
  if (leaked !== 0) process.exitCode = 1;
}

void main();
