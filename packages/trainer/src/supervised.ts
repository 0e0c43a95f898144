import type * as tf from '@tensorflow/tfjs-core';
import { crossEntropy } from '@kd/losses';
import type { KdModel } from '@kd/models';
import { runTraining, type TrainingResult, type TrainingTask } from './engine/loop';
import { collectModel, describeModel, restoreModel } from './engine/model-state';
import {
  COMMON_KEYS,
  assertModel,
  defaultLearningRate,
  describeSettings,
  resolveCommonOptions,
  type CommonTrainingOptions,
} from './engine/options';
import { assertGradientsRegistered, assertKnownOptions } from '@kd/internal';
import { assertObject } from './validate';

/** Options of {@link trainSupervised}. */
export interface TrainSupervisedOptions extends CommonTrainingOptions {
  /** The model to train (its variables are updated in place). */
  model: KdModel;
}

/**
 * Trains any model by cross-entropy on the labels (a teacher, or a baseline student trained without one) with
 * the RepDistiller recipe: SGD momentum 0.9, weight decay 5e-4 added to the gradient, lr 0.05 (0.01 for
 * MobileNetV2/ShuffleNets) multiplied by 0.1 after epochs 150, 180 and 210 of 240, batch 64, crop + flip
 * augmentation.
 *
 *   L = CE(z, y) = −(1/B) Σ_i log softmax(z_i)_{y_i}
 *
 * Evaluates the test set each epoch, checkpoints each epoch when a store is given, resumes with `resume`.
 *
 * @example
 * const teacher = createModel('resnet56', { numClasses: 100, seed: 1 });
 * const result = await trainSupervised({ model: teacher, data: { train, test },
 *   normalization: CIFAR100_NORMALIZATION, store: directoryStore('runs/resnet56'), resume: 'auto' });
 * console.log(result.last.test?.top1);
 */
export async function trainSupervised(options: TrainSupervisedOptions): Promise<TrainingResult> {
  const fn = 'trainSupervised';
  assertObject(fn, 'options', options);
  assertKnownOptions(fn, options, [...COMMON_KEYS, 'model']);
  const model = assertModel(fn, 'model', options.model);
  const epochs = 240;
  const settings = resolveCommonOptions(
    fn,
    options,
    {
      epochs,
      learningRate: defaultLearningRate(model.name),
      schedule: { kind: 'step' },
    },
    model,
  );
  assertGradientsRegistered(fn);
  const config = { model: describeModel(model), ...describeSettings(settings, options) };
  const task: TrainingTask = {
    functionName: fn,
    model,
    trainableVariables: [...model.trainableVariables],
    partNames: ['ce'],
    losses(batch) {
      // The loop's own calls skip the value scans (see runTraining); a user's calls keep their defaults.
      const { logits } = model.apply(batch.images, { training: true, checkValues: false });
      return { parts: [crossEntropy(logits, batch.labels, { checkValues: false })], logits };
    },
    async stateTensors() {
      const tensors = new Map<string, tf.Tensor>();
      collectModel(tensors, 'model', model);
      return { tensors, temporaries: [] };
    },
    async restoreStateTensors(tensors) {
      restoreModel(fn, tensors, 'model', model);
    },
    stateJson: () => ({}),
    restoreStateJson: () => undefined,
    fingerprint: { functionName: fn, ...config },
    recordConfig: config,
    dispose: () => undefined,
  };
  try {
    return await runTraining(task, settings);
  } finally {
    task.dispose();
  }
}
