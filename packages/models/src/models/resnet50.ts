/**
 * RepDistiller's ResNet50 for CIFAR (`resnetv2.py`): a conv3×3 stride-1 stem (no max pool), Bottleneck
 * stages [3, 4, 6, 3] of widths 64/128/256/512 with expansion 4 and strides 1, 2, 2, 2, global average pool,
 * linear. Bottleneck: out = ReLU(BN(conv1×1(ReLU(BN(conv3×3(ReLU(BN(conv1×1(x))))))))) + shortcut(x)), the
 * shortcut a 1×1 conv + BN whenever the shape changes. Features: `stem`, four `stages`' outputs, the `pooled`
 * vector; `preactivations`: each stage's last sum before its ReLU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d } from '../layers/batch-norm';
import { Conv2d } from '../layers/conv2d';
import { Dense } from '../layers/dense';
import { ProjectionShortcut } from '../layers/projection-shortcut';
import type { Scope } from '../variable-store';
import type { ArchitectureBuilder } from '../zoo-model';
import { stagedForward } from './staged-forward';

const expansion = 4;

class Bottleneck {
  private readonly convs: Conv2d[];
  private readonly norms: BatchNorm2d[];
  private readonly shortcut: ProjectionShortcut | undefined;

  constructor(scope: Scope, inChannels: number, planes: number, stride: number) {
    const outChannels = planes * expansion;
    this.convs = [
      new Conv2d(scope.child('conv1'), { inChannels, outChannels: planes, kernelSize: 1 }),
      new Conv2d(scope.child('conv2'), { inChannels: planes, outChannels: planes, kernelSize: 3, stride, padding: 1 }),
      new Conv2d(scope.child('conv3'), { inChannels: planes, outChannels, kernelSize: 1 }),
    ];
    this.norms = [planes, planes, outChannels].map(
      (channels, index) => new BatchNorm2d(scope.child(`bn${index + 1}`), { channels }),
    );
    this.shortcut = ProjectionShortcut.ifNeeded(scope.child('shortcut'), inChannels, outChannels, stride);
  }

  apply(x: tf.Tensor4D, training: boolean): { output: tf.Tensor4D; preact: tf.Tensor4D } {
    const [conv1, conv2, conv3] = this.convs as [Conv2d, Conv2d, Conv2d];
    const [bn1, bn2, bn3] = this.norms as [BatchNorm2d, BatchNorm2d, BatchNorm2d];
    let out = tf.relu(bn1.apply(conv1.apply(x), training));
    out = tf.relu(bn2.apply(conv2.apply(out), training));
    out = bn3.apply(conv3.apply(out), training);
    const shortcut = this.shortcut ? this.shortcut.apply(x, training) : x;
    const preact = tf.add(out, shortcut) as tf.Tensor4D;
    return { output: tf.relu(preact), preact };
  }
}

/** Builder of ResNet50 (Bottleneck blocks [3, 4, 6, 3]). */
export function resNet50(): ArchitectureBuilder {
  const blocks = [3, 4, 6, 3];
  return (scope, { numClasses, inputChannels }) => {
    const conv1 = new Conv2d(scope.child('conv1'), {
      inChannels: inputChannels,
      outChannels: 64,
      kernelSize: 3,
      padding: 1,
    });
    const bn1 = new BatchNorm2d(scope.child('bn1'), { channels: 64 });
    let inChannels = 64;
    const stages = blocks.map((count, stage) => {
      const layer = scope.child(`layer${stage + 1}`);
      const planes = 64 * 2 ** stage;
      return Array.from({ length: count }, (_, index) => {
        const block = new Bottleneck(layer.child(index), inChannels, planes, index === 0 && stage > 0 ? 2 : 1);
        inChannels = planes * expansion;
        return block;
      });
    });
    const linear = new Dense(scope.child('linear'), { inFeatures: inChannels, outFeatures: numClasses });

    return (images, training, featureHook) =>
      stagedForward(tf.relu(bn1.apply(conv1.apply(images), training)), stages, linear, training, featureHook);
  };
}
