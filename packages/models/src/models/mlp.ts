/**
 * A multilayer perceptron for inputs of one fixed size: the NHWC input `[N, H, W, C]` is flattened (in NHWC
 * order, index (h·W + w)·C + c) to `[N, H·W·C]`, then each hidden layer is linear → ReLU, then a linear
 * classifier. A d-dimensional vector input is `[N, 1, 1, d]`.
 *
 * The PyTorch module with the same `state_dict` keys:
 * `self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in zip([d] + hidden[:-1], hidden))`,
 * `self.classifier = nn.Linear(hidden[-1], num_classes)`, i.e. `layers.0.weight`, `layers.0.bias`, …,
 * `classifier.weight`, `classifier.bias` (weights stored `[in, out]`, PyTorch's default initialisation).
 *
 * Features: each hidden layer's output after its ReLU (`[N, h_i]`): the first is the `stem`, the last the
 * `pooled` penultimate vector, those between the `stages` (one hidden layer: only `pooled`);
 * `preactivations`: every hidden layer before its ReLU (one per hidden layer, unlike the CNNs).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Dense } from '../layers/dense';
import { recordFeature, type ArchitectureBuilder } from '../zoo-model';

/** Options of {@link mlp}. */
export interface MlpOptions {
  /** Input `[height, width, channels]`; the first layer has height·width·channels inputs. */
  inputShape: readonly [number, number, number];
  /** Width of each hidden layer, at least one. */
  hiddenSizes: readonly number[];
}

/** Builder of an MLP with the given input shape and hidden widths (validated by `createModel`). */
export function mlp({ inputShape, hiddenSizes }: MlpOptions): ArchitectureBuilder {
  const inFeatures = inputShape[0] * inputShape[1] * inputShape[2];
  return (scope, { numClasses }) => {
    const layersScope = scope.child('layers');
    let width = inFeatures;
    const layers = hiddenSizes.map((outFeatures, index) => {
      const layer = new Dense(layersScope.child(index), { inFeatures: width, outFeatures });
      width = outFeatures;
      return layer;
    });
    const classifier = new Dense(scope.child('classifier'), { inFeatures: width, outFeatures: numClasses });

    return (images, _training, featureHook) => {
      let x = tf.reshape(images, [images.shape[0], inFeatures]) as tf.Tensor2D;
      const features: tf.Tensor2D[] = [];
      const preactivations: tf.Tensor[] = [];
      for (const layer of layers) {
        const preact = layer.apply(x);
        preactivations.push(preact);
        x = recordFeature(features, tf.relu(preact), featureHook);
      }
      // The first hidden vector plays the stem's role, the last the pooled vector's, the others the stages'
      // (one hidden layer: only a pooled vector).
      const pooled = x;
      const [stem, ...stages] = features.length > 1 ? features.slice(0, -1) : [];
      return {
        logits: classifier.apply(pooled),
        features,
        ...(stem === undefined ? {} : { stem }),
        stages,
        pooled,
        preactivations,
      };
    };
  };
}
