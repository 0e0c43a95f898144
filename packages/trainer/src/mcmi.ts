import * as tf from '@tensorflow/tfjs-core';
import { conditionalMutualInformation, crossEntropy } from '@kd/losses';
import type { KdModel } from '@kd/models';
import { measureClassConditionalStatistics, type CmiStatistics } from './eval/cmi';
import { assertGradientsRegistered } from './engine/gradients';
import { runTraining, type TrainingResult, type TrainingTask } from './engine/loop';
import { collectModel, describeModel, restoreModel } from './engine/model-state';
import { COMMON_KEYS, assertModel, describeSettings, resolveCommonOptions, type CommonTrainingOptions } from './engine/options';
import type { JsonValue } from './io/checkpoint';
import { assertKnownOptions } from '@kd/internal';
import { assertNumber, assertObject, describeValue } from './validate';

/** When to stop an MCMI fine-tuning that collapses (see {@link fineTuneTeacherMCMI}). */
export interface CollapseGuard {
  /**
   * Stop when an epoch's training accuracy falls below this fraction of the pretrained teacher's accuracy
   * in the centroid pass. Default 0.5.
   */
  minAccuracyRatio?: number;
  /** Stop when an epoch's mean training cross-entropy exceeds this many nats. Default: log(numClasses) (chance). */
  maxCrossEntropy?: number;
}

/** Options of {@link fineTuneTeacherMCMI}. */
export interface FineTuneTeacherMcmiOptions extends CommonTrainingOptions {
  /** The pretrained (cross-entropy) teacher; fine-tuned in place. */
  model: KdModel;
  /** λ in CE − λ·CMI (positive maximises CMI). Default 0.25. */
  lambda?: number;
  /** Stop with a `TrainingCollapsedError` when the objective collapses; false to disable. Default {}. */
  collapseGuard?: CollapseGuard | false;
  /** Measure the teacher's CMI on the training set (eval mode) every this many epochs; 0 disables. Default 1. */
  cmiEvery?: number;
}

/** The lr default of the MCMI scripts: half the RepDistiller default (0.05, or 0.005 for MobileNetV2/ShuffleNets). */
function defaultMcmiLearningRate(modelName: string): number {
  return /^(mobilenetv2|mobile_half|shufflev1|shufflev2|shufflenetv1|shufflenetv2)/i.test(modelName) ? 0.005 : 0.05;
}

/**
 * Fine-tunes a pretrained teacher with the MCMI objective (ICLR 2024; research note §1.2–1.3):
 *
 *   L = CE(z, y) − λ·Î,   Î = (1/B) Σ_i KL(softmax(z_i) ‖ Q̂_{y_i})
 *
 * with the class centroids Q̂ computed **once**, before fine-tuning, by a full pass of the pretrained teacher
 * over the augmented training set in training-mode batch norm (as the reference's `centroid.py`, which also
 * updates the BN running statistics), then held fixed. Defaults: λ = 0.25, 20 epochs, lr 0.05, cosine
 * schedule, SGD momentum 0.9, weight decay 5e-4, batch 64. Logs the teacher's CMI on the training set
 * (eval mode, `MTCMI.py`) each epoch as `extra.teacherCmi` (and before fine-tuning as `extra.initialTeacherCmi`;
 * the centroid pass's own CMI and accuracy as `extra.centroidPassCmi` / `extra.centroidPassAccuracy`).
 *
 * Collapse: the CMI term is unbounded; with λ too large (≈0.5 on 10 classes, research note §4 "Measured
 * here") the teacher learns to predict a wrong class confidently and accuracy falls below chance within an
 * epoch. The collapse guard stops the run with a `TrainingCollapsedError` before the collapsed epoch is
 * checkpointed.
 *
 * @example
 * const result = await fineTuneTeacherMCMI({ model: teacher, data: { train, test }, lambda: 0.25,
 *   store: directoryStore('runs/resnet56-mcmi'), resume: 'auto' });
 * console.log(result.history.map((epoch) => epoch.extra.teacherCmi));
 */
export async function fineTuneTeacherMCMI(options: FineTuneTeacherMcmiOptions): Promise<TrainingResult> {
  const fn = 'fineTuneTeacherMCMI';
  assertObject(fn, 'options', options);
  assertKnownOptions(fn, options, [...COMMON_KEYS, 'model', 'lambda', 'collapseGuard', 'cmiEvery']);
  const model = assertModel(fn, 'model', options.model);
  if (options.lambda !== undefined && typeof options.lambda !== 'number') {
    throw new Error(`${fn}: lambda must be a number (λ in CE − λ·CMI), got ${describeValue(options.lambda)}`);
  }
  const lambda = assertNumber(fn, 'lambda', options.lambda ?? 0.25);
  const cmiEvery = assertNumber(fn, 'cmiEvery', options.cmiEvery ?? 1, { integer: true, nonNegative: true });
  const guard = options.collapseGuard ?? {};
  let minAccuracyRatio = 0;
  let maxCrossEntropy = Infinity;
  if (guard !== false) {
    assertObject(fn, 'collapseGuard', guard);
    assertKnownOptions(fn, guard, ['minAccuracyRatio', 'maxCrossEntropy'], 'collapseGuard');
    minAccuracyRatio = assertNumber(fn, 'collapseGuard.minAccuracyRatio', guard.minAccuracyRatio ?? 0.5, { min: 0, max: 1 });
    maxCrossEntropy = assertNumber(fn, 'collapseGuard.maxCrossEntropy', guard.maxCrossEntropy ?? Math.log(model.numClasses), {
      positive: true,
    });
  }
  const settings = resolveCommonOptions(fn, options, {
    epochs: 20,
    learningRate: defaultMcmiLearningRate(model.name),
    schedule: { kind: 'cosine' },
  }, model);
  assertGradientsRegistered(fn);
  const numClasses = model.numClasses;
  const config = {
    model: describeModel(model),
    lambda,
    cmiEvery,
    collapseGuard: guard === false ? false : { minAccuracyRatio, maxCrossEntropy: Number.isFinite(maxCrossEntropy) ? maxCrossEntropy : null },
    ...describeSettings(settings, options),
  };

  let centroids: tf.Tensor2D | undefined;
  let centroidPass: Omit<CmiStatistics, 'centroids'> | undefined;
  let initialTeacherCmi: number | undefined;
  const measureTeacherCmi = async () =>
    (await measureClassConditionalStatistics({ model, dataset: settings.train, loader: settings.loader, batchSize: settings.evaluationBatchSize })).cmi;
  const setCentroids = (values: Float32Array) => {
    centroids?.dispose();
    centroids = tf.tensor2d(values, [numClasses, numClasses]);
  };

  const task: TrainingTask = {
    functionName: fn,
    model,
    trainableVariables: [...model.trainableVariables],
    partNames: ['ce', 'cmi'],
    async initialize() {
      // The pretrained teacher's CMI (eval mode), measured before the centroid pass moves its BN statistics.
      if (cmiEvery > 0) initialTeacherCmi = await measureTeacherCmi();
      // One full pass of the pretrained teacher, training-mode BN, augmented data (centroid.py), then fixed.
      const statistics = await measureClassConditionalStatistics({
        model,
        dataset: settings.train,
        loader: settings.loader,
        batchSize: settings.batchSize,
        training: true,
        augment: settings.augment,
        seed: settings.seed,
      });
      setCentroids(statistics.centroids);
      centroidPass = { cmi: statistics.cmi, accuracy: statistics.accuracy, crossEntropy: statistics.crossEntropy, count: statistics.count };
    },
    losses(batch) {
      const { logits } = model.apply(batch.images, { training: true });
      // CE − λ·Î with the fixed centroids; logged as the parts 'ce' and 'cmi' = −λ·Î.
      const ce = crossEntropy(logits, batch.labels);
      const cmi = conditionalMutualInformation(logits, batch.labels, { numClasses, centroids: centroids as tf.Tensor2D });
      return { parts: [ce, tf.mul(-lambda, cmi) as tf.Scalar], logits };
    },
    async stateTensors() {
      const tensors = new Map<string, tf.Tensor>();
      collectModel(tensors, 'model', model);
      tensors.set('mcmi/centroids', centroids as tf.Tensor2D);
      return { tensors, temporaries: [] };
    },
    async restoreStateTensors(tensors) {
      restoreModel(fn, tensors, 'model', model);
      const saved = tensors.get('mcmi/centroids');
      if (saved === undefined) throw new Error(`${fn}: the checkpoint lacks the fixed centroids 'mcmi/centroids'`);
      setCentroids(saved.dataSync() as Float32Array);
    },
    stateJson: () => ({ centroidPass: (centroidPass ?? null) as unknown as JsonValue, initialTeacherCmi: initialTeacherCmi ?? null }),
    restoreStateJson(state) {
      centroidPass = (state.centroidPass ?? undefined) as unknown as typeof centroidPass;
      initialTeacherCmi = typeof state.initialTeacherCmi === 'number' ? state.initialTeacherCmi : undefined;
    },
    async epochMetrics(epoch) {
      const extra: Record<string, number> = {};
      if (centroidPass !== undefined) {
        extra.centroidPassCmi = centroidPass.cmi;
        extra.centroidPassAccuracy = centroidPass.accuracy;
      }
      if (initialTeacherCmi !== undefined) extra.initialTeacherCmi = initialTeacherCmi;
      if (cmiEvery > 0 && (epoch % cmiEvery === 0 || epoch === settings.epochs)) extra.teacherCmi = await measureTeacherCmi();
      return extra;
    },
    collapseMessage(record) {
      if (guard === false || centroidPass === undefined) return undefined;
      const ce = record.train.losses.ce ?? Number.NaN;
      const floor = minAccuracyRatio * centroidPass.accuracy;
      const advice =
        `λ = ${lambda} is likely too large for ${numClasses} classes (research note §4: λ ≥ 0.5 collapses on 10 classes): ` +
        `the CMI term is maximised by predicting a wrong class confidently. Lower lambda, or pass collapseGuard: false to ` +
        `train on regardless.`;
      if (record.train.accuracy < floor) {
        return `training accuracy ${(100 * record.train.accuracy).toFixed(2)}% fell below ${(100 * minAccuracyRatio).toFixed(0)}% of ` +
          `the pretrained teacher's ${(100 * centroidPass.accuracy).toFixed(2)}%. ${advice}`;
      }
      if (!(ce <= maxCrossEntropy)) {
        return `training cross-entropy ${ce.toFixed(4)} exceeded ${maxCrossEntropy.toFixed(4)} nats. ${advice}`;
      }
      return undefined;
    },
    fingerprint: { functionName: fn, ...config },
    recordConfig: config,
    dispose() {
      centroids?.dispose();
      centroids = undefined;
    },
  };
  try {
    return await runTraining(task, settings);
  } finally {
    task.dispose();
  }
}
