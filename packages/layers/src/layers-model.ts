/**
 * `fromLayersModel`: a `tf.LayersModel` (`tf.sequential`, `tf.model`, `tf.loadLayersModel`, a converted Keras
 * model) as a `KdModel`, with the outputs of named layers as features.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerVariable, LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import {
  featureRoles,
  type ApplyOptions,
  type FeatureRoles,
  type KdModel,
  type ModelOutput,
  type NamedVariable,
} from '@kd/models';
import { closestKey } from '@kd/internal';
import {
  assertApplyArguments,
  assertFeatureNames,
  assertName,
  assertOptions,
  describeValue,
  formatShape,
  type FeatureLayerNames,
} from './validate';

type Layer = SymbolicTensor['sourceLayer'];
type GraphNode = Layer['inboundNodes'][number];

/** Options of {@link fromLayersModel}. */
export interface FromLayersModelOptions {
  /**
   * Which layers' outputs are the model's features:
   * - an object naming each role, `{ stem: 'conv1', stages: ['block1', 'block2'], pooled: 'flatten',
   *   preactivations: ['block1_bn', 'block2_bn'] }` (see `ModelFeatures` of `@kd/models`; `features` is then
   *   `[stem, ...stages, pooled]`);
   * - or an array of layer names, the positional `features` list in RepDistiller's layout: a last entry of
   *   rank 2 is `pooled`, the first of the others `stem`, the rest `stages` (no `preactivations`).
   *
   * Default: the last layer of each spatial resolution (rank-4 outputs, in graph order), then the input of the
   * final dense layer: stem, stages and pooled as the trainer's methods read them.
   */
  features?: string[] | FeatureLayerNames;
  /** The layer whose output is the `[N, numClasses]` logits. Default: the model's output layer. */
  logits?: string;
  /**
   * What to do when the logits layer applies a softmax (the model outputs probabilities): `'preActivation'`
   * (default) reads the softmax's input, `'refuse'` throws with the fix.
   */
  softmaxHead?: 'preActivation' | 'refuse';
  /** `KdModel.name` (part of a training run's resume fingerprint). Default the Keras model's name. */
  name?: string;
}

const OPTION_KEYS = ['features', 'logits', 'softmaxHead', 'name'] as const;

/** A `KdModel` over a `tf.LayersModel`: {@link fromLayersModel}'s result. */
export interface LayersKdModel extends KdModel {
  /** The wrapped model: training updates it in place, so `layersModel.save(...)` writes the trained weights. */
  readonly layersModel: LayersModel;
  /** Layer name of each entry of `features`. */
  readonly featureNames: readonly string[];
  /** The model's input shape `[null, H, W, C]` (`null` = any size). */
  readonly inputShape: readonly (number | null)[];
}

interface Plan {
  /** Nodes to run, inputs before outputs. */
  nodes: GraphNode[];
  /** Where the logits come from: a node output, or a dense layer's pre-activation (`x·W + b`). */
  logits: { tensor: SymbolicTensor } | { denseInput: SymbolicTensor; dense: Layer };
  numClasses: number;
  features: SymbolicTensor[];
  featureNames: string[];
  /** Positions of stem, stages and pooled in `features`. */
  roles: FeatureRoles;
  preactivations: SymbolicTensor[];
}

function producerOf(tensor: SymbolicTensor): GraphNode {
  return tensor.sourceLayer.inboundNodes[tensor.nodeIndex] as GraphNode;
}

/** Nodes needed to compute `targets` from the model's inputs, in an order where inputs come first. */
function sortNodes(targets: readonly SymbolicTensor[], inputIds: ReadonlySet<number>): GraphNode[] {
  const order: GraphNode[] = [];
  const done = new Set<GraphNode>();
  const visit = (tensor: SymbolicTensor) => {
    if (inputIds.has(tensor.id)) return;
    const node = producerOf(tensor);
    if (done.has(node)) return;
    done.add(node);
    for (const input of node.inputTensors) visit(input);
    order.push(node);
  };
  for (const target of targets) visit(target);
  return order;
}

function isSoftmax(layer: Layer): boolean {
  const className = layer.getClassName();
  if (className === 'Softmax') return true;
  const activation = (layer.getConfig() as { activation?: unknown }).activation;
  return activation === 'softmax';
}

function singleOutput(fn: string, layer: Layer): SymbolicTensor {
  if (layer.inboundNodes.length !== 1) {
    throw new Error(
      `${fn}: layer '${layer.name}' is called ${layer.inboundNodes.length} times in the graph; name a layer with one output`,
    );
  }
  const outputs = (layer.inboundNodes[0] as GraphNode).outputTensors;
  if (outputs.length !== 1)
    throw new Error(`${fn}: layer '${layer.name}' has ${outputs.length} outputs; name a layer with one output`);
  return outputs[0] as SymbolicTensor;
}

function findLayer(fn: string, arg: string, model: LayersModel, name: string): Layer {
  const layer = model.layers.find((candidate) => candidate.name === name);
  if (layer === undefined) {
    const names = model.layers.map((candidate) => candidate.name);
    throw new Error(
      `${fn}: ${arg} '${name}' is not a layer of '${model.name}'; did you mean '${closestKey(name, names)}'? (layers: ${names.join(', ')})`,
    );
  }
  return layer;
}

function planLogits(
  fn: string,
  model: LayersModel,
  options: Record<string, unknown>,
): { logits: Plan['logits']; numClasses: number } {
  const { logits, tensor } = resolveLogits(fn, model, options);
  return { logits, numClasses: tensor.shape[1] as number };
}

function resolveLogits(
  fn: string,
  model: LayersModel,
  options: Record<string, unknown>,
): { logits: Plan['logits']; tensor: SymbolicTensor } {
  let tensor: SymbolicTensor;
  if (options.logits === undefined) {
    if (model.outputs.length !== 1) {
      throw new Error(
        `${fn}: '${model.name}' has ${model.outputs.length} outputs; name the logits layer with options.logits`,
      );
    }
    tensor = model.outputs[0] as SymbolicTensor;
  } else {
    tensor = singleOutput(fn, findLayer(fn, 'logits', model, assertName(fn, 'logits', options.logits)));
  }
  const layer = tensor.sourceLayer;
  if (tensor.shape.length !== 2 || typeof tensor.shape[1] !== 'number') {
    throw new Error(
      `${fn}: the logits layer '${layer.name}' outputs ${formatShape(tensor.shape)}; logits must be [N, numClasses]`,
    );
  }
  const softmaxHead = options.softmaxHead ?? 'preActivation';
  if (softmaxHead !== 'preActivation' && softmaxHead !== 'refuse') {
    throw new Error(`${fn}: softmaxHead must be 'preActivation' or 'refuse', got ${describeValue(softmaxHead)}`);
  }
  if (!isSoftmax(layer)) return { logits: { tensor }, tensor };
  const className = layer.getClassName();
  const standalone = className === 'Softmax' || className === 'Activation';
  if (softmaxHead === 'refuse') {
    throw new Error(
      `${fn}: layer '${layer.name}' (${className}) applies a softmax, so '${model.name}' outputs probabilities, not logits. ` +
        `Use softmaxHead: 'preActivation' to read the values before the softmax, ` +
        (standalone ? `name the layer before it with logits: '...'` : `or rebuild the layer with activation: 'linear'`),
    );
  }
  const input = producerOf(tensor).inputTensors[0] as SymbolicTensor;
  if (standalone) return { logits: { tensor: input }, tensor };
  if (className === 'Dense') return { logits: { denseInput: input, dense: layer }, tensor };
  throw new Error(
    `${fn}: layer '${layer.name}' (${className}) has a softmax activation; only a Dense, Activation or Softmax head can be read ` +
      `before its softmax: rebuild it with activation: 'linear' or name the logits layer with logits: '...'`,
  );
}

/** The default features: the last node output of each spatial size, then the final dense layer's input. */
function defaultFeatures(order: readonly GraphNode[], logits: Plan['logits']): SymbolicTensor[] {
  const lastPerSize = new Map<string, SymbolicTensor>();
  for (const node of order) {
    for (const output of node.outputTensors) {
      if (output.shape.length !== 4) continue;
      const size = `${output.shape[1]}x${output.shape[2]}`;
      lastPerSize.delete(size); // re-inserted: the Map keeps the order of each size's last occurrence
      lastPerSize.set(size, output);
    }
  }
  const maps = [...lastPerSize.values()];
  // Sizes in the order the network first reaches them (resolutions shrink along the network).
  const firstSeen: string[] = [];
  for (const node of order) {
    for (const output of node.outputTensors) {
      const size = `${output.shape[1]}x${output.shape[2]}`;
      if (output.shape.length === 4 && !firstSeen.includes(size)) firstSeen.push(size);
    }
  }
  maps.sort(
    (a, b) => firstSeen.indexOf(`${a.shape[1]}x${a.shape[2]}`) - firstSeen.indexOf(`${b.shape[1]}x${b.shape[2]}`),
  );
  // The final dense layer: the softmax head read before its activation, or the layer producing the logits.
  let denseInput: SymbolicTensor | undefined;
  if ('dense' in logits) denseInput = logits.denseInput;
  else if (logits.tensor.sourceLayer.getClassName() === 'Dense') denseInput = producerOf(logits.tensor).inputTensors[0];
  return denseInput !== undefined && denseInput.shape.length === 2 ? [...maps, denseInput] : maps;
}

function buildPlan(fn: string, model: LayersModel, options: Record<string, unknown>): Plan {
  const inputIds = new Set(model.inputs.map((input) => input.id));
  const planned = planLogits(fn, model, options);
  const logits = planned.logits;
  const logitsSource = 'tensor' in logits ? logits.tensor : logits.denseInput;
  let features: SymbolicTensor[];
  let roles: FeatureRoles | undefined;
  let preactivations: SymbolicTensor[] = [];
  if (options.features === undefined) {
    features = defaultFeatures(sortNodes([logitsSource], inputIds), logits);
  } else {
    const names = assertFeatureNames(fn, options.features, 'layer');
    features = names.list.map((name) => singleOutput(fn, findLayer(fn, 'features', model, name)));
    preactivations = names.preactivations.map((name) =>
      singleOutput(fn, findLayer(fn, 'features.preactivations', model, name)),
    );
    roles = names.roles;
  }
  roles ??= featureRoles(features.map((feature) => feature.shape.length));
  if (roles.pooled !== undefined && features[roles.pooled]!.shape.length !== 2) {
    const pooled = features[roles.pooled]!;
    throw new Error(
      `${fn}: features.pooled '${pooled.sourceLayer.name}' outputs ${formatShape(pooled.shape)}; pooled must be [N, D]`,
    );
  }
  const nodes = sortNodes([logitsSource, ...features, ...preactivations], inputIds);
  for (const node of nodes) {
    if (node.inputTensors.length === 0) {
      throw new Error(`${fn}: layer '${node.outboundLayer.name}' is not computed from the model's inputs`);
    }
  }
  return {
    nodes,
    logits,
    numClasses: planned.numClasses,
    features,
    featureNames: features.map((feature) => feature.sourceLayer.name),
    roles,
    preactivations,
  };
}

/**
 * Wraps a `tf.LayersModel` as a `KdModel` for `@kd/trainer` and `@kd/cam`, without copying a weight:
 *
 *   apply(x, { training }) = { logits: z(x), features: [a_ℓ(x) for ℓ in features], stem, stages, pooled, … }
 *
 * where every layer runs as in `model.fit` (`training` is passed through, so BatchNormalization uses batch
 * statistics and updates its moving mean/variance, Dropout drops) or as in `model.predict`. The variables are
 * the model's own `LayerVariable`s (`read()`), trainable ones in `trainableVariables`, the rest (BN moving
 * statistics, frozen layers) in `nonTrainableVariables`: training updates the model in place and
 * `model.save(...)` afterwards writes the trained weights in the standard format `tf.loadLayersModel` reads.
 *
 * A softmax head (a final `Dense` with `activation: 'softmax'`, or an `Activation`/`Softmax` layer) outputs
 * probabilities; by default its pre-activation is read as the logits (`x·W + b` for Dense, the softmax's
 * input otherwise). `featureHook` (Grad-CAM) is applied to each feature as the graph computes it. The named
 * features (`stem`, `stages`, `pooled`, `preactivations`) come from `options.features` (see
 * {@link FromLayersModelOptions.features}).
 *
 * @example
 * const student = fromLayersModel(keras, { features: { stem: 'conv1', stages: ['conv2'], pooled: 'flatten' } });
 * await distillStudent({ student, teacher, data, objectives: [{ method: 'kd', weight: 1 }, { method: 'at', weight: 1000 }] });
 * await keras.save('file://student'); // the distilled weights
 */
export function fromLayersModel(model: LayersModel, options: FromLayersModelOptions = {}): LayersKdModel {
  const fn = 'fromLayersModel';
  if (
    model === null ||
    typeof model !== 'object' ||
    !Array.isArray((model as Partial<LayersModel>).layers) ||
    !Array.isArray((model as Partial<LayersModel>).inputs)
  ) {
    throw new Error(
      `${fn}: model must be a tf.LayersModel (tf.sequential, tf.model or tf.loadLayersModel), got ${describeValue(model)}`,
    );
  }
  const opts = assertOptions(fn, options, OPTION_KEYS);
  if (model.inputs.length !== 1)
    throw new Error(
      `${fn}: '${model.name}' has ${model.inputs.length} inputs; only single-input image models are supported`,
    );
  const inputShape = (model.inputs[0] as SymbolicTensor).shape;
  if (inputShape.length !== 4 || typeof inputShape[3] !== 'number') {
    throw new Error(
      `${fn}: '${model.name}' takes ${formatShape(inputShape)}; it must take NHWC images [N, H, W, C] with a known C`,
    );
  }
  const name = opts.name === undefined ? model.name : assertName(fn, 'name', opts.name);
  const plan = buildPlan(fn, model, opts);
  const inputId = (model.inputs[0] as SymbolicTensor).id;
  const numClasses = plan.numClasses;
  const featureIndices = new Map<number, number[]>();
  plan.features.forEach((feature, index) =>
    featureIndices.set(feature.id, [...(featureIndices.get(feature.id) ?? []), index]),
  );
  const [height, width, channels] = inputShape.slice(1) as [number | null, number | null, number];
  const applyFn = `${fn}('${name}').apply`;
  let disposed = false;

  const apply = (images: tf.Tensor4D, applyOptions: ApplyOptions): ModelOutput => {
    if (disposed) throw new Error(`${applyFn}: the model was disposed`);
    const { training } = assertApplyArguments(applyFn, images, applyOptions, inputShape);
    const hook = applyOptions.featureHook;
    return tf.tidy(() => {
      const values = new Map<number, tf.Tensor>([[inputId, images]]);
      const features: tf.Tensor[] = new Array(plan.features.length);
      for (const node of plan.nodes) {
        const inputs = node.inputTensors.map((input) => values.get(input.id) as tf.Tensor);
        const outputs = node.outboundLayer.apply(inputs.length === 1 ? (inputs[0] as tf.Tensor) : inputs, { training });
        const list = (Array.isArray(outputs) ? outputs : [outputs]) as tf.Tensor[];
        node.outputTensors.forEach((symbolic, index) => {
          let value = list[index] as tf.Tensor;
          for (const featureIndex of featureIndices.get(symbolic.id) ?? []) {
            if (hook !== undefined) {
              const hooked = hook(featureIndex, value);
              if (hooked.shape.join(',') !== value.shape.join(',')) {
                throw new Error(
                  `${applyFn}: featureHook returned ${formatShape(hooked.shape)} for feature ${featureIndex}, expected ${formatShape(value.shape)}`,
                );
              }
              value = hooked;
            }
            features[featureIndex] = value;
          }
          values.set(symbolic.id, value);
        });
      }
      let logits: tf.Tensor;
      if ('tensor' in plan.logits) {
        logits = values.get(plan.logits.tensor.id) as tf.Tensor;
      } else {
        const [kernel, bias] = plan.logits.dense.weights.map((weight) => weight.read());
        const product = tf.matMul(values.get(plan.logits.denseInput.id) as tf.Tensor2D, kernel as tf.Tensor2D);
        logits = bias === undefined ? product : tf.add(product, bias);
      }
      const { stem, stages, pooled } = plan.roles;
      return {
        logits: logits as tf.Tensor2D,
        features,
        ...(stem === undefined ? {} : { stem: features[stem] }),
        stages: stages.map((index) => features[index] as tf.Tensor),
        ...(pooled === undefined ? {} : { pooled: features[pooled] as tf.Tensor2D }),
        preactivations: plan.preactivations.map((tensor) => values.get(tensor.id) as tf.Tensor),
      };
    });
  };

  // LayerVariable.read() returns the tf.Variable that holds the weight (typed as a plain Tensor).
  const variableOf = (weight: LayerVariable) => weight.read() as tf.Variable;
  const variables = (list: readonly LayerVariable[]) => list.map(variableOf);
  return {
    name,
    numClasses,
    inputChannels: channels,
    ...(height !== null && width !== null ? { inputSize: [height, width] as const } : {}),
    inputShape,
    layersModel: model,
    featureNames: plan.featureNames,
    get trainableVariables() {
      return variables(model.trainableWeights);
    },
    get nonTrainableVariables() {
      return variables(model.nonTrainableWeights);
    },
    get namedVariables(): NamedVariable[] {
      return model.weights.map((weight) => ({
        name: weight.originalName,
        variable: variableOf(weight),
        trainable: weight.trainable,
      }));
    },
    apply,
    countParams: () => model.trainableWeights.reduce((sum, weight) => sum + variableOf(weight).size, 0),
    dispose() {
      if (disposed) return;
      disposed = true;
      model.dispose();
    },
  };
}
