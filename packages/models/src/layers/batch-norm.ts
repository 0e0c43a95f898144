/**
 * Batch normalisation over the channels of NHWC tensors with PyTorch's semantics and defaults.
 */
import * as tf from '@tensorflow/tfjs-core';
import { constantInitializer } from '../initializers';
import type { Scope } from '../variable-store';

export interface BatchNorm2dOptions {
  channels: number;
  /** Weight of the new batch statistic in the running average. Default 0.1 (PyTorch). */
  momentum?: number;
  /** Added to the variance. Default 1e-5 (PyTorch). */
  epsilon?: number;
}

/**
 * Training mode: with μ, σ² the batch mean and (biased) variance over N·H·W positions per channel,
 * y = (x − μ)·γ/√(σ² + ε) + β, and the running statistics move towards the batch ones:
 * runningMean ← (1 − m)·runningMean + m·μ, runningVar ← (1 − m)·runningVar + m·σ²·n/(n − 1) (the unbiased
 * variance, n = N·H·W), as PyTorch does.
 * Inference mode: y = x·s + (β − runningMean·s), s = γ/√(runningVar + ε); nothing is updated.
 *
 * γ (`weight`) and β (`bias`) are trainable; `running_mean` and `running_var` are not (PyTorch's names).
 *
 * @example
 * const bn = new BatchNorm2d(store.scope('bn1'), { channels: 16 });
 * const y = bn.apply(x, true); // updates bn.runningMean, bn.runningVar
 */
export class BatchNorm2d {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly channels: number;
  readonly momentum: number;
  readonly epsilon: number;
  private readonly name: string;

  constructor(scope: Scope, { channels, momentum = 0.1, epsilon = 1e-5 }: BatchNorm2dOptions) {
    this.channels = channels;
    this.momentum = momentum;
    this.epsilon = epsilon;
    this.name = scope.prefix;
    this.gamma = scope.variable('weight', [channels], constantInitializer(1));
    this.beta = scope.variable('bias', [channels], constantInitializer(0));
    this.runningMean = scope.variable('running_mean', [channels], constantInitializer(0), false);
    this.runningVar = scope.variable('running_var', [channels], constantInitializer(1), false);
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    if (!training) {
      const scale = tf.mul(this.gamma, tf.rsqrt(tf.add(this.runningVar, this.epsilon)));
      const shift = tf.sub(this.beta, tf.mul(this.runningMean, scale));
      return tf.add(tf.mul(x, scale), shift);
    }
    const [batch, height, width] = x.shape;
    const count = batch * height * width;
    if (count < 2) {
      throw new Error(
        `BatchNorm2d '${this.name}': training mode needs more than one value per channel, got input shape [${x.shape.join(',')}]`,
      );
    }
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const scale = tf.mul(this.gamma, tf.rsqrt(tf.add(variance, this.epsilon)));
    const y = tf.add(tf.mul(tf.sub(x, mean), scale), this.beta);
    // The update does not feed the output, so a surrounding gradient tape never differentiates through it.
    const keep = 1 - this.momentum;
    this.runningMean.assign(tf.add(tf.mul(this.runningMean, keep), tf.mul(mean, this.momentum)));
    const unbiased = (this.momentum * count) / (count - 1);
    this.runningVar.assign(tf.add(tf.mul(this.runningVar, keep), tf.mul(variance, unbiased)));
    return y as tf.Tensor4D;
  }
}
