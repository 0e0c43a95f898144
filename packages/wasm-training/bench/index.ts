/**
 * `pnpm bench`: training and inference images/s of zoo models on the cpu backend, stock wasm, and wasm with
 * the @kd/wasm-training kernels, measured in one run, with ratios.
 *
 *   pnpm bench [--models resnet8x4,resnet20,wrn40_2,mobilenetv2,shufflev2] [--batch 64] [--train-batch N] [--steps 3]
 *              [--cpu-train-batch 4] [--cpu-infer-batch 16] [--skip-cpu] [--json out.json]
 *
 * One training step = forward in training mode (batch statistics), softmax cross-entropy, backward, SGD
 * update. The pure-JS cpu backend is far too slow for batch 64: it trains on a smaller batch for one timed
 * step (after a warm-up step on 2 images) and reports images/s, which do not depend much on the batch size
 * on a CPU backend; the smaller batch is printed next to its figure.
 */
import '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { createModel } from '@kd/models';
import { cpus } from 'node:os';
import { writeFileSync } from 'node:fs';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../src/index';


interface Options {
  models: string[];
  batch: number;
  trainBatch: number | undefined;
  steps: number;
  cpuTrainBatch: number;
  cpuInferBatch: number;
  skipCpu: boolean;
  json: string | undefined;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    models: ['resnet8x4', 'resnet20', 'wrn40_2', 'mobilenetv2', 'shufflev2'],
    batch: 64,
    trainBatch: undefined,
    steps: 3,
    cpuTrainBatch: 4,
    cpuInferBatch: 16,
    skipCpu: false,
    json: undefined,
  };
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index];
    const value = (): string => {
      const next = argv[++index];
      if (next === undefined) throw new Error(`bench: ${flag} needs a value`);
      return next;
    };
    const positive = (): number => {
      const number = Number(value());
      if (!Number.isInteger(number) || number < 1) throw new Error(`bench: ${flag} must be a positive integer`);
      return number;
    };
    if (flag === '--models') options.models = value().split(',');
    else if (flag === '--batch') options.batch = positive();
    else if (flag === '--train-batch') options.trainBatch = positive();
    else if (flag === '--steps') options.steps = positive();
    else if (flag === '--cpu-train-batch') options.cpuTrainBatch = positive();
    else if (flag === '--cpu-infer-batch') options.cpuInferBatch = positive();
    else if (flag === '--skip-cpu') options.skipCpu = true;
    else if (flag === '--json') options.json = value();
    else throw new Error(`bench: unknown flag ${flag}`);
  }
  return options;
}

interface Measurement {
  imagesPerSecond: number | null;
  batch: number;
  note?: string;
}

function fixedImages(batch: number): { images: tf.Tensor4D; labels: tf.Tensor2D } {
  return tf.tidy(() => ({
    images: tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D,
    labels: tf.oneHot(tf.randomUniform([batch], 0, 100, 'int32', 11) as tf.Tensor1D, 100) as tf.Tensor2D,
  }));
}

/** Seconds per call of `run` over `steps` timed calls after `warmup` untimed ones. */
function timeIt(run: () => void, warmup: number, steps: number): number {
  for (let index = 0; index < warmup; index++) run();
  const start = performance.now();
  for (let index = 0; index < steps; index++) run();
  return (performance.now() - start) / 1000 / steps;
}

function measure(name: string, mode: 'train' | 'infer', batch: number, warmupBatch: number, steps: number): Measurement {
  const model = createModel(name, { numClasses: 100, seed: 1 });
  const optimizer = tf.train.sgd(0.01);
  const step = (images: tf.Tensor4D, labels: tf.Tensor2D) => () => {
    tf.tidy(() => {
      if (mode === 'infer') {
        model.apply(images, { training: false }).logits.dataSync();
        return;
      }
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(labels, model.apply(images, { training: true }).logits) as tf.Scalar,
        model.trainableVariables,
      );
      optimizer.applyGradients(grads);
      value.dataSync();
    });
  };
  const warm = fixedImages(warmupBatch);
  const timed = fixedImages(batch);
  try {
    if (warmupBatch !== batch) timeIt(step(warm.images, warm.labels), 1, 0);
    const seconds = timeIt(step(timed.images, timed.labels), warmupBatch === batch ? 1 : 0, steps);
    return { imagesPerSecond: batch / seconds, batch };
  } catch (error) {
    return { imagesPerSecond: null, batch, note: (error as Error).message.split('\n')[0]?.slice(0, 120) };
  } finally {
    tf.dispose([warm.images, warm.labels, timed.images, timed.labels]);
    optimizer.dispose();
    model.dispose();
  }
}

const options = parseOptions(process.argv.slice(2));
const configurations: string[] = [];
const results: Record<string, Record<string, { train: Measurement; infer: Measurement }>> = {};
const log = (line: string) => process.stdout.write(`${line}\n`);

async function run(configuration: string, backend: 'cpu' | 'wasm', withKernels: boolean): Promise<void> {
  if (withKernels) registerWasmTrainingKernels();
  else unregisterWasmTrainingKernels();
  await tf.setBackend(backend);
  configurations.push(configuration);
  for (const name of options.models) {
    const isCpu = backend === 'cpu';
    const infer = measure(name, 'infer', isCpu ? options.cpuInferBatch : options.batch, isCpu ? 2 : options.batch, isCpu ? 1 : options.steps);
    const trainBatch = options.trainBatch ?? options.batch;
    const train = measure(name, 'train', isCpu ? options.cpuTrainBatch : trainBatch, isCpu ? 2 : trainBatch, isCpu ? 1 : options.steps);
    (results[name] ??= {})[configuration] = { train, infer };
    const show = (m: Measurement) => (m.imagesPerSecond === null ? `cannot run (${m.note})` : `${m.imagesPerSecond.toFixed(2)} (batch ${m.batch})`);
    log(`${configuration.padEnd(22)} ${name.padEnd(12)} train ${show(train)}  infer ${show(infer)}`);
  }
}

const started = performance.now();
await tf.setBackend('wasm');
const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
log(`node ${process.version}, ${cpus().length} logical cores, wasm SIMD ${simd}, wasm threads ${getThreadsCount()}`);
log(`models ${options.models.join(', ')}; batch ${options.batch}, ${options.steps} timed steps after 1 warm-up\n`);
if (!options.skipCpu) await run('cpu', 'cpu', false);
// Wasm code tiers up (Liftoff → TurboFan) on first use: warm every model once so that the first wasm
// configuration measured is not penalised.
unregisterWasmTrainingKernels();
await tf.setBackend('wasm');
for (const name of options.models) measure(name, 'infer', 8, 8, 1);
await run('wasm stock', 'wasm', false);
await run(`wasm + kernels (${getThreadsCount()}t)`, 'wasm', true);

const format = (value: number | null): string => (value === null ? '–' : value >= 10 ? value.toFixed(1) : value.toFixed(2));
const reference = configurations[configurations.length - 1] as string;
log(`\n| model | ${configurations.map((c) => `${c} train / infer`).join(' | ')} | ${reference} vs ${configurations.slice(0, -1).join(', ')} (train / infer) |`);
log(`|---|${configurations.map(() => '---|').join('')}---|`);
for (const name of options.models) {
  const row = results[name] ?? {};
  const cells = configurations.map((c) => `${format(row[c]?.train.imagesPerSecond ?? null)} / ${format(row[c]?.infer.imagesPerSecond ?? null)}`);
  const ours = row[reference];
  const ratios = configurations.slice(0, -1).map((c) => {
    const ratio = (a: number | null | undefined, b: number | null | undefined) =>
      a != null && b != null ? `${(a / b).toFixed(1)}×` : '–';
    return `${ratio(ours?.train.imagesPerSecond, row[c]?.train.imagesPerSecond)} / ${ratio(ours?.infer.imagesPerSecond, row[c]?.infer.imagesPerSecond)}`;
  });
  log(`| ${name} | ${cells.join(' | ')} | ${ratios.join(', ')} |`);
}
log(`\nimages/s; cpu batches: train ${options.cpuTrainBatch}, infer ${options.cpuInferBatch}. Total ${((performance.now() - started) / 1000).toFixed(0)} s.`);
if (options.json !== undefined) writeFileSync(options.json, JSON.stringify({ options, results }, null, 2));
