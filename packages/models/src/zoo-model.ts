/**
 * The KdModel implementation every architecture of the zoo shares: variables, validation, tidy.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ApplyOptions, FeatureHook, KdModel, ModelOutput, NamedVariable } from './types';
import { assertKnownOptions, assertSeed } from '@kd/internal';
import { assertCheckValues, assertImages } from './validate';
import { VariableStore, type Scope } from './variable-store';

/** A model built by `createModel`: a {@link KdModel} that always lists its named variables. */
export interface ZooModel extends KdModel {
  readonly namedVariables: readonly NamedVariable[];
  /** The seed its weights were drawn from. */
  readonly seed: number;
  /** `[height, width]` of the only input size it takes (`mlp`); undefined when any size works (the CNNs). */
  readonly inputSize: readonly [number, number] | undefined;
}

/** What an architecture's builder receives. */
export interface BuildOptions {
  numClasses: number;
  inputChannels: number;
}

/** A forward pass: images to logits and features; runs inside a tidy. */
export type Forward = (images: tf.Tensor4D, training: boolean, featureHook?: FeatureHook) => ModelOutput;

/**
 * Appends the next entry of `features`, passed through the hook when there is one, and returns the tensor
 * the forward pass continues with (so a hook's change reaches the logits).
 */
export function recordFeature<T extends tf.Tensor>(
  features: tf.Tensor[],
  feature: T,
  featureHook: FeatureHook | undefined,
): T {
  const recorded = featureHook === undefined ? feature : featureHook(features.length, feature);
  if (
    recorded !== feature &&
    (recorded.rank !== feature.rank || recorded.shape.some((size, axis) => size !== feature.shape[axis]))
  ) {
    throw new Error(
      `featureHook: feature ${features.length} has shape [${feature.shape.join(',')}], the hook returned [${recorded.shape.join(',')}]`,
    );
  }
  features.push(recorded);
  return recorded as T;
}

/** Builds an architecture's modules in `scope` and returns its forward pass. */
export type ArchitectureBuilder = (scope: Scope, options: BuildOptions) => Forward;

/** Options of {@link buildZooModel}. */
export interface ZooModelSpec extends BuildOptions {
  name: string;
  seed: number;
  build: ArchitectureBuilder;
  /**
   * Smallest input height and width whose feature maps are all non-empty (VGG's valid 2×2 pools need 8).
   * Default 1. Smaller inputs are rejected before the forward pass, which in training mode would turn the
   * batch-norm running statistics into NaN.
   */
  minimumInputSize?: number;
  /** `[height, width]` for architectures that take only one input size (`mlp`); `apply` rejects others. */
  inputSize?: readonly [number, number];
}

class ZooModelImplementation implements ZooModel {
  readonly name: string;
  readonly numClasses: number;
  readonly inputChannels: number;
  readonly seed: number;
  readonly inputSize: readonly [number, number] | undefined;
  readonly namedVariables: readonly NamedVariable[];
  readonly trainableVariables: tf.Variable[];
  readonly nonTrainableVariables: tf.Variable[];
  private readonly minimumInputSize: number;
  private readonly store: VariableStore;
  private readonly forward: Forward;
  private disposed = false;

  constructor({ name, numClasses, inputChannels, seed, build, minimumInputSize = 1, inputSize }: ZooModelSpec) {
    this.name = name;
    this.minimumInputSize = minimumInputSize;
    this.inputSize = inputSize;
    this.numClasses = numClasses;
    this.inputChannels = inputChannels;
    this.seed = seed;
    this.store = new VariableStore(seed);
    try {
      this.forward = build(this.store.scope(''), { numClasses, inputChannels });
    } catch (error) {
      this.store.dispose();
      throw error;
    }
    this.namedVariables = [...this.store.entries];
    this.trainableVariables = this.namedVariables.filter((entry) => entry.trainable).map((entry) => entry.variable);
    this.nonTrainableVariables = this.namedVariables.filter((entry) => !entry.trainable).map((entry) => entry.variable);
  }

  apply(images: tf.Tensor4D, options: ApplyOptions): ModelOutput {
    const fn = `${this.name}.apply`;
    if (this.disposed) throw new Error(`${fn}: the model has been disposed`);
    assertKnownOptions(fn, options, ['training', 'featureHook', 'checkValues']);
    if (options === undefined || typeof options.training !== 'boolean') {
      throw new Error(`${fn}: options.training must be a boolean, got ${String(options?.training)}`);
    }
    const checkValues = assertCheckValues(fn, options.checkValues);
    const [, height, width] = images instanceof tf.Tensor && images.rank === 4 ? images.shape : [];
    if (
      height !== undefined &&
      width !== undefined &&
      height > 0 &&
      width > 0 &&
      Math.min(height, width) < this.minimumInputSize
    ) {
      throw new Error(
        `${fn}: images of ${height}×${width} are too small for ${this.name}: its feature maps would be empty; ` +
          `the minimum is ${this.minimumInputSize}×${this.minimumInputSize}`,
      );
    }
    assertImages(fn, 'images', images, this.inputChannels, checkValues);
    if (
      this.inputSize !== undefined &&
      (images.shape[1] !== this.inputSize[0] || images.shape[2] !== this.inputSize[1])
    ) {
      const [height, width] = this.inputSize;
      throw new Error(
        `${fn}: images must be [N, ${height}, ${width}, ${this.inputChannels}] (the model's inputShape), got [${images.shape.join(',')}]`,
      );
    }
    const { training, featureHook } = options;
    if (featureHook !== undefined && typeof featureHook !== 'function') {
      throw new Error(
        `${fn}: options.featureHook must be a function (index, feature) => tensor, got ${typeof featureHook}`,
      );
    }
    return tf.tidy(
      () => this.forward(images, training, featureHook) as unknown as tf.TensorContainer,
    ) as unknown as ModelOutput;
  }

  countParams(): number {
    return this.trainableVariables.reduce((total, variable) => total + variable.size, 0);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.store.dispose();
  }
}

/** Creates the variables of an architecture and wraps its forward pass as a {@link ZooModel}. */
export function buildZooModel(spec: ZooModelSpec): ZooModel {
  assertKnownOptions('buildZooModel', spec, [
    'name',
    'seed',
    'build',
    'numClasses',
    'inputChannels',
    'minimumInputSize',
    'inputSize',
  ]);
  assertSeed('buildZooModel', 'spec.seed', spec.seed);
  return new ZooModelImplementation(spec);
}
