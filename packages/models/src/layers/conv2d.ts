/**
 * 2-D convolution with PyTorch semantics on NHWC tensors: symmetric zero padding, groups, optional bias.
 */
import { assertKnownOptions } from '@kd/internal';
import * as tf from '@tensorflow/tfjs-core';
import { constantInitializer, kaimingNormalFanOut, torchDefaultUniform } from '../initializers';
import type { Scope } from '../variable-store';

/** How a conv's weights start. */
export type ConvInit =
  /** std = √(2 / (kh·kw·outChannels)), bias 0 (ResNet, WRN, VGG, MobileNetV2). */
  | 'kaimingNormalFanOut'
  /** PyTorch's default: weight and bias uniform in ±1/√(kh·kw·inChannels/groups) (ShuffleNets). */
  | 'torchDefault';

export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  /** Default 1. */
  stride?: number;
  /** Zero padding on every side, as PyTorch's `padding`. Default 0. */
  padding?: number;
  /** Channel groups: inChannels and outChannels must both divide by it. Default 1. */
  groups?: number;
  /** Default false. */
  bias?: boolean;
  /** Default 'kaimingNormalFanOut'. */
  init?: ConvInit;
}

/**
 * y[n, i, j, o] = b[o] + Σ_{u,v,c} x_pad[n, i·s + u, j·s + v, g(o)·C_g + c] · w[u, v, c, o], where g(o) is
 * the group of output channel o and C_g = inChannels/groups. The weight is stored `[kh, kw, inChannels/groups,
 * outChannels]` (PyTorch's `[out, in/groups, kh, kw]` transposed).
 *
 * tfjs has no grouped convolution: groups == channels maps to `depthwiseConv2d`, other groups run one
 * convolution per group on channel slices and concatenate. A 1×1 stride-1 convolution is a matrix product
 * over the N·H·W positions, which is faster than conv2d and its gradients on the cpu and wasm backends.
 *
 * @example
 * const conv = new Conv2d(store.scope('conv1'), { inChannels: 3, outChannels: 16, kernelSize: 3, padding: 1 });
 * const y = conv.apply(images); // [N, 32, 32, 16]
 */
export class Conv2d {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number;
  readonly groups: number;

  constructor(scope: Scope, options: Conv2dOptions) {
    assertKnownOptions('Conv2d', options, [
      'inChannels',
      'outChannels',
      'kernelSize',
      'stride',
      'padding',
      'groups',
      'bias',
      'init',
    ]);
    const { inChannels, outChannels, kernelSize, stride = 1, padding = 0, groups = 1, bias = false } = options;
    const init = options.init ?? 'kaimingNormalFanOut';
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(
        `Conv2d: inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${groups}) in '${scope.prefix}'`,
      );
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernelSize;
    this.stride = stride;
    this.padding = padding;
    this.groups = groups;
    const fanIn = kernelSize * kernelSize * (inChannels / groups);
    const weightInit =
      init === 'kaimingNormalFanOut'
        ? kaimingNormalFanOut(kernelSize, kernelSize, outChannels)
        : torchDefaultUniform(fanIn);
    this.weight = scope.variable('weight', [kernelSize, kernelSize, inChannels / groups, outChannels], weightInit);
    this.bias = bias
      ? scope.variable(
          'bias',
          [outChannels],
          init === 'kaimingNormalFanOut' ? constantInitializer(0) : torchDefaultUniform(fanIn),
        )
      : undefined;
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const y = this.convolve(x);
    return this.bias === undefined ? y : tf.add(y, this.bias);
  }

  private convolve(x: tf.Tensor4D): tf.Tensor4D {
    const { groups, stride, padding, kernelSize, inChannels, outChannels } = this;
    const pad = padding === 0 ? 'valid' : padding;
    if (groups === 1) {
      if (kernelSize === 1 && stride === 1 && padding === 0) return pointwise(x, this.weight as tf.Tensor4D);
      return tf.conv2d(x, this.weight as tf.Tensor4D, stride, pad);
    }
    if (groups === inChannels && groups === outChannels) {
      const filter = tf.reshape(this.weight, [kernelSize, kernelSize, inChannels, 1]) as tf.Tensor4D;
      return tf.depthwiseConv2d(x, filter, stride, pad);
    }
    const inputs = tf.split(x, groups, 3) as tf.Tensor4D[];
    const filters = tf.split(this.weight, groups, 3) as tf.Tensor4D[];
    const outputs = inputs.map((input, group) => {
      const filter = filters[group] as tf.Tensor4D;
      if (kernelSize === 1 && stride === 1 && padding === 0) return pointwise(input, filter);
      return tf.conv2d(input, filter, stride, pad);
    });
    return tf.concat(outputs, 3);
  }
}

/** 1×1 stride-1 convolution as one matrix product: [N·H·W, Cin] × [Cin, Cout]. */
function pointwise(x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D {
  const [batch, height, width, inChannels] = x.shape;
  const outChannels = filter.shape[3];
  const rows = tf.reshape(x, [batch * height * width, inChannels]) as tf.Tensor2D;
  const product = tf.matMul(rows, tf.reshape(filter, [inChannels, outChannels]) as tf.Tensor2D);
  return tf.reshape(product, [batch, height, width, outChannels]);
}
