/**
 * `pnpm bench`: the cost of a distillStudent training step with each objective, as the ratio
 * (step with CE + method) / (step with CE alone), all measured in one run.
 *
 * A step is what the trainer does per batch: the frozen teacher's forward pass (inference mode), the student's
 * forward + backward, SGD with momentum and weight decay on student + heads, the one read of the loss parts,
 * and any after-step work (CRD's memory update). Models: the tests' small conv net (conv3×3 → conv3×3 s2 + BN
 * → global pool → dense) at width 8 (student) and 16 (teacher) on 16×16×3 inputs, batch 16, pure-JS cpu.
 * Steps are timed in process CPU time between consecutive `onStepEnd` calls (setup, probing and the first
 * step excluded);
 * variants run interleaved, round by round, and each figure is the median over all timed steps.
 *
 * AB and FSP have no main-stage term (RepDistiller trains them in a pre-stage only), so their main step is
 * the CE step; their pre-stage step is timed separately as `ab (pre-stage)` / `fsp (pre-stage)`.
 *
 * Usage: pnpm bench [--rounds 2] [--steps 4]
 */
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { createDataset } from '@kd/data';
import { distillStudent, type LoaderFactory, type ObjectiveSpec } from '../src/index';
import { seededRandom, tinyModel } from '../test/tiny-model';

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const rounds = argument('rounds', 2);
const steps = argument('steps', 4);
const batchSize = 16;
const size = 16;
const numClasses = 10;

tf.env().set('PROD', true);
await tf.setBackend('cpu');
await tf.ready();

const random = seededRandom(1);
const train = createDataset({
  images: Uint8Array.from({ length: 2 * batchSize * size * size * 3 }, () => Math.floor(256 * random())),
  labels: Int32Array.from({ length: 2 * batchSize }, (_, index) => index % numClasses),
  height: size,
  width: size,
  channels: 3,
  classNames: Array.from({ length: numClasses }, (_, index) => `c${index}`),
});
const pixels = Float32Array.from(train.images.subarray(0, batchSize * size * size * 3), (value) => value / 255);

/** The same batch `steps` times (fresh tensors each time, freed by the batch's `dispose()` the trainer calls). */
const repeatedBatches: LoaderFactory = (_dataset, options) => {
  const count = options.shuffle ? steps : 1;
  return (function* () {
    for (let step = 0; step < count; step++) {
      const images = tf.tensor4d(pixels, [batchSize, size, size, 3]);
      const labels = tf.tensor1d(train.labels.subarray(0, batchSize), 'int32');
      const indices = train.indices.subarray(0, batchSize);
      yield { images, labels, indices, dispose: () => tf.dispose([images, labels]) };
    }
  })();
};

const ce: ObjectiveSpec = { method: 'ce', weight: 1 };
const variants: { name: string; objectives: ObjectiveSpec[]; preStage?: boolean }[] = [
  { name: 'ce', objectives: [ce] },
  { name: 'kd', objectives: [ce, { method: 'kd', weight: 0.9 }] },
  { name: 'dkd', objectives: [ce, { method: 'dkd', weight: 1 }] },
  { name: 'at', objectives: [ce, { method: 'at', weight: 1000 }] },
  { name: 'sp', objectives: [ce, { method: 'sp', weight: 3000 }] },
  { name: 'rkd', objectives: [ce, { method: 'rkd', weight: 1 }] },
  { name: 'pkt', objectives: [ce, { method: 'pkt', weight: 30000 }] },
  { name: 'nst', objectives: [ce, { method: 'nst', weight: 50 }] },
  { name: 'fitnet', objectives: [ce, { method: 'fitnet', weight: 100, options: { hintLayer: 1 } }] },
  { name: 'vid', objectives: [ce, { method: 'vid', weight: 1 }] },
  { name: 'vidlp', objectives: [ce, { method: 'vidlp', weight: 1 }] },
  { name: 'cc', objectives: [ce, { method: 'cc', weight: 0.02 }] },
  { name: 'crd (K = 16384 capped to 63)', objectives: [ce, { method: 'crd', weight: 0.8 }] },
  { name: 'icd', objectives: [ce, { method: 'icd', weight: 1 }] },
  { name: 'mimkd', objectives: [ce, { method: 'mimkd', weight: 1 }] },
  { name: 'ft', objectives: [ce, { method: 'ft', weight: 200, options: { preStageEpochs: 0 } }] },
  {
    name: 'ab (pre-stage)',
    objectives: [ce, { method: 'ab', weight: 1, options: { preStageEpochs: 1 } }],
    preStage: true,
  },
  {
    name: 'fsp (pre-stage)',
    objectives: [ce, { method: 'fsp', weight: 1, options: { preStageEpochs: 1 } }],
    preStage: true,
  },
];

// AB needs equal pre-activation shapes and FSP equal channels: their teacher has the student's width.
const teacherWide = tinyModel({ seed: 2, width: 16, numClasses, channels: 3, name: 'teacher' });
const teacherSame = tinyModel({ seed: 3, width: 8, numClasses, channels: 3, name: 'teacher' });

/**
 * CPU time of this process (user + system) in ms. The cpu backend computes synchronously on the main thread, so
 * this is the step's own work, far less sensitive to other processes on a shared machine than wall time.
 */
function cpuMilliseconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

async function timeVariant(variant: (typeof variants)[number]): Promise<number[]> {
  const student = tinyModel({ seed: 1, width: 8, numClasses, channels: 3, name: 'student' });
  const times: number[] = [];
  let last = 0;
  let stepIndex = 0;
  const record = () => {
    const now = cpuMilliseconds();
    if (stepIndex++ > 0) times.push(now - last);
    last = now;
  };
  try {
    await distillStudent({
      student,
      teacher: variant.preStage ? teacherSame : teacherWide,
      data: { train },
      objectives: variant.objectives,
      epochs: 1,
      batchSize,
      loader: repeatedBatches,
      measureTeacherCmi: false,
      progress: variant.preStage ? { onStep: record, onEpochEnd: () => undefined } : false,
      ...(variant.preStage ? {} : { onStepEnd: record }),
    });
  } finally {
    student.dispose();
  }
  // A pre-stage variant also runs one main epoch (CE only): keep its pre-stage steps only.
  return variant.preStage ? times.slice(0, steps - 1) : times;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const samples = new Map<string, number[]>(variants.map((variant) => [variant.name, []]));
const tensorsBefore = tf.memory().numTensors;
for (let round = 0; round < rounds; round++) {
  for (const variant of variants) samples.get(variant.name)!.push(...(await timeVariant(variant)));
  process.stderr.write(`round ${round + 1}/${rounds} done\n`);
}
const base = median(samples.get('ce')!);
console.log(
  `@kd/trainer bench: distillStudent step, batch ${batchSize}, ${size}×${size}×3, student width 8 / teacher width 16, backend ${tf.getBackend()}`,
);
console.log(
  `median over ${rounds} rounds × ${steps - 1} timed steps of process CPU time; CE step = ${base.toFixed(1)} ms`,
);
console.log('| objective | step CPU ms | ratio to CE |');
console.log('|---|---|---|');
for (const variant of variants) {
  const value = median(samples.get(variant.name)!);
  console.log(`| ${variant.name} | ${value.toFixed(1)} | ${(value / base).toFixed(2)} |`);
}
const leaked = tf.memory().numTensors - tensorsBefore;
console.log(`tensors leaked over the whole bench: ${leaked}`);
teacherWide.dispose();
teacherSame.dispose();
