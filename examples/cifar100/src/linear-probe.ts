/**
 * ICD's transfer protocol (`transfer_student.py`): keep a distilled student, replace its classifier with a new
 * linear layer W ~ N(0, 0.01²), b = 0, and train only that layer. The result is a KdModel, so @kd/trainer's
 * loop, checkpoints and evaluation train it like any other model.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ApplyOptions, KdModel, ModelOutput, NamedVariable } from '@kd/models';

export interface LinearProbeOptions {
  /** The frozen feature extractor (its own classifier is ignored). */
  backbone: KdModel;
  numClasses: number;
  /** Seed of the N(0, 0.01²) initial weights. */
  seed: number;
  /** Input side the backbone sees (32 for the CIFAR zoo). */
  inputSize?: number;
}

let probesCreated = 0;

/** Width of the pooled penultimate vector (the last entry of `features`). */
function pooledWidth(backbone: KdModel, inputSize: number): number {
  return tf.tidy(() => {
    const probe = tf.zeros([1, inputSize, inputSize, backbone.inputChannels]) as tf.Tensor4D;
    const { features } = backbone.apply(probe, { training: false });
    const pooled = features[features.length - 1];
    if (pooled === undefined || pooled.rank !== 2) {
      throw new Error(
        `createLinearProbe: ${backbone.name}'s last feature must be the pooled [N, C] vector, got rank ${pooled?.rank}`,
      );
    }
    return pooled.shape[1] as number;
  });
}

/**
 * A probe over `backbone`: logits = pooled(x)·W + b, gradients reach only W and b. The backbone runs in the
 * mode the trainer asks for, as the reference does with `model.train()`: in training mode its batch norm uses
 * batch statistics and its running statistics adapt to the target data (they are checkpointed as
 * non-trainable variables); its weights never change.
 *
 * @example
 * const probe = createLinearProbe({ backbone: student, numClasses: 10, seed: 0 });
 * await trainSupervised({ model: probe, data: { train: stl10Train, test: stl10Test }, ... });
 */
export function createLinearProbe({ backbone, numClasses, seed, inputSize = 32 }: LinearProbeOptions): KdModel {
  if (!Number.isInteger(numClasses) || numClasses < 2)
    throw new Error(`createLinearProbe: numClasses must be an integer >= 2, got ${numClasses}`);
  const width = pooledWidth(backbone, inputSize);
  // tfjs variable names are global: number each probe.
  const id = probesCreated++;
  const weight = tf.tidy(() =>
    tf.variable(tf.randomNormal([width, numClasses], 0, 0.01, 'float32', seed), true, `linear_probe_${id}/fc.weight`),
  );
  const bias = tf.tidy(() => tf.variable(tf.zeros([numClasses]), true, `linear_probe_${id}/fc.bias`));
  const frozen = [...backbone.trainableVariables, ...backbone.nonTrainableVariables];
  const namedVariables: NamedVariable[] = [
    ...(backbone.namedVariables ?? []).map((entry) => ({
      name: `backbone.${entry.name}`,
      variable: entry.variable,
      trainable: false,
    })),
    { name: 'fc.weight', variable: weight, trainable: true },
    { name: 'fc.bias', variable: bias, trainable: true },
  ];
  return {
    name: `${backbone.name}-linear-probe`,
    numClasses,
    inputChannels: backbone.inputChannels,
    trainableVariables: [weight, bias],
    nonTrainableVariables: frozen,
    namedVariables,
    apply(images: tf.Tensor4D, options: ApplyOptions): ModelOutput {
      const output = backbone.apply(images, options);
      const pooled = output.pooled;
      if (pooled === undefined) throw new Error(`linear probe: ${backbone.name}.apply returned no pooled vector`);
      // logits = h·W + b on the frozen pooled features h
      const logits = tf.add(tf.matMul(pooled, weight), bias) as tf.Tensor2D;
      output.logits.dispose();
      return { ...output, logits };
    },
    countParams: () => weight.size + bias.size,
    dispose() {
      weight.dispose();
      bias.dispose();
    },
  };
}
