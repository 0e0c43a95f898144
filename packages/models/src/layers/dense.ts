/**
 * Fully connected layer y = x·W + b with W stored `[inFeatures, outFeatures]`.
 */
import { assertKnownOptions } from '@kd/internal';
import * as tf from '@tensorflow/tfjs-core';
import { constantInitializer, normalInitializer, torchDefaultUniform } from '../initializers';
import type { Scope } from '../variable-store';

/** How a dense layer's weights start. */
export type DenseInit =
  /** PyTorch's default: weight and bias uniform in ±1/√inFeatures (ResNets, ShuffleNets). */
  | 'torchDefault'
  /** PyTorch's default weight, bias 0 (WRN). */
  | 'torchDefaultZeroBias'
  /** Weight normal(0, 0.01²), bias 0 (VGG, MobileNetV2). */
  | 'normal0.01';

export interface DenseOptions {
  inFeatures: number;
  outFeatures: number;
  /** Default 'torchDefault'. */
  init?: DenseInit;
}

/**
 * y[n, o] = b[o] + Σ_i x[n, i]·W[i, o].
 *
 * @example
 * const fc = new Dense(store.scope('fc'), { inFeatures: 64, outFeatures: 100 });
 * const logits = fc.apply(pooled);
 */
export class Dense {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(scope: Scope, options: DenseOptions) {
    assertKnownOptions('Dense', options, ['inFeatures', 'outFeatures', 'init']);
    const { inFeatures, outFeatures, init = 'torchDefault' } = options;
    const uniform = torchDefaultUniform(inFeatures);
    this.weight = scope.variable(
      'weight',
      [inFeatures, outFeatures],
      init === 'normal0.01' ? normalInitializer(0.01) : uniform,
    );
    this.bias = scope.variable('bias', [outFeatures], init === 'torchDefault' ? uniform : constantInitializer(0));
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.weight as tf.Tensor2D), this.bias);
  }
}
