import type * as tf from '@tensorflow/tfjs-core';

/**
 * Called on every entry of `features` as the forward pass produces it (index into `features`); the pass
 * continues with the tensor it returns. Grad-CAM adds a zero tensor here to differentiate the logits with
 * respect to an intermediate feature map.
 */
export type FeatureHook = (index: number, feature: tf.Tensor) => tf.Tensor;

/** Options of {@link KdModel.apply}. */
export interface ApplyOptions {
  /** Training mode: batch norm uses batch statistics and updates its running statistics. */
  training: boolean;
  /** Optional: see {@link FeatureHook}. The returned tensor must have the feature's shape. */
  featureHook?: FeatureHook;
  /**
   * Scan the images for NaN and ±Infinity before the forward pass (one device-to-host read per call; the
   * error names the model's `apply`). Default true. A training loop whose images are known good (decoded
   * from uint8 pixels) passes false; the setting applies to this call only.
   */
  checkValues?: boolean;
}

/**
 * The named features of a forward pass: what feature-based distillation methods read, by role rather than by
 * position. Maps are NHWC (`[N, H, W, C]`).
 *
 * | role | zoo CNNs (ResNet, WRN, VGG, MobileNetV2, ShuffleNets) | `mlp` with hidden layers h_1…h_n |
 * |---|---|---|
 * | `stem` | the stem's output map (VGG: block 0) | h_1's output `[N, h_1]` (absent when n = 1) |
 * | `stages` | each stage's output map, in order | h_2…h_{n−1}'s outputs `[N, h_i]` |
 * | `pooled` | the penultimate vector `[N, D]` the classifier reads | h_n's output |
 * | `preactivations` | each stage's output before its last ReLU (same order as `stages`) | every hidden layer before its ReLU |
 *
 * A model that does not name a role leaves `stem`/`pooled` undefined and `stages`/`preactivations` empty; a
 * method that reads the role then refuses the model before training, naming it.
 */
export interface ModelFeatures {
  /** The stem's output map (the first feature of RepDistiller's `feat` list). */
  stem?: tf.Tensor;
  /** Every stage's output, in order (RepDistiller's `feat[1:-1]`). */
  stages: tf.Tensor[];
  /** The pooled penultimate vector `[N, D]` the classifier reads (RepDistiller's `feat[-1]`). */
  pooled?: tf.Tensor2D;
  /**
   * Each stage's output before its last ReLU (RepDistiller's `preact=True` list; WRN: the stage output
   * through the BN that follows it; MobileNetV2: the same tensors as `stages`, its stages end without ReLU).
   */
  preactivations: tf.Tensor[];
}

/** The names of {@link ModelFeatures}: `'stem' | 'stages' | 'pooled' | 'preactivations'`. */
export type FeatureName = keyof ModelFeatures;

/** What a model returns: logits plus the named features distillation methods read (NHWC). */
export interface ModelOutput extends ModelFeatures {
  /** `[N, numClasses]` logits. */
  logits: tf.Tensor2D;
  /**
   * The positional feature list, `[stem, ...stages, pooled]` (the entries a model has), the same tensors as
   * the named fields: what `featureNames`, `featureHook` indices and Grad-CAM's `layer` index into.
   */
  features: tf.Tensor[];
}

/** A variable of a model with its stable (PyTorch-like) name, e.g. `layer1.0.bn1.running_mean`. */
export interface NamedVariable {
  readonly name: string;
  readonly variable: tf.Variable;
  /** False for BN running statistics. */
  readonly trainable: boolean;
}

/** A model of the zoo: owns its variables, maps NHWC images to logits and features. */
export interface KdModel {
  /** Registry name, e.g. `resnet20`. */
  readonly name: string;
  readonly numClasses: number;
  readonly inputChannels: number;
  /** Weights, BN γ/β: everything an optimiser updates. */
  readonly trainableVariables: tf.Variable[];
  /** BN running means and variances. */
  readonly nonTrainableVariables: tf.Variable[];
  /**
   * Every variable under its stable name, trainable and not, in creation order. Models from `createModel`
   * always have it; `saveWeights`/`loadWeights` need it.
   */
  readonly namedVariables?: readonly NamedVariable[];
  /**
   * `[height, width]` of the only input size the model takes, when it takes just one (an MLP, a Keras model
   * built for 28×28); undefined when any size works (the zoo's CNNs). Trainers check datasets against it.
   */
  readonly inputSize?: readonly [number, number];
  /** Optional: a name per entry of `features` (e.g. the Keras layer names), so CAM can pick a feature by name. */
  readonly featureNames?: readonly string[];
  /**
   * Optional: why the model cannot be trained (e.g. a graph model has no trainable variables and no training
   * mode). Trainers refuse such a model as the model they train, with this reason; it can still be a teacher.
   */
  readonly inferenceOnly?: string;
  /** Forward pass on `[N, H, W, inputChannels]` float32 images. */
  apply(images: tf.Tensor4D, options: ApplyOptions): ModelOutput;
  /** Number of trainable scalars (BN running statistics excluded). */
  countParams(): number;
  /** Disposes every variable the model owns. */
  dispose(): void;
}
