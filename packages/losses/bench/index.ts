/**
 * `pnpm bench`: the added cost of every loss and regularizer of @kd/losses, as the ratio
 * (training step with X) / (plain training step), all measured in one run.
 *
 * The plain step is a small conv net of our own, forward + backward + SGD update at batch 64 on the pure-JS
 * cpu backend: 16×16×3 inputs (32×32 is very slow on that backend), conv3×3 3→16, conv3×3 s2 16→32,
 * conv3×3 s2 32→64 (ReLU after each; written as im2col + matMul, see `conv3x3`), global average pool,
 * dense 64→10, cross-entropy. The regularizers' own heads use tf.conv2d as a library should. The teacher is the
 * same net at twice the width (features 32/64/128, vector 128), run once outside the timed steps.
 * Variants run interleaved, round by round, and each figure is the median over the rounds, so drift from
 * other processes on the machine affects every variant alike.
 *
 * Usage: pnpm bench [--rounds 3] [--warmup 1] [--no-value-checks]
 */
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import {
  abLoss,
  attentionTransferLoss,
  CentroidTracker,
  conditionalMutualInformation,
  CorrelationCongruenceRegularizer,
  CrdRegularizer,
  crossEntropy,
  dkdLoss,
  FactorTransferRegularizer,
  FitNetRegularizer,
  fspLoss,
  IcdRegularizer,
  infoNceLoss,
  kdLoss,
  mcmiLoss,
  MimkdRegularizer,
  nstLoss,
  pktLoss,
  rkdLoss,
  similarityPreservingLoss,
  VidLpRegularizer,
  VidRegularizer,
} from '../src/index';

tf.env().set('IS_TEST', true); // silence the cpu backend's "install tfjs-node" banner

const args = process.argv.slice(2);
const roundsFlag = args.indexOf('--rounds');
const ROUNDS = roundsFlag >= 0 ? Number(args[roundsFlag + 1]) : 3;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1)
  throw new Error(`bench: --rounds must be a positive integer, got ${args[roundsFlag + 1]}`);
const warmupFlag = args.indexOf('--warmup');
const WARMUP = warmupFlag >= 0 ? Number(args[warmupFlag + 1]) : 1;
if (!Number.isInteger(WARMUP) || WARMUP < 0)
  throw new Error(`bench: --warmup must be a non-negative integer, got ${args[warmupFlag + 1]}`);
const VALUE_CHECKS = !args.includes('--no-value-checks');
/** The `checkValues` option of every call and regularizer below. */
const checks = { checkValues: VALUE_CHECKS };

const BATCH = 64;
const SIZE = 16;
const CLASSES = 10;
let seed = 1;

/** A conv net's weights, He-uniform from a counter seed (tf's seeded initialiser). */
function makeNet(widths: [number, number, number], trainable: boolean) {
  const init = (shape: number[], fanIn: number) => {
    const bound = Math.sqrt(6 / fanIn);
    return tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', seed++), trainable);
  };
  const [a, b, c] = widths;
  return {
    conv1: init([3, 3, 3, a], 27),
    conv2: init([3, 3, a, b], 9 * a),
    conv3: init([3, 3, b, c], 9 * b),
    dense: init([c, CLASSES], c),
    bias: tf.variable(tf.zeros([CLASSES]), trainable),
  };
}
type Net = ReturnType<typeof makeNet>;

/**
 * A 3×3 convolution, padding 1, as im2col with plain ops: the nine shifted (strided) views of the padded
 * input are concatenated along channels and multiplied by the kernel reshaped to [9·C_in, C_out]. The cpu
 * backend's own Conv2DBackpropFilter kernel is one to two orders of magnitude slower than this at batch 64,
 * and would dominate every ratio.
 */
function conv3x3(x: tf.Tensor4D, kernel: tf.Tensor, stride: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const outH = Math.ceil(h / stride);
  const outW = Math.ceil(w / stride);
  const padded = tf.pad(x, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
  const views: tf.Tensor4D[] = [];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      // rows i, i+s, i+2s, …: a slice of s·outH rows, reshaped so the stride is its own axis, then index 0
      // of that axis (tfjs registers no StridedSlice gradient)
      const window = tf.slice(padded, [0, i, j, 0], [n, stride * outH, stride * outW, c]);
      const strided = tf.slice(
        tf.reshape(window, [n, outH, stride, outW, stride, c]),
        [0, 0, 0, 0, 0, 0],
        [n, outH, 1, outW, 1, c],
      );
      views.push(tf.reshape(strided, [n, outH, outW, c]));
    }
  }
  const columns = tf.reshape(tf.concat(views, 3), [n * outH * outW, 9 * c]);
  const outChannels = kernel.shape[3] as number;
  return tf.reshape(tf.matMul(columns, tf.reshape(kernel, [9 * c, outChannels])), [n, outH, outW, outChannels]);
}

/** Stage outputs (pre- and post-ReLU), the pooled vector and the logits. */
function forward(net: Net, images: tf.Tensor4D) {
  const pre1 = conv3x3(images, net.conv1, 1);
  const f1 = tf.relu(pre1);
  const pre2 = conv3x3(f1, net.conv2, 2);
  const f2 = tf.relu(pre2);
  const pre3 = conv3x3(f2, net.conv3, 2);
  const f3 = tf.relu(pre3);
  const vector = tf.mean(f3, [1, 2]) as tf.Tensor2D;
  const logits = tf.add(tf.matMul(vector, net.dense as tf.Tensor2D), net.bias) as tf.Tensor2D;
  return { pre: [pre1, pre2, pre3], maps: [f1, f2, f3], vector, logits };
}

const student = makeNet([16, 32, 64], true);
const studentVariables = Object.values(student);
const images = tf.randomUniform([BATCH, SIZE, SIZE, 3], 0, 1, 'float32', seed++) as tf.Tensor4D;
const labels = tf.tensor1d(
  Array.from({ length: BATCH }, (_, index) => index % CLASSES),
  'int32',
);
// the teacher's outputs are constants: computed once, outside every gradient closure
const teacherNet = makeNet([32, 64, 128], false);
const teacher = tf.tidy(() => {
  const out = forward(teacherNet, images);
  return { maps: out.maps, vector: out.vector, logits: out.logits };
});
// for the methods that need teacher maps of the student's exact shape (AB, FSP): a second student-sized net
const twinNet = makeNet([16, 32, 64], false);
const twin = tf.tidy(() => {
  const out = forward(twinNet, images);
  return { pre: out.pre, maps: out.maps };
});
const tracker = new CentroidTracker({ numClasses: CLASSES, ...checks });
tf.tidy(() => tracker.update(teacher.logits, labels));
const fixedCentroids = tracker.centroids();

const vid = new VidRegularizer({ studentChannels: 32, teacherChannels: 64, seed: 1, ...checks });
const vidLp = new VidLpRegularizer({ studentDim: 64, teacherDim: CLASSES, seed: 1, ...checks });
const DATASET = 50000;
const datasetLabels = Int32Array.from({ length: DATASET }, (_, index) => index % 100);
const crdFull = new CrdRegularizer({
  studentDim: 64,
  teacherDim: 128,
  datasetSize: DATASET,
  labels: datasetLabels,
  seed: 1,
  ...checks,
});
const crdSmall = new CrdRegularizer({
  studentDim: 64,
  teacherDim: 128,
  datasetSize: 5000,
  labels: datasetLabels.subarray(0, 5000),
  numNegatives: 4096,
  seed: 1,
  ...checks,
});
const icd = new IcdRegularizer({ studentDim: 64, teacherDim: 128, seed: 1, ...checks });
const mimkdJsd = new MimkdRegularizer({
  studentDim: 64,
  teacherChannels: 128,
  embedDim: 128,
  estimator: 'jsd',
  seed: 1,
  ...checks,
});
const mimkdNce = new MimkdRegularizer({
  studentDim: 64,
  teacherChannels: 128,
  embedDim: 128,
  estimator: 'infonce',
  seed: 1,
  ...checks,
});
const fitnet = new FitNetRegularizer({ studentShape: [8, 8, 32], teacherShape: [8, 8, 64], seed: 1, ...checks });
const cc = new CorrelationCongruenceRegularizer({ studentDim: 64, teacherDim: 128, seed: 1, ...checks });
const ft = new FactorTransferRegularizer({ studentChannels: 64, teacherChannels: 128, seed: 1, ...checks });
let batchStart = 0;
const nextIndices = (size: number) => {
  const indices = Int32Array.from({ length: BATCH }, (_, index) => (batchStart + index) % size);
  batchStart += BATCH;
  return indices;
};

type Out = ReturnType<typeof forward>;
interface Variant {
  name: string;
  extra?: (out: Out) => tf.Scalar;
  variables?: tf.Variable[];
  after?: () => void;
  indices?: () => void;
}
let crdIndices = new Int32Array(BATCH);
const [t1, t2, t3] = teacher.maps as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
const variants: Variant[] = [
  { name: 'plain step (CE only)' },
  { name: 'kdLoss', extra: (o) => kdLoss(o.logits, teacher.logits, checks) },
  {
    name: 'conditionalMutualInformation (fixed centroids)',
    extra: (o) =>
      conditionalMutualInformation(o.logits, labels, { numClasses: CLASSES, centroids: fixedCentroids, ...checks }),
  },
  { name: 'mcmiLoss (batch centroids)', extra: (o) => mcmiLoss(o.logits, labels, { numClasses: CLASSES, ...checks }) },
  { name: 'dkdLoss', extra: (o) => dkdLoss(o.logits, teacher.logits, labels, checks) },
  {
    name: 'infoNceLoss (64-d vectors)',
    extra: (o) => infoNceLoss(o.vector, tf.slice(teacher.vector, [0, 0], [BATCH, 64]), checks),
  },
  { name: 'attentionTransferLoss (3 stages)', extra: (o) => attentionTransferLoss(o.maps, [t1, t2, t3], checks) },
  { name: 'similarityPreservingLoss', extra: (o) => similarityPreservingLoss(o.maps[2] as tf.Tensor, t3, checks) },
  { name: 'rkdLoss', extra: (o) => rkdLoss(o.vector, teacher.vector, checks) },
  { name: 'pktLoss', extra: (o) => pktLoss(o.vector, teacher.vector, checks) },
  { name: 'nstLoss (3 stages)', extra: (o) => nstLoss(o.maps, [t1, t2, t3], checks) },
  { name: 'abLoss (3 stages, same-shape teacher)', extra: (o) => abLoss(o.pre, twin.pre, checks) },
  { name: 'fspLoss (3 stages, same-shape teacher)', extra: (o) => fspLoss(o.maps, twin.maps, checks) },
  {
    name: 'VidRegularizer (8×8×32 → 8×8×64)',
    extra: (o) => vid.loss(o.maps[1] as tf.Tensor, t2),
    variables: vid.trainableVariables,
  },
  {
    name: 'VidLpRegularizer (64 → 10 logits)',
    extra: (o) => vidLp.loss(o.vector, teacher.logits),
    variables: vidLp.trainableVariables,
  },
  {
    name: 'CrdRegularizer (N 50000, K 16384) + updateMemory',
    indices: () => (crdIndices = nextIndices(DATASET)),
    extra: (o) => crdFull.loss(o.vector, teacher.vector, crdIndices),
    variables: crdFull.trainableVariables,
    after: () => crdFull.updateMemory(),
  },
  {
    name: 'CrdRegularizer (N 5000, K 4096) + updateMemory',
    indices: () => (crdIndices = nextIndices(5000)),
    extra: (o) => crdSmall.loss(o.vector, teacher.vector, crdIndices),
    variables: crdSmall.trainableVariables,
    after: () => crdSmall.updateMemory(),
  },
  { name: 'IcdRegularizer', extra: (o) => icd.loss(o.vector, teacher.vector), variables: icd.trainableVariables },
  {
    name: 'MimkdRegularizer (jsd, 4×4×128 teacher map)',
    extra: (o) => mimkdJsd.loss(o.vector, t3),
    variables: mimkdJsd.trainableVariables,
  },
  {
    name: 'MimkdRegularizer (infonce)',
    extra: (o) => mimkdNce.loss(o.vector, t3),
    variables: mimkdNce.trainableVariables,
  },
  {
    name: 'FitNetRegularizer (8×8×32 → 8×8×64)',
    extra: (o) => fitnet.loss(o.maps[1] as tf.Tensor, t2),
    variables: fitnet.trainableVariables,
  },
  {
    name: 'CorrelationCongruenceRegularizer',
    extra: (o) => cc.loss(o.vector, teacher.vector),
    variables: cc.trainableVariables,
  },
  {
    name: 'FactorTransferRegularizer (translator)',
    extra: (o) => ft.loss(o.maps[2] as tf.Tensor, t3),
    variables: ft.trainableVariables,
  },
];

const optimizer = tf.train.sgd(0.01);
function step(variant: Variant): number {
  variant.indices?.();
  const start = performance.now();
  optimizer.minimize(
    () => {
      const out = forward(student, images);
      const ce = crossEntropy(out.logits, labels, checks);
      return (variant.extra ? tf.add(ce, variant.extra(out)) : ce) as tf.Scalar;
    },
    false,
    [...studentVariables, ...(variant.variables ?? [])],
  );
  variant.after?.();
  return performance.now() - start;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

console.log(
  `@kd/losses bench: backend ${tf.getBackend()}, batch ${BATCH}, ${SIZE}×${SIZE}×3 inputs, ${ROUNDS} rounds (+${WARMUP} warm-up), value checks ${VALUE_CHECKS ? 'on' : 'off'}`,
);
for (let round = 0; round < WARMUP; round++) {
  for (const variant of variants) {
    // warm-up: kernels, CRD's Z, first allocations
    const ms = step(variant);
    process.stderr.write(`warm-up ${variant.name}: ${ms.toFixed(0)} ms\n`);
  }
}
const tensorsBefore = tf.memory().numTensors;
const times = variants.map(() => [] as number[]);
for (let round = 0; round < ROUNDS; round++) {
  variants.forEach((variant, index) => {
    const ms = step(variant);
    (times[index] as number[]).push(ms);
    process.stderr.write(`round ${round + 1} ${variant.name}: ${ms.toFixed(0)} ms\n`);
  });
}
const tensorsAfter = tf.memory().numTensors;
const plain = median(times[0] as number[]);
const rows = variants.map((variant, index) => {
  const ms = median(times[index] as number[]);
  return { method: variant.name, 'ms/step (median)': ms.toFixed(1), 'ratio to plain': (ms / plain).toFixed(2) };
});
console.table(rows);
console.log(
  `tensors alive before/after the timed rounds: ${tensorsBefore}/${tensorsAfter}${tensorsBefore === tensorsAfter ? ' (no leak)' : ' (LEAK)'}`,
);
console.log(`CRD memory banks: 2 × 50000 × 128 float32 = ${((2 * 50000 * 128 * 4) / 1e6).toFixed(1)} MB`);
