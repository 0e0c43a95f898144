import { UNLABELED, assertDataset, createLoader } from '@kd/data';
import type { AugmentOptions, Dataset, Normalization } from '@kd/data';
import { modelRecipe, type KdModel } from '@kd/models';
import type { LoaderFactory } from '../data';
import type { JsonValue } from '../io/checkpoint';
import type { RunStore } from '../io/store';
import { validateSchedule, type LearningRateSchedule } from '../optim/schedule';
import type { EpochRecord } from '../report/epoch-record';
import type { ProgressReporter, StepInfo } from '../report/progress';
import { assertBoolean, assertNumber, assertObject, describeValue } from '../validate';
import { resolveProgress, type LoopSettings } from './loop';
import { assertSeed, crc32, SEED_LIMIT } from '@kd/internal';

/** Options every trainer takes. */
export interface CommonTrainingOptions {
  /** Training set (and optionally the test set evaluated after each epoch). */
  data: { train: Dataset; test?: Dataset };
  /** Number of epochs. */
  epochs?: number;
  /** Mini-batch size. Default 64. */
  batchSize?: number;
  /** Batch size of the evaluation passes. Default 64. */
  evaluationBatchSize?: number;
  /** Initial learning rate η₀. */
  learningRate?: number;
  /** SGD momentum. Default 0.9. */
  momentum?: number;
  /** Weight decay added to the gradient before momentum. Default 5e-4. */
  weightDecay?: number;
  /** Learning-rate schedule, evaluated per 1-based epoch. */
  schedule?: LearningRateSchedule;
  /** Seed of shuffling, augmentation and regularizer heads, an integer in [0, 2^32). Default 0. */
  seed?: number;
  /** Training augmentation for the default loader. Default CIFAR's crop (pad 4) + flip; false for none. */
  augmentation?: AugmentOptions | false;
  /** Per-channel normalisation for the default loader (after x/255). Default none ([0, 1] pixels). */
  normalization?: Normalization;
  /** Samples per epoch for the default loader (few-shot runs cycle a subset as many times as the full set). */
  epochLength?: number;
  /** Drop the last incomplete training batch. Default false (as the reference). */
  dropLast?: boolean;
  /** Replaces the default loader (`@kd/data`'s `createLoader` with the options above). */
  loader?: LoaderFactory;
  /** Where checkpoints, `metrics.jsonl`, `run.json` and `curves.png` go (`directoryStore` in Node). */
  store?: RunStore;
  /** true: continue from the store's checkpoint (error if none); 'auto': continue if there is one. Default false. */
  resume?: boolean | 'auto';
  /** Stops the run between two steps with a `TrainingAbortedError`. */
  signal?: AbortSignal;
  /** After every optimiser step (throwing stops the run; the last checkpoint stays intact). */
  onStepEnd?: (info: StepInfo) => void | Promise<void>;
  /** After every epoch, once its checkpoint is written. */
  onEpochEnd?: (record: EpochRecord) => void | Promise<void>;
  /** Console progress bar (default true), false for none, or your own reporter. */
  progress?: boolean | ProgressReporter;
}

/**
 * The seed of part `offset` of a run (objective k's head: offset 1000·k; its sub-heads add their position),
 * (seed + offset) mod 2^32: always a valid seed, equal to seed + offset whenever that is below 2^32.
 */
export function offsetSeed(seed: number, offset: number): number {
  return (seed + offset) % SEED_LIMIT;
}

export const COMMON_KEYS = [
  'data',
  'epochs',
  'batchSize',
  'evaluationBatchSize',
  'learningRate',
  'momentum',
  'weightDecay',
  'schedule',
  'seed',
  'augmentation',
  'normalization',
  'epochLength',
  'dropLast',
  'loader',
  'store',
  'resume',
  'signal',
  'onStepEnd',
  'onEpochEnd',
  'progress',
] as const;

/**
 * The lr default of the recipes, as registered with the model in `@kd/models` (`modelRecipe`): 0.05, or 0.01
 * for MobileNetV2 and the ShuffleNets; 0.05 for a model outside the registry.
 */
export function defaultLearningRate(modelName: string): number {
  return modelRecipe(modelName).learningRate;
}

/**
 * Checks a model argument quacks like a `KdModel`; `role: 'trained'` also refuses an inference-only model
 * (`KdModel.inferenceOnly`, e.g. a graph model) with its reason.
 */
export function assertModel(fn: string, arg: string, model: unknown, role: 'trained' | 'teacher' = 'trained'): KdModel {
  const candidate = assertObject(fn, arg, model) as Partial<KdModel>;
  if (
    typeof candidate.apply !== 'function' ||
    !Array.isArray(candidate.trainableVariables) ||
    !Array.isArray(candidate.nonTrainableVariables) ||
    typeof candidate.numClasses !== 'number'
  ) {
    throw new Error(`${fn}: ${arg} must be a KdModel (apply, trainableVariables, nonTrainableVariables, numClasses)`);
  }
  if (role === 'trained' && typeof candidate.inferenceOnly === 'string') {
    throw new Error(`${fn}: ${arg} '${candidate.name}' cannot be trained: ${candidate.inferenceOnly}`);
  }
  return candidate as KdModel;
}

/**
 * Throws unless every dataset fits the model's input: its class count, its channel count and, for a model
 * that takes one input size (`KdModel.inputSize`), its height and width; the message names both shapes.
 */
export function assertModelFitsData(
  fn: string,
  model: KdModel,
  datasets: ReadonlyArray<readonly [string, Dataset | undefined]>,
): void {
  for (const [arg, dataset] of datasets) {
    if (dataset === undefined) continue;
    if (dataset.numClasses !== model.numClasses) {
      throw new Error(
        `${fn}: ${arg} has ${dataset.numClasses} classes, the model ${model.name} has ${model.numClasses}`,
      );
    }
    if (dataset.channels !== model.inputChannels) {
      throw new Error(
        `${fn}: ${arg} has ${dataset.channels} channels, the model ${model.name} takes ${model.inputChannels}`,
      );
    }
    const size = model.inputSize;
    if (size !== undefined && (dataset.height !== size[0] || dataset.width !== size[1])) {
      throw new Error(
        `${fn}: ${arg} images are [N, ${dataset.height}, ${dataset.width}, ${dataset.channels}], the model ${model.name} ` +
          `takes [N, ${size[0]}, ${size[1]}, ${model.inputChannels}]`,
      );
    }
  }
}

/**
 * `@kd/data`'s dataset check, plus what training needs: at least one sample and every label in
 * [0, numClasses) (no unlabeled −1).
 */
function assertTrainingDataset(fn: string, arg: string, dataset: unknown): Dataset {
  const checked = assertDataset(fn, arg, dataset);
  const count = checked.labels.length;
  if (count === 0) throw new Error(`${fn}: ${arg} is empty`);
  // data.train is checked here in full; each batch a loader yields is checked again in the step (its label
  // range is read with the loss values), so the losses can skip their per-call value checks.
  const unlabeled = checked.labels.indexOf(UNLABELED);
  if (unlabeled >= 0) {
    const range = `[0, ${checked.numClasses})`;
    throw new Error(`${fn}: ${arg}.labels[${unlabeled}] = ${UNLABELED} (unlabeled) is out of range ${range}`);
  }
  return checked;
}

/** Validates the common options and fills in defaults. Everything is checked before any training starts. */
export function resolveCommonOptions(
  fn: string,
  options: CommonTrainingOptions,
  defaults: { epochs: number; learningRate: number; schedule: LearningRateSchedule },
  model: KdModel,
): LoopSettings {
  const data = assertObject(fn, 'data', options.data) as CommonTrainingOptions['data'];
  const train = assertTrainingDataset(fn, 'data.train', data.train);
  const test = data.test === undefined ? undefined : assertTrainingDataset(fn, 'data.test', data.test);
  assertModelFitsData(fn, model, [
    ['data.train', train],
    ['data.test', test],
  ]);
  const epochs = assertNumber(fn, 'epochs', options.epochs ?? defaults.epochs, { integer: true, positive: true });
  const batchSize = assertNumber(fn, 'batchSize', options.batchSize ?? 64, { integer: true, positive: true });
  const evaluationBatchSize = assertNumber(fn, 'evaluationBatchSize', options.evaluationBatchSize ?? 64, {
    integer: true,
    positive: true,
  });
  const learningRate = assertNumber(fn, 'learningRate', options.learningRate ?? defaults.learningRate, {
    nonNegative: true,
  });
  const momentum = assertNumber(fn, 'momentum', options.momentum ?? 0.9, { min: 0, max: 1 });
  const weightDecay = assertNumber(fn, 'weightDecay', options.weightDecay ?? 5e-4, { nonNegative: true });
  const schedule = validateSchedule(fn, 'schedule', options.schedule ?? defaults.schedule, epochs);
  // Seeds are integers in [0, 2^32) (the one seed policy); per-objective seeds are derived modulo 2^32 (offsetSeed).
  const seed = assertSeed(fn, 'seed', options.seed ?? 0);
  const dropLast = assertBoolean(fn, 'dropLast', options.dropLast ?? false);
  if (dropLast && Math.floor(train.labels.length / batchSize) === 0) {
    throw new Error(
      `${fn}: dropLast drops every batch: ${train.labels.length} training samples < batchSize ${batchSize}`,
    );
  }
  const augmentation = options.augmentation ?? { randomCrop: { padding: 4 }, horizontalFlip: true };
  if (augmentation !== false) assertObject(fn, 'augmentation', augmentation);
  if (options.normalization !== undefined) assertObject(fn, 'normalization', options.normalization);
  if (options.epochLength !== undefined)
    assertNumber(fn, 'epochLength', options.epochLength, { integer: true, positive: true });
  if (options.loader !== undefined && typeof options.loader !== 'function') {
    throw new Error(
      `${fn}: loader must be a function (dataset, options) => batches, got ${describeValue(options.loader)}`,
    );
  }
  const resume = options.resume ?? false;
  if (resume !== true && resume !== false && resume !== 'auto') {
    throw new Error(`${fn}: resume must be true, false or 'auto', got ${describeValue(resume)}`);
  }
  if (resume !== false && options.store === undefined)
    throw new Error(`${fn}: resume needs a store to read the checkpoint from`);
  if (options.store !== undefined) {
    const store = assertObject(fn, 'store', options.store);
    for (const method of ['read', 'writeAtomic', 'append', 'remove']) {
      if (typeof store[method] !== 'function')
        throw new Error(`${fn}: store must implement ${method}() (see RunStore)`);
    }
  }
  for (const callback of ['onStepEnd', 'onEpochEnd'] as const) {
    if (options[callback] !== undefined && typeof options[callback] !== 'function') {
      throw new Error(`${fn}: ${callback} must be a function, got ${describeValue(options[callback])}`);
    }
  }
  const loader: LoaderFactory =
    options.loader ??
    ((dataset, loaderOptions) =>
      createLoader(dataset, {
        batchSize: loaderOptions.batchSize,
        shuffle: loaderOptions.shuffle,
        seed: loaderOptions.seed,
        dropLast: loaderOptions.dropLast,
        epoch: loaderOptions.epoch,
        ...(loaderOptions.augment && augmentation !== false ? { augment: augmentation } : {}),
        ...(options.normalization !== undefined ? { normalize: options.normalization } : {}),
        // epochLength only stretches the training pass (shuffled); evaluation passes cover each sample once.
        ...(options.epochLength !== undefined && loaderOptions.shuffle ? { epochLength: options.epochLength } : {}),
      }));
  return {
    train,
    test,
    loader,
    epochs,
    batchSize,
    evaluationBatchSize,
    learningRate,
    momentum,
    weightDecay,
    schedule,
    seed,
    augment: augmentation !== false,
    dropLast,
    samplesPerEpoch: options.epochLength ?? train.labels.length,
    store: options.store,
    resume,
    signal: options.signal,
    onStepEnd: options.onStepEnd,
    onEpochEnd: options.onEpochEnd,
    progress: resolveProgress(options.progress),
  };
}

/** The JSON part of the settings for the run record and the resume fingerprint. */
export function describeSettings(settings: LoopSettings, options: CommonTrainingOptions): { [key: string]: JsonValue } {
  return {
    epochs: settings.epochs,
    batchSize: settings.batchSize,
    learningRate: settings.learningRate,
    momentum: settings.momentum,
    weightDecay: settings.weightDecay,
    schedule: settings.schedule as unknown as JsonValue,
    seed: settings.seed,
    augmentation: (options.augmentation ?? 'default') as unknown as JsonValue,
    normalization: (options.normalization ?? null) as unknown as JsonValue,
    epochLength: options.epochLength ?? null,
    dropLast: settings.dropLast,
    customLoader: options.loader !== undefined,
    trainSize: settings.train.labels.length,
    trainDataCrc32: hashDataset(settings.train),
    testSize: settings.test?.labels.length ?? 0,
  };
}

/**
 * CRC-32 of a dataset's images, labels and indices, read in place (no copy): resuming with other training
 * images of the same count is caught by the fingerprint.
 */
export function hashDataset(dataset: Dataset): string {
  let crc = 0;
  for (const array of [dataset.images, dataset.labels, dataset.indices]) {
    crc = crc32(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), crc);
  }
  return crc.toString(16).padStart(8, '0');
}
