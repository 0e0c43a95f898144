/**
 * Batch normalisation over the channels of NHWC tensors with PyTorch's semantics and defaults.
 */
import { BATCH_NORM_TRAINING_GRAD_KERNEL, BATCH_NORM_TRAINING_KERNEL, assertKnownOptions } from '@kd/internal';
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
 * Inference mode: y = (x − runningMean)·γ/√(runningVar + ε) + β; nothing is updated.
 *
 * The training-mode gradient is written out (see `gradient`), so the backward pass keeps only the input
 * alive: autodiff of the formula would hold about five full-size intermediates per BN, which puts
 * resnet32x4 at batch 64 past the wasm backend's memory.
 *
 * When the active backend registers the `KdBatchNormTraining` and `KdBatchNormTrainingGrad` kernels
 * (`@kd/wasm-training` does for wasm), training mode runs them instead: the same formulas in two passes over
 * the activations each way, without intermediate tensors.
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

  constructor(scope: Scope, options: BatchNorm2dOptions) {
    assertKnownOptions('BatchNorm2d', options, ['channels', 'momentum', 'epsilon']);
    const { channels, momentum = 0.1, epsilon = 1e-5 } = options;
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
      // One fused kernel: a teacher runs this on every step of distillation.
      return tf.batchNorm(
        x,
        this.runningMean as tf.Tensor1D,
        this.runningVar as tf.Tensor1D,
        this.beta as tf.Tensor1D,
        this.gamma as tf.Tensor1D,
        this.epsilon,
      );
    }
    const [batch, height, width] = x.shape;
    const count = batch * height * width;
    if (count < 2) {
      throw new Error(
        `BatchNorm2d '${this.name}': training mode needs more than one value per channel, got input shape [${x.shape.join(',')}]`,
      );
    }
    if (hasFusedKernels()) return this.applyFused(x);
    const normalize = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [input, gamma, beta, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
      const { mean, variance } = tf.moments(input, [0, 1, 2]);
      this.updateRunningStatistics(mean, variance, count);
      // Only the input is kept for the backward pass (autodiff of the formula would keep ~5 full-size
      // intermediates per BN); μ and σ² are recomputed there.
      save([input]);
      return {
        value: tf.batchNorm(input, mean, variance, beta, gamma, this.epsilon),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          this.gradient(dy as tf.Tensor4D, saved[0] as tf.Tensor4D, gamma, count),
      };
    });
    return normalize(x, this.gamma, this.beta) as tf.Tensor4D;
  }

  /** Training mode through the backend's fused kernels (see {@link hasFusedKernels}). */
  private applyFused(x: tf.Tensor4D): tf.Tensor4D {
    const normalize = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [input, gamma, beta, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
      const [value, mean, variance, runningMean, runningVariance] = tf
        .engine()
        .runKernel(
          BATCH_NORM_TRAINING_KERNEL,
          { x: input, scale: gamma, offset: beta, runningMean: this.runningMean, runningVariance: this.runningVar },
          { epsilon: this.epsilon, momentum: this.momentum },
        ) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
      this.runningMean.assign(runningMean);
      this.runningVar.assign(runningVariance);
      tf.dispose([runningMean, runningVariance]);
      save([input, mean, variance]);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.engine().runKernel(
            BATCH_NORM_TRAINING_GRAD_KERNEL,
            {
              dy,
              x: saved[0] as tf.Tensor,
              scale: gamma,
              mean: saved[1] as tf.Tensor,
              variance: saved[2] as tf.Tensor,
            },
            { epsilon: this.epsilon },
          ) as tf.Tensor[],
      };
    });
    return normalize(x, this.gamma, this.beta) as tf.Tensor4D;
  }

  /** running ← (1 − m)·running + m·batch, with the unbiased batch variance σ²·n/(n − 1). */
  private updateRunningStatistics(mean: tf.Tensor, variance: tf.Tensor, count: number): void {
    const keep = 1 - this.momentum;
    this.runningMean.assign(tf.add(tf.mul(this.runningMean, keep), tf.mul(mean, this.momentum)));
    const unbiased = (this.momentum * count) / (count - 1);
    this.runningVar.assign(tf.add(tf.mul(this.runningVar, keep), tf.mul(variance, unbiased)));
  }

  /**
   * Gradient of the training-mode transform, sums over the n = N·H·W positions, σ = √(σ² + ε), s = γ/σ:
   * ∂β = Σ dy, ∂γ = Σ dy·(x − μ)/σ = (Σ dy·x − μ·Σ dy)/σ,
   * ∂x = s·(dy − ∂β/n − x̂·∂γ/n) = s·dy + a·x + b with a = −s·∂γ/(nσ), b = −a·μ − s·∂β/n.
   */
  private gradient(dy: tf.Tensor4D, x: tf.Tensor4D, gamma: tf.Tensor1D, count: number): tf.Tensor[] {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const inverseStd = tf.rsqrt(tf.add(variance, this.epsilon));
    const sumDy = tf.sum(dy, [0, 1, 2]);
    const sumDyX = tf.sum(tf.mul(dy, x), [0, 1, 2]);
    const dGamma = tf.mul(tf.sub(sumDyX, tf.mul(mean, sumDy)), inverseStd);
    const s = tf.mul(gamma, inverseStd);
    const a = tf.neg(tf.div(tf.mul(tf.mul(s, dGamma), inverseStd), count));
    const b = tf.sub(tf.neg(tf.mul(a, mean)), tf.div(tf.mul(s, sumDy), count));
    const dx = tf.add(tf.add(tf.mul(dy, s), tf.mul(x, a)), b);
    return [dx, dGamma, sumDy];
  }
}

/** Whether the active backend registers both fused training-mode batch-norm kernels. */
function hasFusedKernels(): boolean {
  const backend = tf.getBackend();
  return (
    tf.getKernel(BATCH_NORM_TRAINING_KERNEL, backend) !== undefined &&
    tf.getKernel(BATCH_NORM_TRAINING_GRAD_KERNEL, backend) !== undefined
  );
}
