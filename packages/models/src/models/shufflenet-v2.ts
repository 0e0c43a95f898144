/**
 * RepDistiller's ShuffleV2 (`ShuffleNetv2.py`, net_size 1): stem conv1×1 → 24 → BN → ReLU; stages with
 * outputs (116, 232, 464), each a stride-2 DownBlock then (3, 7, 3) BasicBlocks; conv1×1 464 → 1024 → BN →
 * ReLU; global average pool; linear 1024 → classes. PyTorch's default initialisation (the reference sets
 * none).
 *
 * BasicBlock: split the channels in halves (x1, x2); b = ReLU(BN(conv1×1(BN(dwconv3×3(ReLU(BN(conv1×1(x2))))))));
 * out = shuffle₂(concat(x1, b)). DownBlock (out channels c, halves m = c/2): left = ReLU(BN(conv1×1(BN(dwconv3×3/2(x))))),
 * right = ReLU(BN(conv1×1(BN(dwconv3×3/2(ReLU(BN(conv1×1(x)))))))), out = shuffle₂(concat(left, right)).
 * Features: `stem`, the three `stages`' outputs, the `pooled` 1024-vector; `preactivations`: each stage's
 * last concat(x1, b before its ReLU), unshuffled as in the reference.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d } from '../layers/batch-norm';
import { channelShuffle } from '../layers/channel-shuffle';
import { Conv2d, type Conv2dOptions } from '../layers/conv2d';
import { Dense } from '../layers/dense';
import { globalAvgPool } from '../layers/pooling';
import type { Scope } from '../variable-store';
import { recordFeature, type ArchitectureBuilder } from '../zoo-model';

interface ConvBn {
  conv: Conv2d;
  bn: BatchNorm2d;
}

function convBn(scope: Scope, index: number, options: Omit<Conv2dOptions, 'init'>): ConvBn {
  return {
    conv: new Conv2d(scope.child(`conv${index}`), { ...options, init: 'torchDefault' }),
    bn: new BatchNorm2d(scope.child(`bn${index}`), { channels: options.outChannels }),
  };
}

function run({ conv, bn }: ConvBn, x: tf.Tensor4D, training: boolean): tf.Tensor4D {
  return bn.apply(conv.apply(x), training);
}

class SplitBlock {
  private readonly layers: [ConvBn, ConvBn, ConvBn];

  constructor(scope: Scope, channels: number) {
    const half = channels / 2;
    this.layers = [
      convBn(scope, 1, { inChannels: half, outChannels: half, kernelSize: 1 }),
      convBn(scope, 2, { inChannels: half, outChannels: half, kernelSize: 3, padding: 1, groups: half }),
      convBn(scope, 3, { inChannels: half, outChannels: half, kernelSize: 1 }),
    ];
  }

  apply(x: tf.Tensor4D, training: boolean): { output: tf.Tensor4D; preact: tf.Tensor4D } {
    const [first, second, third] = this.layers;
    const [x1, x2] = tf.split(x, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
    let out = tf.relu(run(first, x2, training));
    out = run(second, out, training);
    const branchPreact = run(third, out, training);
    const preact = tf.concat([x1, branchPreact], 3);
    const output = channelShuffle(tf.concat([x1, tf.relu(branchPreact)], 3), 2);
    return { output, preact };
  }
}

class DownBlock {
  private readonly layers: [ConvBn, ConvBn, ConvBn, ConvBn, ConvBn];

  constructor(scope: Scope, inChannels: number, outChannels: number) {
    const mid = Math.trunc(outChannels / 2);
    this.layers = [
      convBn(scope, 1, {
        inChannels,
        outChannels: inChannels,
        kernelSize: 3,
        stride: 2,
        padding: 1,
        groups: inChannels,
      }),
      convBn(scope, 2, { inChannels, outChannels: mid, kernelSize: 1 }),
      convBn(scope, 3, { inChannels, outChannels: mid, kernelSize: 1 }),
      convBn(scope, 4, { inChannels: mid, outChannels: mid, kernelSize: 3, stride: 2, padding: 1, groups: mid }),
      convBn(scope, 5, { inChannels: mid, outChannels: mid, kernelSize: 1 }),
    ];
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const [conv1, conv2, conv3, conv4, conv5] = this.layers;
    const left = tf.relu(run(conv2, run(conv1, x, training), training));
    let right = tf.relu(run(conv3, x, training));
    right = tf.relu(run(conv5, run(conv4, right, training), training));
    return channelShuffle(tf.concat([left, right], 3), 2);
  }
}

/** Builder of ShuffleNetV2 with the given stage outputs, final width and block counts (net_size 1 by default). */
export function shuffleNetV2({
  outChannels = [116, 232, 464],
  lastChannels = 1024,
  blocks = [3, 7, 3],
} = {}): ArchitectureBuilder {
  return (scope, { numClasses, inputChannels }) => {
    const stem = convBn(scope, 1, { inChannels: inputChannels, outChannels: 24, kernelSize: 1 });
    let inChannels = 24;
    const stages = blocks.map((count, stage) => {
      const layer = scope.child(`layer${stage + 1}`);
      const stageOut = outChannels[stage] as number;
      const down = new DownBlock(layer.child(0), inChannels, stageOut);
      inChannels = stageOut;
      const splits = Array.from({ length: count }, (_, index) => new SplitBlock(layer.child(index + 1), stageOut));
      return { down, splits };
    });
    const head = convBn(scope, 2, { inChannels, outChannels: lastChannels, kernelSize: 1 });
    const linear = new Dense(scope.child('linear'), { inFeatures: lastChannels, outFeatures: numClasses });

    return (images, training, featureHook) => {
      const features: tf.Tensor[] = [];
      const stemOutput = recordFeature(features, tf.relu(run(stem, images, training)), featureHook);
      let x = stemOutput;
      const stageOutputs: tf.Tensor[] = [];
      const preactivations: tf.Tensor[] = [];
      for (const { down, splits } of stages) {
        x = down.apply(x, training);
        let preact = x;
        for (const block of splits) ({ output: x, preact } = block.apply(x, training));
        x = recordFeature(features, x, featureHook);
        stageOutputs.push(x);
        preactivations.push(preact);
      }
      const pooled = recordFeature(features, globalAvgPool(tf.relu(run(head, x, training))), featureHook);
      return { logits: linear.apply(pooled), features, stem: stemOutput, stages: stageOutputs, pooled, preactivations };
    };
  };
}
