/**
 * `pnpm bench`: images/s of one training step of zoo models, measured in one run: the stock cpu backend (on a
 * small batch), wasm with this package's kernels on 1 thread and on every core, and PyTorch on 2 threads
 * (`bench/torch_step.py`, when `python3 -c 'import torch'` works; Debian: `apt install python3-torch`), with
 * the ratios to PyTorch.
 *
 *   pnpm bench [--models resnet20,resnet8x4,wrn16_2,mobilenetv2] [--batch 64] [--steps 3] [--cpu-batch 2]
 *              [--threads N] [--torch-threads 2] [--skip-cpu] [--composed-bn] [--profile resnet20] [--json out.json]
 *
 * One training step is the plain custom loop of the README: `optimizer.minimize` (SGD) over
 * softmax cross-entropy of `model.apply(images, { training: true })`, the loss read back. Timed over
 * `--steps` steps after one warm-up step. The pure-JS cpu backend is far too slow for batch 64: it runs one
 * timed step of `--cpu-batch` images (images/s barely depend on the batch on a CPU backend).
 * `--composed-bn` adds a column with batch norm composed of tfjs ops instead of the fused kernels;
 * `--profile M` prints, for model M, the per-kernel time of one step (`tf.profile`) in each wasm configuration.
 */
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { createModel } from '@kd/models';
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  initWasmTrainingBackend,
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
  WASM_TRAINING_KERNEL_NAMES,
} from '../src/index';

interface Options {
  models: string[];
  batch: number;
  steps: number;
  cpuBatch: number;
  threads: number;
  torchThreads: number;
  skipCpu: boolean;
  composedBatchNorm: boolean;
  profile: string | undefined;
  json: string | undefined;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    models: ['resnet20', 'resnet8x4', 'wrn16_2', 'mobilenetv2'],
    batch: 64,
    steps: 3,
    cpuBatch: 2,
    threads: cpus().length,
    torchThreads: 2,
    skipCpu: false,
    composedBatchNorm: false,
    profile: undefined,
    json: undefined,
  };
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index];
    if (flag === '--') continue;
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
    else if (flag === '--steps') options.steps = positive();
    else if (flag === '--cpu-batch') options.cpuBatch = positive();
    else if (flag === '--threads') options.threads = positive();
    else if (flag === '--torch-threads') options.torchThreads = positive();
    else if (flag === '--skip-cpu') options.skipCpu = true;
    else if (flag === '--composed-bn') options.composedBatchNorm = true;
    else if (flag === '--profile') options.profile = value();
    else if (flag === '--json') options.json = value();
    else throw new Error(`bench: unknown flag ${flag}`);
  }
  return options;
}

function fixedBatch(batch: number): { images: tf.Tensor4D; labels: tf.Tensor2D } {
  return tf.tidy(() => ({
    images: tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D,
    labels: tf.oneHot(tf.randomUniform([batch], 0, 100, 'int32', 11) as tf.Tensor1D, 100) as tf.Tensor2D,
  }));
}

/** A training step of `name` on the current backend, and what to dispose afterwards. */
function trainingStep(name: string, batch: number) {
  const model = createModel(name, { numClasses: 100, seed: 1 });
  const optimizer = tf.train.sgd(0.01);
  const { images, labels } = fixedBatch(batch);
  const step = () => {
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(labels, model.apply(images, { training: true }).logits) as tf.Scalar,
      true,
    );
    loss?.dataSync();
    loss?.dispose();
  };
  const dispose = () => {
    tf.dispose([images, labels]);
    optimizer.dispose();
    model.dispose();
  };
  return { step, dispose, params: model.countParams() };
}

interface Measurement {
  imagesPerSecond: number | null;
  batch: number;
  note?: string;
}

function measure(name: string, batch: number, steps: number): Measurement {
  const { step, dispose } = trainingStep(name, batch);
  try {
    step();
    const start = performance.now();
    for (let index = 0; index < steps; index++) step();
    return { imagesPerSecond: (batch * steps * 1000) / (performance.now() - start), batch };
  } catch (error) {
    return { imagesPerSecond: null, batch, note: (error as Error).message.split('\n')[0]?.slice(0, 120) };
  } finally {
    dispose();
  }
}

/** Per-kernel milliseconds of one training step (after a warm-up step), largest first. */
async function profileStep(name: string, batch: number): Promise<Array<[string, number]>> {
  const { step, dispose } = trainingStep(name, batch);
  try {
    step();
    const profile = await tf.profile(step);
    const totals = new Map<string, number>();
    for (const kernel of profile.kernels) {
      totals.set(
        kernel.name,
        (totals.get(kernel.name) ?? 0) + (typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0),
      );
    }
    return [...totals.entries()].sort((a, b) => b[1] - a[1]);
  } finally {
    dispose();
  }
}

const BATCH_NORM_KERNELS = WASM_TRAINING_KERNEL_NAMES.filter((name) => name.startsWith('KdBatchNorm'));

/** (Re)starts wasm with `threads` XNNPACK threads and the kernels, fused batch norm or not. */
async function startWasm(threads: number, fusedBatchNorm: boolean): Promise<void> {
  if (tf.findBackend('wasm') !== null) tf.removeBackend('wasm');
  await initWasmTrainingBackend({ threads });
  if (!fusedBatchNorm) {
    unregisterWasmTrainingKernels();
    registerWasmTrainingKernels({
      kernels: WASM_TRAINING_KERNEL_NAMES.filter((name) => !BATCH_NORM_KERNELS.includes(name)),
    });
  }
}

interface TorchResult {
  torch: string;
  threads: number;
  results: Record<string, { imagesPerSecond: number; params: number }>;
}

/** The first Python that imports torch: `KD_BENCH_PYTHON`, then `python3` on the PATH, then Debian's. */
function pythonWithTorch(): string | undefined {
  const candidates = [process.env.KD_BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter(
    (entry): entry is string => entry !== undefined,
  );
  for (const python of candidates) {
    try {
      execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
      return python;
    } catch {
      // Not this one.
    }
  }
  return undefined;
}

function runTorch(options: Options, log: (line: string) => void): TorchResult | undefined {
  const python = pythonWithTorch();
  if (python === undefined) {
    log(
      'PyTorch: no python3 imports torch (KD_BENCH_PYTHON, python3, /usr/bin/python3): no PyTorch column (Debian: apt install python3-torch)',
    );
    return undefined;
  }
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_step.py');
  const output = execFileSync(
    python,
    [
      script,
      '--models',
      options.models.join(','),
      '--batch',
      String(options.batch),
      '--steps',
      String(options.steps),
      '--threads',
      String(options.torchThreads),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  return JSON.parse(output.trim().split('\n').pop() as string) as TorchResult;
}

const options = parseOptions(process.argv.slice(2));
// The cpu backend is measured on purpose: skip its "install tfjs-node" banner.
tf.env().set('PROD', true);
const log = (line: string) => process.stdout.write(`${line}\n`);
const started = performance.now();
const configurations: Array<{ label: string; run: () => Promise<void>; cpu?: boolean }> = [];
if (!options.skipCpu) {
  configurations.push({
    label: `cpu stock (batch ${options.cpuBatch})`,
    cpu: true,
    run: async () => void (await tf.setBackend('cpu')),
  });
}
configurations.push({ label: 'wasm + kernels 1t', run: () => startWasm(1, true) });
if (options.threads > 1)
  configurations.push({ label: `wasm + kernels ${options.threads}t`, run: () => startWasm(options.threads, true) });
if (options.composedBatchNorm) {
  configurations.push({ label: `wasm ${options.threads}t, composed BN`, run: () => startWasm(options.threads, false) });
}

log(
  `node ${process.version}, ${cpus().length} logical cores; models ${options.models.join(', ')}; batch ${options.batch}, ${options.steps} timed steps after 1 warm-up`,
);
const results: Record<string, Record<string, Measurement>> = {};
const profiles: Record<string, Array<[string, number]>> = {};
for (const configuration of configurations) {
  await configuration.run();
  for (const name of options.models) {
    const measurement = configuration.cpu
      ? measure(name, options.cpuBatch, 1)
      : measure(name, options.batch, options.steps);
    const row = results[name] ?? {};
    row[configuration.label] = measurement;
    results[name] = row;
    const shown =
      measurement.imagesPerSecond === null
        ? `cannot run (${measurement.note})`
        : measurement.imagesPerSecond.toFixed(2);
    log(`${configuration.label.padEnd(26)} ${name.padEnd(12)} ${shown} images/s`);
  }
  if (options.profile !== undefined && !configuration.cpu)
    profiles[configuration.label] = await profileStep(options.profile, options.batch);
}
const torch = runTorch(options, log);
if (torch !== undefined) {
  for (const name of options.models) {
    const result = torch.results[name];
    if (result === undefined) continue;
    const params = trainingStep(name, 1);
    params.dispose();
    const check =
      params.params === result.params
        ? 'same parameter count'
        : `PARAMETER COUNTS DIFFER: tfjs ${params.params}, torch ${result.params}`;
    log(
      `${`PyTorch ${torch.torch} ${torch.threads}t`.padEnd(26)} ${name.padEnd(12)} ${result.imagesPerSecond.toFixed(2)} images/s (${check})`,
    );
  }
}

const format = (value: number | null | undefined): string =>
  value === null || value === undefined ? '–' : value >= 10 ? value.toFixed(1) : value.toFixed(2);
const labels = configurations.map((configuration) => configuration.label);
const torchLabel = torch === undefined ? undefined : `PyTorch ${torch.threads}t`;
const ratioLabels =
  torch === undefined ? [] : labels.filter((label) => label.startsWith('wasm')).map((label) => `${label} / PyTorch`);
log(`\n| model | ${[...labels, ...(torchLabel ? [torchLabel] : []), ...ratioLabels].join(' | ')} |`);
log(`|---|${[...labels, ...(torchLabel ? [torchLabel] : []), ...ratioLabels].map(() => '---|').join('')}`);
for (const name of options.models) {
  const row = results[name] ?? {};
  const reference = torch?.results[name]?.imagesPerSecond;
  const cells = labels.map((label) => format(row[label]?.imagesPerSecond));
  if (torchLabel) cells.push(format(reference));
  for (const label of labels.filter((entry) => entry.startsWith('wasm'))) {
    const ours = row[label]?.imagesPerSecond;
    if (torch !== undefined)
      cells.push(ours != null && reference !== undefined ? `${(ours / reference).toFixed(2)}×` : '–');
  }
  log(`| ${name} | ${cells.join(' | ')} |`);
}
for (const [label, kernels] of Object.entries(profiles)) {
  const total = kernels.reduce((sum, [, ms]) => sum + ms, 0);
  log(`\nprofile of one ${options.profile} step (batch ${options.batch}), ${label}: ${total.toFixed(0)} ms in kernels`);
  for (const [kernel, ms] of kernels.slice(0, 14))
    log(`  ${kernel.padEnd(36)} ${ms.toFixed(1).padStart(8)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)}%`);
}
log(`\nimages/s of a training step. Total ${((performance.now() - started) / 1000).toFixed(0)} s.`);
if (options.json !== undefined)
  writeFileSync(options.json, JSON.stringify({ options, results, torch, profiles }, null, 2));
