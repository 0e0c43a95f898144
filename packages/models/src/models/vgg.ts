/**
 * The VGG-BN nets of RepDistiller (`vgg.py`, the `_bn` variants): five blocks of conv3×3 (with bias) → BN →
 * ReLU, 2×2 max pools after blocks 0–2 (and after block 3 only for 64×64 inputs, as the reference), global
 * average pool, linear 512 → classes. Features: `stem` block 0's output, `stages` blocks 1–4's outputs (after
 * ReLU), the `pooled` vector; `preactivations`: blocks 1–4 before their last ReLU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d } from '../layers/batch-norm';
import { Conv2d } from '../layers/conv2d';
import { Dense } from '../layers/dense';
import { globalAvgPool, maxPool2d } from '../layers/pooling';
import { recordFeature, type ArchitectureBuilder } from '../zoo-model';

/** Channels of each conv, per block. */
export type VggConfig = number[][];

/** The reference configurations: vgg8 'S', vgg11 'A', vgg13 'B', vgg16 'D', vgg19 'E'. */
export const vggConfigs = {
  vgg8: [[64], [128], [256], [512], [512]],
  vgg11: [[64], [128], [256, 256], [512, 512], [512, 512]],
  vgg13: [
    [64, 64],
    [128, 128],
    [256, 256],
    [512, 512],
    [512, 512],
  ],
  vgg16: [
    [64, 64],
    [128, 128],
    [256, 256, 256],
    [512, 512, 512],
    [512, 512, 512],
  ],
  vgg19: [
    [64, 64],
    [128, 128],
    [256, 256, 256, 256],
    [512, 512, 512, 512],
    [512, 512, 512, 512],
  ],
} satisfies Record<string, VggConfig>;

/** Builder of a VGG-BN of the given configuration. */
export function vggBn(config: VggConfig): ArchitectureBuilder {
  return (scope, { numClasses, inputChannels }) => {
    let inChannels = inputChannels;
    const blocks = config.map((widths, blockIndex) => {
      const block = scope.child(`block${blockIndex}`);
      // PyTorch Sequential indices: conv at 3i, BN at 3i + 1, ReLU at 3i + 2.
      return widths.map((outChannels, index) => {
        const conv = new Conv2d(block.child(3 * index), {
          inChannels,
          outChannels,
          kernelSize: 3,
          padding: 1,
          bias: true,
        });
        const bn = new BatchNorm2d(block.child(3 * index + 1), { channels: outChannels });
        inChannels = outChannels;
        return { conv, bn };
      });
    });
    const classifier = new Dense(scope.child('classifier'), {
      inFeatures: inChannels,
      outFeatures: numClasses,
      init: 'normal0.01',
    });

    return (images, training, featureHook) => {
      const height = images.shape[1];
      let x = images;
      const features: tf.Tensor[] = [];
      const preactivations: tf.Tensor[] = [];
      blocks.forEach((layers, blockIndex) => {
        if (blockIndex > 0 && (blockIndex < 4 || height === 64)) x = maxPool2d(x, { kernelSize: 2 });
        layers.forEach(({ conv, bn }, index) => {
          x = bn.apply(conv.apply(x), training);
          if (index === layers.length - 1 && blockIndex > 0) preactivations.push(x);
          x = tf.relu(x);
        });
        x = recordFeature(features, x, featureHook);
      });
      // Block 0 is the stem, blocks 1–4 the stages.
      const [stem, ...stageOutputs] = features;
      const pooled = recordFeature(features, globalAvgPool(x), featureHook);
      return { logits: classifier.apply(pooled), features, stem, stages: stageOutputs, pooled, preactivations };
    };
  };
}
