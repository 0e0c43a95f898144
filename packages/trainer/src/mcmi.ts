import * as tf from '@tensorflow/tfjs-core';
import { conditionalMutualInformation, crossEntropy } from '@kd/losses';
import { modelRecipe, type KdModel } from '@kd/models';
import { measureClassConditionalStatistics, type CmiStatistics } from './eval/cmi';
import { runTraining, type TrainingResult, type TrainingTask } from './engine/loop';
import { collectModel, describeModel, restoreModel } from './engine/model-state';
import {
  COMMON_KEYS,
  assertModel,
  describeSettings,
  resolveCommonOptions,
  type CommonTrainingOptions,
} from './engine/options';
import type { JsonValue } from './io/checkpoint';
import { assertGradientsRegistered, assertKnownOptions } from '@kd/internal';
import { assertNumber, assertObject, describeValue } from './validate';

/** When to stop an MCMI fine-tuning that collapses (see {@link fineTuneTeacherMcmi}). */
export interface CollapseGuard {
  /**
   * Stop when an epoch's training accuracy falls below this fraction of the pretrained teacher's accuracy
   * in the centroid pass; applies only when that accuracy is clearly above chance (see `collapseReason`). Default 0.5.
   */
  minAccuracyRatio?: number;
  /** Stop when an epoch's mean training cross-entropy exceeds this many nats. Default: log(numClasses) (chance). */
  maxCrossEntropy?: number;
}

/** Options of {@link fineTuneTeacherMcmi}. */
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

/**
 * Whether an epoch of MCMI fine-tuning collapsed, judged against chance p = 1/C: the epoch's training
 * cross-entropy above `maxCrossEntropy` (default log C, a uniform guess) while the pretrained teacher's was
 * below it (a teacher that never beat a uniform guess cannot collapse to one), or its training accuracy below
 * `minAccuracyRatio` of the pretrained teacher's. The accuracy test only means something when the pretrained
 * teacher is clearly above chance, so it applies only when its accuracy over its `pretrainedCount` samples is
 * at least 2p and more than 3 binomial standard errors above p, p + 3·√(p(1 − p)/n) (a 16-image smoke run
 * needs 8.5% on 100 classes, the full CIFAR-100 training set 2%). Returns what was observed, or undefined.
 */
export function collapseReason({
  accuracy,
  crossEntropy,
  pretrainedAccuracy,
  pretrainedCrossEntropy,
  pretrainedCount,
  numClasses,
  lambda,
  minAccuracyRatio,
  maxCrossEntropy,
}: {
  accuracy: number;
  crossEntropy: number;
  pretrainedAccuracy: number;
  pretrainedCrossEntropy: number;
  pretrainedCount: number;
  numClasses: number;
  lambda: number;
  minAccuracyRatio: number;
  maxCrossEntropy: number;
}): string | undefined {
  const why =
    `With λ = ${lambda} the CMI term, which is unbounded, outweighs the cross-entropy: it grows fastest when the ` +
    `teacher predicts a wrong class confidently.`;
  const percent = (value: number) => `${(100 * value).toFixed(2)}%`;
  const chance = 1 / numClasses;
  const clearlyAboveChance = Math.max(2 * chance, chance + 3 * Math.sqrt((chance * (1 - chance)) / pretrainedCount));
  if (pretrainedAccuracy >= clearlyAboveChance && accuracy < minAccuracyRatio * pretrainedAccuracy) {
    return (
      `training accuracy ${percent(accuracy)} fell below ${(100 * minAccuracyRatio).toFixed(0)}% of the pretrained ` +
      `teacher's ${percent(pretrainedAccuracy)} (chance is ${percent(chance)}). ${why}`
    );
  }
  if (!(crossEntropy <= maxCrossEntropy) && pretrainedCrossEntropy < maxCrossEntropy) {
    return (
      `training cross-entropy ${crossEntropy.toFixed(4)} nats exceeded ${maxCrossEntropy.toFixed(4)}` +
      `${maxCrossEntropy === Math.log(numClasses) ? ` (log ${numClasses}, a uniform guess)` : ''}. ${why}`
    );
  }
  return undefined;
}

/** The lr default of the MCMI scripts, as registered with the model (`modelRecipe(name).mcmiLearningRate`). */
function defaultMcmiLearningRate(modelName: string): number {
  return modelRecipe(modelName).mcmiLearningRate;
}

/**
 * Fine-tunes a pretrained teacher with the MCMI objective (ICLR 2024):
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
 * Collapse: the CMI term is unbounded; with λ too large (≈0.5 on 10 classes) the teacher learns to predict
 * a wrong class confidently and accuracy falls below chance within an epoch. The collapse guard (see
 * {@link collapseReason}: cross-entropy above log C, or accuracy below half the pretrained teacher's when that
 * is clearly above chance) stops the run with a `TrainingCollapsedError` before the collapsed epoch is
 * checkpointed. The collapse λ was measured as recorded in `docs/mcmi.md` of this project's repository.
 *
 * @example
 * const result = await fineTuneTeacherMcmi({ model: teacher, data: { train, test }, lambda: 0.25,
 *   store: directoryStore('runs/resnet56-mcmi'), resume: 'auto' });
 * console.log(result.history.map((epoch) => epoch.extra.teacherCmi));
 */
export async function fineTuneTeacherMcmi(options: FineTuneTeacherMcmiOptions): Promise<TrainingResult> {
  const fn = 'fineTuneTeacherMcmi';
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
    minAccuracyRatio = assertNumber(fn, 'collapseGuard.minAccuracyRatio', guard.minAccuracyRatio ?? 0.5, {
      min: 0,
      max: 1,
    });
    maxCrossEntropy = assertNumber(
      fn,
      'collapseGuard.maxCrossEntropy',
      guard.maxCrossEntropy ?? Math.log(model.numClasses),
      {
        positive: true,
      },
    );
  }
  const settings = resolveCommonOptions(
    fn,
    options,
    {
      epochs: 20,
      learningRate: defaultMcmiLearningRate(model.name),
      schedule: { kind: 'cosine' },
    },
    model,
  );
  assertGradientsRegistered(fn);
  const numClasses = model.numClasses;
  const config = {
    model: describeModel(model),
    lambda,
    cmiEvery,
    collapseGuard:
      guard === false
        ? false
        : { minAccuracyRatio, maxCrossEntropy: Number.isFinite(maxCrossEntropy) ? maxCrossEntropy : null },
    ...describeSettings(settings, options),
  };

  let centroids: tf.Tensor2D | undefined;
  let centroidPass: Omit<CmiStatistics, 'centroids'> | undefined;
  let initialTeacherCmi: number | undefined;
  const measureTeacherCmi = async () =>
    (
      await measureClassConditionalStatistics({
        model,
        dataset: settings.train,
        loader: settings.loader,
        batchSize: settings.evaluationBatchSize,
        checkValues: false,
      })
    ).cmi;
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
      // One full pass of the pretrained teacher, training-mode BN, augmented and shuffled data (centroid.py), then fixed.
      const statistics = await measureClassConditionalStatistics({
        model,
        dataset: settings.train,
        loader: settings.loader,
        batchSize: settings.batchSize,
        training: true,
        augment: settings.augment,
        // Shuffled as the reference's loader is: in training-mode BN, class-sorted batches would skew the statistics.
        shuffle: true,
        seed: settings.seed,
        checkValues: false,
      });
      setCentroids(statistics.centroids);
      centroidPass = {
        cmi: statistics.cmi,
        accuracy: statistics.accuracy,
        crossEntropy: statistics.crossEntropy,
        count: statistics.count,
      };
    },
    losses(batch) {
      // The loop's own calls skip the value scans (see runTraining); a user's calls keep their defaults.
      const { logits } = model.apply(batch.images, { training: true, checkValues: false });
      // CE − λ·Î with the fixed centroids; logged as the parts 'ce' and 'cmi' = −λ·Î.
      const ce = crossEntropy(logits, batch.labels, { checkValues: false });
      const cmi = conditionalMutualInformation(logits, batch.labels, {
        numClasses,
        centroids: centroids as tf.Tensor2D,
        checkValues: false,
      });
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
    stateJson: () => ({
      centroidPass: (centroidPass ?? null) as unknown as JsonValue,
      initialTeacherCmi: initialTeacherCmi ?? null,
    }),
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
      if (cmiEvery > 0 && (epoch % cmiEvery === 0 || epoch === settings.epochs))
        extra.teacherCmi = await measureTeacherCmi();
      return extra;
    },
    collapseMessage(record) {
      if (guard === false || centroidPass === undefined) return undefined;
      const reason = collapseReason({
        accuracy: record.train.accuracy,
        crossEntropy: record.train.losses.ce ?? Number.NaN,
        pretrainedAccuracy: centroidPass.accuracy,
        pretrainedCount: centroidPass.count,
        pretrainedCrossEntropy: centroidPass.crossEntropy,
        numClasses,
        lambda,
        minAccuracyRatio,
        maxCrossEntropy,
      });
      return reason === undefined
        ? undefined
        : { reason, advice: 'Lower lambda, or pass collapseGuard: false to train on regardless.' };
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
