/**
 * Tiny models and data for the trainer's tests: a KdModel-conforming two-conv net with batch norm (so running
 * statistics must be checkpointed) and a 4-class synthetic image problem that such a net solves in a few epochs.
 */
import { createDataset, type Dataset } from '@kd/data';
import type { KdModel, ModelOutput } from '@kd/models';
import { seededRandom, tf } from '@kd/test-utils';

function initialised(shape: number[], scale: number, random: () => number): tf.Variable {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let index = 0; index < size; index++) values[index] = (2 * random() - 1) * scale;
  return tf.tidy(() => tf.variable(tf.tensor(values, shape), true));
}

/**
 * conv3×3(C→w) ReLU → conv3×3 stride 2 (w→2w) BN ReLU → global average → dense.
 * features: [f0 [N,H,W,w], f1 [N,H/2,W/2,2w], pooled [N,2w]]; preact: [BN output of stage 1].
 */
export function tinyModel({ seed, width = 4, numClasses = 4, channels = 1, name = 'tiny' }: {
  seed: number;
  width?: number;
  numClasses?: number;
  channels?: number;
  name?: string;
}): KdModel {
  const random = seededRandom(seed);
  const kernel1 = initialised([3, 3, channels, width], Math.sqrt(6 / (9 * channels)), random);
  const kernel2 = initialised([3, 3, width, 2 * width], Math.sqrt(6 / (9 * width)), random);
  const gamma = tf.tidy(() => tf.variable(tf.ones([2 * width]), true));
  const beta = tf.tidy(() => tf.variable(tf.zeros([2 * width]), true));
  const dense = initialised([2 * width, numClasses], Math.sqrt(6 / (2 * width)), random);
  const bias = tf.tidy(() => tf.variable(tf.zeros([numClasses]), true));
  const runningMean = tf.tidy(() => tf.variable(tf.zeros([2 * width]), false));
  const runningVariance = tf.tidy(() => tf.variable(tf.ones([2 * width]), false));
  const trainableVariables = [kernel1, kernel2, gamma, beta, dense, bias];
  return {
    name,
    numClasses,
    inputChannels: channels,
    trainableVariables,
    nonTrainableVariables: [runningMean, runningVariance],
    apply(images, { training }): ModelOutput {
      return tf.tidy(() => {
        const f0 = tf.relu(tf.conv2d(images, kernel1 as tf.Tensor4D, 1, 'same'));
        const conv = tf.conv2d(f0, kernel2 as tf.Tensor4D, 2, 'same');
        let mean: tf.Tensor;
        let variance: tf.Tensor;
        if (training) {
          const moments = tf.moments(conv, [0, 1, 2]);
          mean = moments.mean;
          variance = moments.variance;
          const count = conv.size / (2 * width);
          // PyTorch: running ← 0.9·running + 0.1·batch (unbiased variance)
          runningMean.assign(tf.add(tf.mul(0.9, runningMean), tf.mul(0.1, mean)));
          runningVariance.assign(tf.add(tf.mul(0.9, runningVariance), tf.mul(0.1 * count / Math.max(count - 1, 1), variance)));
        } else {
          mean = runningMean;
          variance = runningVariance;
        }
        const preact = tf.add(tf.mul(gamma, tf.div(tf.sub(conv, mean), tf.sqrt(tf.add(variance, 1e-5)))), beta);
        const f1 = tf.relu(preact);
        const pooled = tf.mean(f1, [1, 2]);
        const logits = tf.add(tf.matMul(pooled, dense), bias) as tf.Tensor2D;
        return { logits, features: [f0, f1, pooled], preactFeatures: [preact] };
      });
    },
    countParams: () => trainableVariables.reduce((sum, variable) => sum + variable.size, 0),
    dispose: () => tf.dispose([...trainableVariables, runningMean, runningVariance]),
  };
}

/**
 * 4 classes of 8×8 grey textures over noise: horizontal stripes, vertical stripes, a checkerboard and diagonal
 * stripes, each with a random phase and contrast, so a conv net with global pooling solves it in a few epochs.
 */
export function syntheticDataset({ count, seed, size = 8, numClasses = 4, noise = 40 }: {
  count: number;
  seed: number;
  size?: number;
  numClasses?: number;
  /** Amplitude of the uniform pixel noise (the texture's contrast is 90–170): larger is harder. */
  noise?: number;
}): Dataset {
  const random = seededRandom(seed);
  const images = new Uint8Array(count * size * size);
  const labels = new Int32Array(count);
  const patterns = [
    (y: number, _x: number) => y % 2,
    (_y: number, x: number) => x % 2,
    (y: number, x: number) => (x + y) % 2,
    (y: number, x: number) => Math.floor((x + y) / 2) % 2,
  ];
  for (let sample = 0; sample < count; sample++) {
    const label = sample % numClasses;
    labels[sample] = label;
    const pattern = patterns[label % patterns.length]!;
    const phase = random() < 0.5 ? 0 : 1;
    const contrast = 90 + 80 * random();
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const on = (pattern(y + phase, x) + (label >= patterns.length ? 1 : 0)) % 2;
        images[sample * size * size + y * size + x] = Math.min(255, Math.round(noise * random() + on * contrast));
      }
    }
  }
  return createDataset({
    images,
    labels,
    height: size,
    width: size,
    channels: 1,
    classNames: Array.from({ length: numClasses }, (_, index) => `class${index}`),
  });
}

/** Copies of every variable value (to compare runs bit for bit). */
export function snapshot(model: KdModel): Float32Array[] {
  return [...model.trainableVariables, ...model.nonTrainableVariables].map((variable) => (variable.dataSync() as Float32Array).slice());
}
