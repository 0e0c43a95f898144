/**
 * `fromGraphModel`: a `tf.GraphModel` (a converted SavedModel, `tf.loadGraphModel`) as a teacher-only `KdModel`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { featureRoles, type ApplyOptions, type KdModel, type ModelOutput } from '@kd/models';
import {
  assertApplyArguments,
  assertFeatureNames,
  assertName,
  assertOptions,
  describeValue,
  formatShape,
  type FeatureLayerNames,
} from './validate';

/**
 * What {@link fromGraphModel} uses of a `tf.GraphModel` (`@tensorflow/tfjs-converter`), so this package needs
 * the converter only when you load a graph model.
 */
export interface GraphModelLike {
  readonly inputs: ReadonlyArray<{ readonly name: string; readonly shape?: readonly number[]; readonly dtype: string }>;
  execute(inputs: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap, outputs?: string | string[]): tf.Tensor | tf.Tensor[];
}

/** Options of {@link fromGraphModel}. */
export interface FromGraphModelOptions {
  /** Name of the graph node whose output is the `[N, numClasses]` logits (not the softmax). */
  logits: string;
  /**
   * Which graph nodes' outputs are the model's features: an object naming each role, `{ stem, stages, pooled,
   * preactivations }` (node names; `features` is then `[stem, ...stages, pooled]`), or an array of node names,
   * the positional list in RepDistiller's layout (NHWC maps, then the penultimate vector: a last entry of rank 2
   * is `pooled`, the first of the others `stem`, the rest `stages`). Default: none.
   */
  features?: string[] | FeatureLayerNames;
  /** `[height, width]` of the probe image, needed only when the graph's input leaves them unknown. */
  inputSize?: [number, number];
  /** `KdModel.name`. Default `'graph-model'`. */
  name?: string;
}

const OPTION_KEYS = ['logits', 'features', 'inputSize', 'name'] as const;

/** Why a graph model cannot be the model a trainer trains. */
export const GRAPH_MODEL_INFERENCE_ONLY =
  'a tf.GraphModel is inference-only: its weights are constants of the graph (no trainable variables) and it has ' +
  'no training mode, so it can be a teacher but not a student; convert the model as a tf.LayersModel ' +
  '(tensorflowjs_converter --output_format tfjs_layers_model) and use fromLayersModel to train it';

/** A teacher-only `KdModel` over a `tf.GraphModel`: {@link fromGraphModel}'s result. */
export interface GraphKdModel extends KdModel {
  readonly graphModel: GraphModelLike;
  /** The node name of each entry of `features`. */
  readonly featureNames: readonly string[];
  readonly inferenceOnly: string;
}

/**
 * Wraps a `tf.GraphModel` as a frozen teacher: `apply(x, { training: false })` runs
 * `model.execute(x, [logits, ...features])` and returns the logits and the named nodes' outputs as features
 * (named by role as `options.features` says: `stem`, `stages`, `pooled`, `preactivations`).
 * A graph model has no trainable variables and no training mode, so `training: true` and every trainer that
 * would train it (`trainSupervised`, `fineTuneTeacherMcmi`, `distillStudent`'s student) refuse it; `featureHook`
 * (Grad-CAM) is refused too, since the graph's intermediate tensors cannot be replaced. Eigen-CAM works on its
 * features. The input is NHWC float32; the graph's input shape is checked.
 *
 * The logits must be pre-softmax: name the node before the softmax (e.g. `StatefulPartitionedCall/dense/BiasAdd`).
 *
 * @example
 * const teacher = fromGraphModel(await tf.loadGraphModel('file://teacher/model.json'),
 *   { logits: 'logits', features: { stem: 'block1/relu', stages: ['block2/relu'], pooled: 'pool' } });
 * await distillStudent({ student, teacher, data });
 */
export function fromGraphModel(model: GraphModelLike, options: FromGraphModelOptions): GraphKdModel {
  const fn = 'fromGraphModel';
  if (
    model === null ||
    typeof model !== 'object' ||
    typeof (model as Partial<GraphModelLike>).execute !== 'function' ||
    !Array.isArray((model as Partial<GraphModelLike>).inputs)
  ) {
    throw new Error(`${fn}: model must be a tf.GraphModel (tf.loadGraphModel), got ${describeValue(model)}`);
  }
  const opts = assertOptions(fn, options, OPTION_KEYS);
  const logitsNode = assertName(fn, 'logits', opts.logits);
  const featurePlan = opts.features === undefined ? undefined : assertFeatureNames(fn, opts.features, 'graph node');
  const featureNodes = featurePlan?.list ?? [];
  const preactivationNodes = featurePlan?.preactivations ?? [];
  const name = opts.name === undefined ? 'graph-model' : assertName(fn, 'name', opts.name);
  if (model.inputs.length !== 1)
    throw new Error(`${fn}: the graph has ${model.inputs.length} inputs; only single-input image models are supported`);
  const input = model.inputs[0] as GraphModelLike['inputs'][number];
  const graphShape = input.shape;
  if (graphShape === undefined || graphShape.length !== 4 || !(graphShape[3] !== undefined && graphShape[3] > 0)) {
    throw new Error(
      `${fn}: the graph's input '${input.name}' is ${graphShape === undefined ? 'of unknown shape' : formatShape(graphShape)}; it must be NHWC [N, H, W, C] with a known C`,
    );
  }
  if (input.dtype !== 'float32')
    throw new Error(`${fn}: the graph's input '${input.name}' is ${input.dtype}; images must be float32`);
  const inputShape: (number | null)[] = graphShape.map((size, axis) => (axis === 0 || size < 0 ? null : size));
  let [height, width] = [inputShape[1] as number | null, inputShape[2] as number | null];
  if (opts.inputSize !== undefined) {
    const size = opts.inputSize;
    if (!Array.isArray(size) || size.length !== 2 || !size.every((value) => Number.isInteger(value) && value > 0)) {
      throw new Error(`${fn}: inputSize must be [height, width] (positive integers), got ${JSON.stringify(size)}`);
    }
    if ((height !== null && height !== size[0]) || (width !== null && width !== size[1])) {
      throw new Error(`${fn}: inputSize [${size.join(',')}] contradicts the graph's input ${formatShape(inputShape)}`);
    }
    [height, width] = size as [number, number];
  }
  if (height === null || width === null) {
    throw new Error(
      `${fn}: the graph's input ${formatShape(inputShape)} leaves the image size open; pass inputSize: [height, width]`,
    );
  }
  const channels = inputShape[3] as number;
  const outputs = [logitsNode, ...featureNodes, ...preactivationNodes];
  const applyFn = `${fn}('${name}').apply`;

  const run = (images: tf.Tensor4D, where: string): tf.Tensor[] => {
    let result: tf.Tensor | tf.Tensor[];
    try {
      result = model.execute(images, outputs);
    } catch (error) {
      throw new Error(
        `${where}: executing the graph for outputs ${outputs.join(', ')} failed: ${(error as Error).message}`,
      );
    }
    return Array.isArray(result) ? result : [result];
  };

  // One probe image: checks the node names and reads the number of classes, before any training starts.
  const probe = tf.tidy(() => run(tf.zeros([1, height, width, channels]) as tf.Tensor4D, fn));
  const logitsShape = (probe[0] as tf.Tensor).shape;
  const featureRanks = probe.slice(1, 1 + featureNodes.length).map((tensor) => tensor.rank);
  tf.dispose(probe);
  if (logitsShape.length !== 2) {
    throw new Error(
      `${fn}: logits node '${logitsNode}' outputs ${formatShape(logitsShape)}; logits must be [N, numClasses]`,
    );
  }
  const roles = featurePlan?.roles ?? featureRoles(featureRanks);
  if (roles.pooled !== undefined && featureRanks[roles.pooled] !== 2) {
    throw new Error(
      `${fn}: features.pooled '${featureNodes[roles.pooled]}' outputs a rank-${featureRanks[roles.pooled]} tensor; pooled must be [N, D]`,
    );
  }

  return {
    name,
    numClasses: logitsShape[1] as number,
    inputChannels: channels,
    ...(inputShape[1] != null && inputShape[2] != null ? { inputSize: [inputShape[1], inputShape[2]] as const } : {}),
    graphModel: model,
    featureNames: featureNodes,
    inferenceOnly: GRAPH_MODEL_INFERENCE_ONLY,
    trainableVariables: [],
    nonTrainableVariables: [],
    apply(images: tf.Tensor4D, applyOptions: ApplyOptions): ModelOutput {
      const { training } = assertApplyArguments(applyFn, images, applyOptions, inputShape);
      if (training) throw new Error(`${applyFn}: training must be false: ${GRAPH_MODEL_INFERENCE_ONLY}`);
      if (applyOptions.featureHook !== undefined) {
        throw new Error(
          `${applyFn}: featureHook is not supported: a graph model's intermediate tensors cannot be replaced (Grad-CAM needs a LayersModel; Eigen-CAM works on the features)`,
        );
      }
      const [logits, ...rest] = run(images, applyFn);
      const features = rest.slice(0, featureNodes.length);
      return {
        logits: logits as tf.Tensor2D,
        features,
        ...(roles.stem === undefined ? {} : { stem: features[roles.stem] }),
        stages: roles.stages.map((index) => features[index] as tf.Tensor),
        ...(roles.pooled === undefined ? {} : { pooled: features[roles.pooled] as tf.Tensor2D }),
        preactivations: rest.slice(featureNodes.length),
      };
    },
    countParams: () => 0,
    dispose: () => undefined,
  };
}
