/**
 * Grad-CAM (Selvaraju et al. 2017): a class-specific map from a feature map weighted by the spatial mean of the
 * class logit's gradient with respect to it.
 */
import { assertKnownOptions } from '@kd/internal';
import * as tf from '@tensorflow/tfjs-core';
import type { ApplyOptions, KdModel } from '@kd/models';
import { normalizeCam } from './eigen-cam';
import { assertFloat, assertGradientsRegistered, assertNonEmpty, assertNumber, assertRank } from './validate';

export type { FeatureHook } from '@kd/models';

/**
 * The `apply` options Grad-CAM passes: `@kd/models`' {@link ApplyOptions}, whose `featureHook` every zoo model
 * honours. A custom `KdModel` must honour it too, or {@link gradCam} throws.
 */
export type HookableApplyOptions = ApplyOptions;

export interface GradCamOptions {
  /**
   * The class whose logit is explained: one index for every image or one per image. Default: each image's
   * predicted class (arg-max logit).
   */
  classIndex?: number | number[];
  /**
   * The NHWC map to explain: an index into the model's `features` list, or a name from its `featureNames` (a
   * Keras layer name for `@kd/layers` models). Default: the last rank-4 feature (the last conv stage, before
   * pooling).
   */
  layer?: number | string;
}

/**
 * Grad-CAM for any model whose `apply` honours {@link HookableApplyOptions.featureHook}. With A the `[H, W, C]`
 * feature map of one image at `layer` and y the logit of its class k (inference mode):
 *
 *   w_c = (1 / HW) Σ_{h,w} ∂y / ∂A[h, w, c]
 *   cam = ReLU(Σ_c w_c · A[:, :, c]),  then (cam − min) / (max − min + 1e-7)
 *
 * ∂y/∂A is obtained by adding a zero tensor δ to A through the hook and differentiating with respect to δ, so
 * only the part of the network after the layer is back-propagated. Needs registered gradients (import
 * `@tensorflow/tfjs`). Returns a new `[N, H, W]` tensor in [0, 1) that the caller owns.
 *
 * @example
 * const maps = gradCam(model, images, { classIndex: 3 }); // [N, H, W] for class 3
 */
export function gradCam(model: KdModel, images: tf.Tensor4D, options: GradCamOptions = {}): tf.Tensor3D {
  const fn = 'gradCam';
  assertKnownOptions(fn, options, ['classIndex', 'layer']);
  if (model === null || typeof model !== 'object' || typeof model.apply !== 'function') {
    throw new Error(
      `${fn}: model must be a KdModel (an object with apply()), got ${model === null ? 'null' : typeof model}`,
    );
  }
  const input = assertRank(fn, 'images', images, 4, '[N, H, W, C]') as tf.Tensor4D;
  assertFloat(fn, 'images', input);
  assertNonEmpty(fn, 'images', input);
  if (input.shape[3] !== model.inputChannels) {
    throw new Error(
      `${fn}: images have ${input.shape[3]} channels, model '${model.name}' expects ${model.inputChannels}`,
    );
  }
  assertGradientsRegistered(fn);
  const batch = input.shape[0];

  // A first inference pass: the feature shapes (δ must exist before the differentiated function runs) and,
  // when no class is given, the predicted classes. Its identity hook records which features the model routes
  // through the hook: a model that ignores it is caught here, before tf.grad (whose "x not used" error would
  // leave the tape's tensors behind).
  let featureShapes: number[][] = [];
  const hooked = new Set<number>();
  const probe: HookableApplyOptions = {
    training: false,
    featureHook: (index, feature) => {
      hooked.add(index);
      return feature;
    },
  };
  const predicted = tf.tidy(() => {
    const output = model.apply(input, probe);
    featureShapes = output.features.map((feature) => feature.shape);
    return tf.argMax(output.logits, 1);
  });
  const predictedClasses = Array.from(predicted.dataSync());
  predicted.dispose();

  const layer =
    typeof options.layer === 'string'
      ? featureIndexByName(fn, model, options.layer)
      : (options.layer ?? lastSpatialFeature(featureShapes));
  assertNumber(fn, 'layer', layer, { integer: true, min: 0, max: featureShapes.length - 1 });
  const featureShape = featureShapes[layer] as number[];
  if (featureShape.length !== 4) {
    throw new Error(
      `${fn}: layer ${layer} is rank ${featureShape.length} [${featureShape.join(',')}]; Grad-CAM needs an NHWC ` +
        `feature map (rank-4 features: ${spatialFeatureList(featureShapes)})`,
    );
  }
  if (!hooked.has(layer)) {
    throw new Error(
      `${fn}: model '${model.name}' did not call options.featureHook for layer ${layer}; its apply() must support ` +
        `HookableApplyOptions.featureHook (see the @kd/cam README)`,
    );
  }
  const classes = resolveClasses(fn, options.classIndex, predictedClasses, batch, model.numClasses);

  // Written by the hook; a cast keeps TypeScript from narrowing it to `undefined` (closures assign it).
  let captured = undefined as tf.Tensor | undefined;
  let tensors: readonly [tf.Tensor, tf.Tensor];
  try {
    tensors = tf.tidy(() => {
      const mask = tf.oneHot(tf.tensor1d(classes, 'int32'), model.numClasses); // picks y = logits[n, k_n]
      const delta = tf.zeros(featureShape);
      const hookOnLayer = (feature: tf.Tensor, shift: tf.Tensor): tf.Tensor => {
        if (feature.shape.some((size, axis) => size !== featureShape[axis])) {
          throw new Error(`${fn}: model '${model.name}' changed feature ${layer}'s shape between passes`);
        }
        captured?.dispose();
        captured = tf.keep(tf.clone(feature)); // kept: tf.grad disposes the forward pass's intermediates
        return tf.add(feature, shift); // A + δ with δ = 0: ∂y/∂δ = ∂y/∂A
      };
      // Σ_n y_n: the images are independent in inference mode, so ∂/∂δ_n of the sum is ∂y_n/∂A_n.
      const objective = (shift: tf.Tensor): tf.Scalar => {
        const hookedOptions: HookableApplyOptions = {
          training: false,
          featureHook: (index, feature) => (index === layer ? hookOnLayer(feature, shift) : feature),
        };
        return tf.sum(tf.mul(model.apply(input, hookedOptions).logits, mask));
      };
      const gradient = tf.grad(objective)(delta);
      if (captured === undefined)
        throw new Error(`${fn}: model '${model.name}' skipped featureHook on the gradient pass`);
      return [captured, gradient] as const;
    });
  } catch (error) {
    captured?.dispose();
    throw error;
  }
  const [featureMap, featureGradient] = tensors;
  try {
    const cams = tf.tidy(() => {
      const weights = tf.mean(featureGradient, [1, 2], true); // w_c, [N, 1, 1, C]
      return tf.sum(tf.mul(featureMap, weights), 3); // Σ_c w_c A_c, [N, H, W]
    });
    const values = new Float32Array(cams.dataSync());
    cams.dispose();
    const positions = (featureShape[1] as number) * (featureShape[2] as number);
    for (let sample = 0; sample < batch; sample++) {
      normalizeCam(values.subarray(sample * positions, (sample + 1) * positions), { signCorrection: false });
    }
    return tf.tensor3d(values, [batch, featureShape[1] as number, featureShape[2] as number]);
  } finally {
    tf.dispose([featureMap, featureGradient]);
  }
}

function featureIndexByName(fn: string, model: KdModel, name: string): number {
  const names = model.featureNames;
  if (names === undefined)
    throw new Error(
      `${fn}: layer '${name}' is a name, but model '${model.name}' has no featureNames; pass a feature index`,
    );
  const index = names.indexOf(name);
  if (index < 0)
    throw new Error(
      `${fn}: layer '${name}' is not a feature of model '${model.name}'; its features: ${names.join(', ')}`,
    );
  return index;
}

function lastSpatialFeature(shapes: number[][]): number {
  for (let index = shapes.length - 1; index >= 0; index--) if ((shapes[index] as number[]).length === 4) return index;
  throw new Error(`gradCam: the model returns no rank-4 (NHWC) feature map to explain`);
}

function spatialFeatureList(shapes: number[][]): string {
  const list = shapes.flatMap((shape, index) => (shape.length === 4 ? [`${index} [${shape.join(',')}]`] : []));
  return list.length > 0 ? list.join(', ') : 'none';
}

function resolveClasses(
  fn: string,
  classIndex: number | number[] | undefined,
  predicted: number[],
  batch: number,
  numClasses: number,
): number[] {
  if (classIndex === undefined) return predicted;
  const list = Array.isArray(classIndex) ? classIndex : new Array<number>(batch).fill(classIndex);
  if (list.length !== batch) throw new Error(`${fn}: classIndex has ${list.length} entries, images has ${batch}`);
  list.forEach((value, index) => {
    assertNumber(fn, Array.isArray(classIndex) ? `classIndex[${index}]` : 'classIndex', value, {
      integer: true,
      min: 0,
      max: numClasses - 1,
    });
  });
  return list;
}
