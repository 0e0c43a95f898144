/**
 * The CIFAR ResNets of RepDistiller (`resnet.py`): resnet8…110 (channels 16/16/32/64) and resnet8x4,
 * resnet32x4 (32/64/128/256).
 *
 * Stem conv3×3 → BN → ReLU, three stages of n = (depth − 2)/6 BasicBlocks with strides 1, 2, 2, global
 * average pool, linear. BasicBlock: out = ReLU(BN(conv3×3(ReLU(BN(conv3×3(x))))) + shortcut(x)), the
 * shortcut a 1×1 conv + BN whenever the shape changes. Features: `stem`, the three `stages`' outputs, the
 * `pooled` vector; `preactivations`: each stage's last sum before its ReLU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d } from '../layers/batch-norm';
import { Conv2d } from '../layers/conv2d';
import { ProjectionShortcut } from '../layers/projection-shortcut';
import { Dense } from '../layers/dense';
import type { Scope } from '../variable-store';
import type { ArchitectureBuilder } from '../zoo-model';
import { stagedForward } from './staged-forward';

class BasicBlock {
  private readonly conv1: Conv2d;
  private readonly bn1: BatchNorm2d;
  private readonly conv2: Conv2d;
  private readonly bn2: BatchNorm2d;
  private readonly downsample: ProjectionShortcut | undefined;

  constructor(scope: Scope, inChannels: number, outChannels: number, stride: number) {
    this.conv1 = new Conv2d(scope.child('conv1'), { inChannels, outChannels, kernelSize: 3, stride, padding: 1 });
    this.bn1 = new BatchNorm2d(scope.child('bn1'), { channels: outChannels });
    this.conv2 = new Conv2d(scope.child('conv2'), { inChannels: outChannels, outChannels, kernelSize: 3, padding: 1 });
    this.bn2 = new BatchNorm2d(scope.child('bn2'), { channels: outChannels });
    this.downsample = ProjectionShortcut.ifNeeded(scope.child('downsample'), inChannels, outChannels, stride);
  }

  apply(x: tf.Tensor4D, training: boolean): { output: tf.Tensor4D; preact: tf.Tensor4D } {
    const hidden = tf.relu(this.bn1.apply(this.conv1.apply(x), training));
    const residual = this.bn2.apply(this.conv2.apply(hidden), training);
    const shortcut = this.downsample ? this.downsample.apply(x, training) : x;
    const preact = tf.add(residual, shortcut) as tf.Tensor4D;
    return { output: tf.relu(preact), preact };
  }
}

/** Options of {@link cifarResNet}. */
export interface CifarResNetConfig {
  /** 6n + 2. */
  depth: number;
  /** [stem, stage1, stage2, stage3] channels. */
  channels: [number, number, number, number];
}

/** Builder of a CIFAR ResNet of the given depth and widths. */
export function cifarResNet({ depth, channels }: CifarResNetConfig): ArchitectureBuilder {
  if ((depth - 2) % 6 !== 0) throw new Error(`cifarResNet: depth must be 6n + 2, got ${depth}`);
  const blocksPerStage = (depth - 2) / 6;
  return (scope, { numClasses, inputChannels }) => {
    const conv1 = new Conv2d(scope.child('conv1'), {
      inChannels: inputChannels,
      outChannels: channels[0],
      kernelSize: 3,
      padding: 1,
    });
    const bn1 = new BatchNorm2d(scope.child('bn1'), { channels: channels[0] });
    let inChannels = channels[0];
    const stages: BasicBlock[][] = [];
    for (let stage = 0; stage < 3; stage++) {
      const outChannels = channels[stage + 1] as number;
      const layer = scope.child(`layer${stage + 1}`);
      const blocks: BasicBlock[] = [];
      for (let index = 0; index < blocksPerStage; index++) {
        const stride = index === 0 && stage > 0 ? 2 : 1;
        blocks.push(new BasicBlock(layer.child(index), inChannels, outChannels, stride));
        inChannels = outChannels;
      }
      stages.push(blocks);
    }
    const fc = new Dense(scope.child('fc'), { inFeatures: inChannels, outFeatures: numClasses });

    return (images, training, featureHook) =>
      stagedForward(tf.relu(bn1.apply(conv1.apply(images), training)), stages, fc, training, featureHook);
  };
}
