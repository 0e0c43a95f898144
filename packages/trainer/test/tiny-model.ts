/**
 * The tests' and the bench's tiny KdModel: a two-conv net with batch norm (so running statistics must be
 * checkpointed). No vitest import, so the bench can load it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KdModel, ModelOutput } from '@kd/models';

/** mulberry32: deterministic numbers in [0, 1) from a seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function initialised(shape: number[], scale: number, random: () => number): tf.Variable {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let index = 0; index < size; index++) values[index] = (2 * random() - 1) * scale;
  return tf.tidy(() => tf.variable(tf.tensor(values, shape), true));
}

/**
 * conv3×3(C→w) ReLU → conv3×3 stride 2 (w→2w) BN ReLU → global average → dense.
 * stem f0 [N,H,W,w], stages [f1 [N,H/2,W/2,2w]], pooled [N,2w] (features: [f0, f1, pooled]); preactivations: [BN
 * output of stage 1].
 */
export function tinyModel({
  seed,
  width = 4,
  numClasses = 4,
  channels = 1,
  name = 'tiny',
}: {
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
          runningVariance.assign(
            tf.add(tf.mul(0.9, runningVariance), tf.mul((0.1 * count) / Math.max(count - 1, 1), variance)),
          );
        } else {
          mean = runningMean;
          variance = runningVariance;
        }
        const preact = tf.add(tf.mul(gamma, tf.div(tf.sub(conv, mean), tf.sqrt(tf.add(variance, 1e-5)))), beta);
        const f1 = tf.relu(preact);
        const pooled = tf.mean(f1, [1, 2]);
        const logits = tf.add(tf.matMul(pooled, dense), bias) as tf.Tensor2D;
        return {
          logits,
          features: [f0, f1, pooled],
          stem: f0,
          stages: [f1],
          pooled: pooled as tf.Tensor2D,
          preactivations: [preact],
        };
      });
    },
    countParams: () => trainableVariables.reduce((sum, variable) => sum + variable.size, 0),
    dispose: () => tf.dispose([...trainableVariables, runningMean, runningVariance]),
  };
}
