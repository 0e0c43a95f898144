import type * as tf from '@tensorflow/tfjs-core';
import type { Scope } from '../variable-store';
import { BatchNorm2d } from './batch-norm';
import { Conv2d } from './conv2d';

/**
 * The residual blocks' projection shortcut: a 1×1 conv (no bias) with the block's stride, then BN, under the
 * PyTorch names `<scope>.0` and `<scope>.1` (RepDistiller calls the scope `downsample` in `resnet.py` and
 * `shortcut` in `resnetv2.py`).
 */
export class ProjectionShortcut {
  private readonly conv: Conv2d;
  private readonly bn: BatchNorm2d;

  private constructor(scope: Scope, inChannels: number, outChannels: number, stride: number) {
    this.conv = new Conv2d(scope.child(0), { inChannels, outChannels, kernelSize: 1, stride });
    this.bn = new BatchNorm2d(scope.child(1), { channels: outChannels });
  }

  /** The shortcut when the block changes the shape (stride ≠ 1 or new channels); undefined for the identity. */
  static ifNeeded(
    scope: Scope,
    inChannels: number,
    outChannels: number,
    stride: number,
  ): ProjectionShortcut | undefined {
    return stride !== 1 || inChannels !== outChannels
      ? new ProjectionShortcut(scope, inChannels, outChannels, stride)
      : undefined;
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return this.bn.apply(this.conv.apply(x), training);
  }
}
