/**
 * RepDistiller's `mobile_half` MobileNetV2 (`mobilenetv2.py`): expansion 6, width 0.5, ReLU (not ReLU6).
 * Stem conv3×3 stride 2 → 16 channels; inverted-residual stages (t, c, n, s) = (1,8,1,1), (6,12,2,1),
 * (6,16,3,2), (6,32,4,2), (6,48,3,1), (6,80,3,2), (6,160,1,1); conv1×1 → 1280; average pool; linear.
 *
 * Block: expand conv1×1 → BN → ReLU → depthwise conv3×3 (stride s) → BN → ReLU → project conv1×1 → BN, plus
 * x when s = 1 and the channels are kept (the expand conv exists even for t = 1, as in the reference).
 * Features: `stem`, `stages` the outputs after stages 2, 3, 5 and 7, then the `pooled` vector. The stage outputs end in BN with no
 * ReLU, so `preactivations` are the same tensors as `stages` (the reference ignores preact here).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d } from '../layers/batch-norm';
import { Conv2d } from '../layers/conv2d';
import { Dense } from '../layers/dense';
import { globalAvgPool } from '../layers/pooling';
import type { Scope } from '../variable-store';
import { recordFeature, type ArchitectureBuilder } from '../zoo-model';

class InvertedResidual {
  private readonly layers: Array<{ conv: Conv2d; bn: BatchNorm2d }>;
  private readonly residual: boolean;

  constructor(scope: Scope, inChannels: number, outChannels: number, stride: number, expansion: number) {
    const hidden = inChannels * expansion;
    const conv = scope.child('conv');
    // PyTorch Sequential indices of the convs and BNs inside `conv`: 0/1, 3/4, 6/7.
    const specs = [
      { inChannels, outChannels: hidden, kernelSize: 1 },
      { inChannels: hidden, outChannels: hidden, kernelSize: 3, stride, padding: 1, groups: hidden },
      { inChannels: hidden, outChannels, kernelSize: 1 },
    ];
    this.layers = specs.map((spec, index) => ({
      conv: new Conv2d(conv.child(3 * index), spec),
      bn: new BatchNorm2d(conv.child(3 * index + 1), { channels: spec.outChannels }),
    }));
    this.residual = stride === 1 && inChannels === outChannels;
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    let out = x;
    this.layers.forEach(({ conv, bn }, index) => {
      out = bn.apply(conv.apply(out), training);
      if (index < 2) out = tf.relu(out);
    });
    return this.residual ? (tf.add(x, out) as tf.Tensor4D) : out;
  }
}

/** Builder of MobileNetV2 with expansion `expansion` and width multiplier `widthMultiplier`. */
export function mobileNetV2({ expansion = 6, widthMultiplier = 0.5 } = {}): ArchitectureBuilder {
  const settings: Array<[number, number, number, number]> = [
    [1, 16, 1, 1],
    [expansion, 24, 2, 1],
    [expansion, 32, 3, 2],
    [expansion, 64, 4, 2],
    [expansion, 96, 3, 1],
    [expansion, 160, 3, 2],
    [expansion, 320, 1, 1],
  ];
  // Feature taps: after these stages (0-based), as the reference's forward.
  const taps = new Set([1, 2, 4, 6]);
  return (scope, { numClasses, inputChannels }) => {
    let channels = Math.trunc(32 * widthMultiplier);
    const stem = scope.child('conv1');
    const stemConv = new Conv2d(stem.child(0), {
      inChannels: inputChannels,
      outChannels: channels,
      kernelSize: 3,
      stride: 2,
      padding: 1,
    });
    const stemBn = new BatchNorm2d(stem.child(1), { channels });
    const stages = settings.map(([t, c, n, s], stage) => {
      const outChannels = Math.trunc(c * widthMultiplier);
      return Array.from({ length: n }, (_, index) => {
        const block = new InvertedResidual(
          scope.child('blocks').child(stage).child(index),
          channels,
          outChannels,
          index === 0 ? s : 1,
          t,
        );
        channels = outChannels;
        return block;
      });
    });
    const lastChannels = widthMultiplier > 1 ? Math.trunc(1280 * widthMultiplier) : 1280;
    const head = scope.child('conv2');
    const headConv = new Conv2d(head.child(0), { inChannels: channels, outChannels: lastChannels, kernelSize: 1 });
    const headBn = new BatchNorm2d(head.child(1), { channels: lastChannels });
    const classifier = new Dense(scope.child('classifier').child(0), {
      inFeatures: lastChannels,
      outFeatures: numClasses,
      init: 'normal0.01',
    });

    return (images, training, featureHook) => {
      const features: tf.Tensor[] = [];
      const stem = recordFeature(features, tf.relu(stemBn.apply(stemConv.apply(images), training)), featureHook);
      let x = stem;
      const stageOutputs: tf.Tensor[] = [];
      stages.forEach((blocks, stage) => {
        for (const block of blocks) x = block.apply(x, training);
        if (taps.has(stage)) {
          x = recordFeature(features, x, featureHook);
          stageOutputs.push(x);
        }
      });
      x = tf.relu(headBn.apply(headConv.apply(x), training));
      // The reference's AvgPool(input/16, ceil_mode) covers the whole final map: a global average.
      const pooled = recordFeature(features, globalAvgPool(x), featureHook);
      // Its stages end in BN without ReLU: the pre-activations are the stage outputs themselves.
      const preactivations = [...stageOutputs];
      return { logits: classifier.apply(pooled), features, stem, stages: stageOutputs, pooled, preactivations };
    };
  };
}
