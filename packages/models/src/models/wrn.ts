/**
 * The wide ResNets of RepDistiller (`wrn.py`): wrn_depth_k with n = (depth − 4)/6 pre-activation blocks per
 * group, widths [16, 16k, 32k, 64k], strides 1, 2, 2, dropout 0, then BN → ReLU → global average pool →
 * linear.
 *
 * Block: a = ReLU(BN1(x)); out = conv3×3(ReLU(BN2(conv3×3(a)))) + (x if the shape is kept, else conv1×1(a))
 * (the shortcut of a widening block reads the activated input, as in the reference). Features: `stem` the conv1
 * output (no BN), `stages` the three group outputs (residual sums), the `pooled` vector. `preactivations`: each
 * group output passed through the BN that follows it (the next group's first BN1, then the final BN), i.e. before that ReLU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d } from '../layers/batch-norm';
import { Conv2d } from '../layers/conv2d';
import { Dense } from '../layers/dense';
import { globalAvgPool } from '../layers/pooling';
import type { Scope } from '../variable-store';
import { recordFeature, type ArchitectureBuilder } from '../zoo-model';

class PreactBlock {
  private readonly bn1: BatchNorm2d;
  private readonly conv1: Conv2d;
  private readonly bn2: BatchNorm2d;
  private readonly conv2: Conv2d;
  private readonly convShortcut: Conv2d | undefined;

  constructor(scope: Scope, inChannels: number, outChannels: number, stride: number) {
    this.bn1 = new BatchNorm2d(scope.child('bn1'), { channels: inChannels });
    this.conv1 = new Conv2d(scope.child('conv1'), { inChannels, outChannels, kernelSize: 3, stride, padding: 1 });
    this.bn2 = new BatchNorm2d(scope.child('bn2'), { channels: outChannels });
    this.conv2 = new Conv2d(scope.child('conv2'), { inChannels: outChannels, outChannels, kernelSize: 3, padding: 1 });
    this.convShortcut =
      inChannels === outChannels
        ? undefined
        : new Conv2d(scope.child('convShortcut'), { inChannels, outChannels, kernelSize: 1, stride });
  }

  /** Returns the block output and BN1(x), the normalised input before its ReLU. */
  apply(x: tf.Tensor4D, training: boolean): { output: tf.Tensor4D; normalizedInput: tf.Tensor4D } {
    const normalizedInput = this.bn1.apply(x, training);
    const activated = tf.relu(normalizedInput);
    const hidden = tf.relu(this.bn2.apply(this.conv1.apply(activated), training));
    const residual = this.conv2.apply(hidden);
    const shortcut = this.convShortcut ? this.convShortcut.apply(activated) : x;
    return { output: tf.add(residual, shortcut) as tf.Tensor4D, normalizedInput };
  }
}

/** Options of {@link wideResNet}. */
export interface WideResNetConfig {
  /** 6n + 4. */
  depth: number;
  widenFactor: number;
}

/** Builder of WRN-depth-widenFactor. */
export function wideResNet({ depth, widenFactor }: WideResNetConfig): ArchitectureBuilder {
  if ((depth - 4) % 6 !== 0) throw new Error(`wideResNet: depth must be 6n + 4, got ${depth}`);
  const blocksPerGroup = (depth - 4) / 6;
  const widths = [16, 16 * widenFactor, 32 * widenFactor, 64 * widenFactor];
  return (scope, { numClasses, inputChannels }) => {
    const conv1 = new Conv2d(scope.child('conv1'), {
      inChannels: inputChannels,
      outChannels: 16,
      kernelSize: 3,
      padding: 1,
    });
    const groups = [0, 1, 2].map((group) => {
      const layer = scope.child(`block${group + 1}`).child('layer');
      return Array.from({ length: blocksPerGroup }, (_, index) => {
        const inChannels = (index === 0 ? widths[group] : widths[group + 1]) as number;
        const stride = index === 0 && group > 0 ? 2 : 1;
        return new PreactBlock(layer.child(index), inChannels, widths[group + 1] as number, stride);
      });
    });
    const bn1 = new BatchNorm2d(scope.child('bn1'), { channels: widths[3] as number });
    const fc = new Dense(scope.child('fc'), {
      inFeatures: widths[3] as number,
      outFeatures: numClasses,
      init: 'torchDefaultZeroBias',
    });

    return (images, training, featureHook) => {
      const features: tf.Tensor[] = [];
      const stem = recordFeature(features, conv1.apply(images), featureHook);
      let x = stem;
      const stageOutputs: tf.Tensor[] = [];
      const preactivations: tf.Tensor[] = [];
      for (const group of groups) {
        for (const block of group) {
          const { output, normalizedInput } = block.apply(x, training);
          // The first block of groups 2 and 3 normalises the previous group's output: that is its preact.
          if (block === group[0] && group !== groups[0]) preactivations.push(normalizedInput);
          x = output;
        }
        x = recordFeature(features, x, featureHook);
        stageOutputs.push(x);
      }
      const normalized = bn1.apply(x, training);
      preactivations.push(normalized);
      const pooled = recordFeature(features, globalAvgPool(tf.relu(normalized)), featureHook);
      return { logits: fc.apply(pooled), features, stem, stages: stageOutputs, pooled, preactivations };
    };
  };
}
