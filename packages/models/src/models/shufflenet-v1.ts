/**
 * RepDistiller's ShuffleV1 (`ShuffleNetv1.py`, groups 3): stem conv1×1 → 24 (stride 1) → BN → ReLU; stages of
 * [4, 8, 4] bottlenecks with outputs [240, 480, 960]; global average pool; linear 960 → classes. PyTorch's
 * default initialisation (the reference sets none).
 *
 * Bottleneck (width m = out/4): ReLU(BN(group conv1×1, g groups)) → channel shuffle(g) → ReLU(BN(depthwise
 * conv3×3, stride s)) → BN(group conv1×1, 3 groups); the first conv uses g = 1 when the input has 24
 * channels. Stride 1: ReLU(out + x). Stride 2 (each stage's first block, whose branch produces out − in
 * channels): ReLU(concat(out, avgPool3×3/2(x))). Features: `stem`, the three `stages`' outputs, the
 * `pooled` vector; `preactivations`: each stage's last sum/concat before its ReLU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d } from '../layers/batch-norm';
import { channelShuffle } from '../layers/channel-shuffle';
import { Conv2d } from '../layers/conv2d';
import { Dense } from '../layers/dense';
import { avgPool2d } from '../layers/pooling';
import type { Scope } from '../variable-store';
import type { ArchitectureBuilder } from '../zoo-model';
import { stagedForward } from './staged-forward';

class ShuffleBottleneck {
  private readonly conv1: Conv2d;
  private readonly bn1: BatchNorm2d;
  private readonly conv2: Conv2d;
  private readonly bn2: BatchNorm2d;
  private readonly conv3: Conv2d;
  private readonly bn3: BatchNorm2d;
  private readonly firstGroups: number;

  constructor(
    scope: Scope,
    inChannels: number,
    outChannels: number,
    private readonly stride: number,
    groups: number,
  ) {
    const mid = Math.trunc(outChannels / 4);
    this.firstGroups = inChannels === 24 ? 1 : groups;
    const init = 'torchDefault';
    this.conv1 = new Conv2d(scope.child('conv1'), {
      inChannels,
      outChannels: mid,
      kernelSize: 1,
      groups: this.firstGroups,
      init,
    });
    this.bn1 = new BatchNorm2d(scope.child('bn1'), { channels: mid });
    this.conv2 = new Conv2d(scope.child('conv2'), {
      inChannels: mid,
      outChannels: mid,
      kernelSize: 3,
      stride,
      padding: 1,
      groups: mid,
      init,
    });
    this.bn2 = new BatchNorm2d(scope.child('bn2'), { channels: mid });
    this.conv3 = new Conv2d(scope.child('conv3'), { inChannels: mid, outChannels, kernelSize: 1, groups, init });
    this.bn3 = new BatchNorm2d(scope.child('bn3'), { channels: outChannels });
  }

  apply(x: tf.Tensor4D, training: boolean): { output: tf.Tensor4D; preact: tf.Tensor4D } {
    let out = tf.relu(this.bn1.apply(this.conv1.apply(x), training));
    out = channelShuffle(out, this.firstGroups);
    out = tf.relu(this.bn2.apply(this.conv2.apply(out), training));
    out = this.bn3.apply(this.conv3.apply(out), training);
    const preact =
      this.stride === 2
        ? tf.concat([out, avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 })], 3)
        : (tf.add(out, x) as tf.Tensor4D);
    return { output: tf.relu(preact), preact };
  }
}

/** Builder of ShuffleNetV1 with the given stage outputs, block counts and groups. */
export function shuffleNetV1({
  outChannels = [240, 480, 960],
  blocks = [4, 8, 4],
  groups = 3,
} = {}): ArchitectureBuilder {
  return (scope, { numClasses, inputChannels }) => {
    const init = 'torchDefault';
    const conv1 = new Conv2d(scope.child('conv1'), { inChannels: inputChannels, outChannels: 24, kernelSize: 1, init });
    const bn1 = new BatchNorm2d(scope.child('bn1'), { channels: 24 });
    let inChannels = 24;
    const stages = blocks.map((count, stage) => {
      const layer = scope.child(`layer${stage + 1}`);
      const stageOut = outChannels[stage] as number;
      return Array.from({ length: count }, (_, index) => {
        // The first block concatenates its input, so its branch only makes the missing channels.
        const branchOut = index === 0 ? stageOut - inChannels : stageOut;
        const block = new ShuffleBottleneck(layer.child(index), inChannels, branchOut, index === 0 ? 2 : 1, groups);
        inChannels = stageOut;
        return block;
      });
    });
    const linear = new Dense(scope.child('linear'), { inFeatures: inChannels, outFeatures: numClasses });

    return (images, training, featureHook) =>
      stagedForward(tf.relu(bn1.apply(conv1.apply(images), training)), stages, linear, training, featureHook);
  };
}
