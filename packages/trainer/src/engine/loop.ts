import * as tf from '@tensorflow/tfjs-core';
import type { KdModel } from '@kd/models';
import type { Batch, Dataset } from '@kd/data';
import { releaseBatch, type LoaderFactory } from '../data';
import { evaluateModel } from '../eval/evaluate';
import { readCheckpoint, removeOrphanBinaries, writeCheckpoint, type JsonValue } from '../io/checkpoint';
import type { RunStore } from '../io/store';
import { SgdMomentum } from '../optim/sgd';
import { learningRateAt, type LearningRateSchedule } from '../optim/schedule';
import { renderTrainingCurves } from '../report/curves';
import type { EpochRecord } from '../report/epoch-record';
import { consoleProgress, type ProgressReporter, type StepInfo } from '../report/progress';
import { buildRunRecord, type RunRecord } from '../report/run-record';
import { NonFiniteLossError, TrainingAbortedError, TrainingCollapsedError } from './errors';
import { releaseGradientTape } from './gradients';

/** What every trainer returns. */
export interface TrainingResult {
  history: EpochRecord[];
  /** The epoch with the best test top-1 (training accuracy when there is no test set). */
  best: EpochRecord;
  /** The final epoch (RepDistiller reports this one). */
  last: EpochRecord;
  record: RunRecord;
}

/** Settings every trainer shares (validated by each public function). */
export interface LoopSettings {
  train: Dataset;
  test: Dataset | undefined;
  loader: LoaderFactory;
  epochs: number;
  batchSize: number;
  evaluationBatchSize: number;
  learningRate: number;
  momentum: number;
  weightDecay: number;
  schedule: LearningRateSchedule;
  seed: number;
  augment: boolean;
  dropLast: boolean;
  /** Samples per training epoch (`epochLength`, or the training set's size): for the progress bar. */
  samplesPerEpoch: number;
  store: RunStore | undefined;
  resume: boolean | 'auto';
  signal: AbortSignal | undefined;
  onStepEnd: ((info: StepInfo) => void | Promise<void>) | undefined;
  onEpochEnd: ((record: EpochRecord) => void | Promise<void>) | undefined;
  progress: ProgressReporter | undefined;
}

/** One training job as the loop sees it (built by trainSupervised, fineTuneTeacherMcmi, distillStudent). */
export interface TrainingTask {
  /** Public function name used in messages. */
  functionName: string;
  /** The model being trained and evaluated. */
  model: KdModel;
  /** Everything the optimiser updates: the model plus any regularizer heads (never a teacher). */
  trainableVariables: tf.Variable[];
  /** Names of the weighted loss parts, in the order {@link losses} returns them. */
  partNames: string[];
  /** Runs once before the first epoch of a fresh (not resumed) run, e.g. MCMI's centroid pass. */
  initialize?(): Promise<void>;
  /** Tensors computed outside the gradient closure (the frozen teacher's outputs). Kept by the loop. */
  prepare?(batch: Batch): tf.TensorContainer;
  /**
   * Inside the gradient closure: the weighted loss parts and the trained model's logits (none in FT's
   * pre-stage). `epoch` is the 1-based epoch of the step (DKD's warm-up reads it).
   */
  losses(batch: Batch, prepared: tf.TensorContainer, epoch: number): { parts: tf.Scalar[]; logits?: tf.Tensor2D };
  /** Runs after the optimiser update (e.g. memory-bank updates). */
  afterStep?(batch: Batch, prepared: tf.TensorContainer): void;
  /** Runs when a step fails before its update (drops pending memory updates). */
  discardPendingUpdate?(): void;
  /**
   * Tensors to checkpoint besides the optimiser slots (model and head variables, memory banks); the loop
   * disposes `temporaries` after writing.
   */
  stateTensors(): Promise<{ tensors: Map<string, tf.Tensor>; temporaries: tf.Tensor[] }>;
  restoreStateTensors(tensors: Map<string, tf.Tensor>): Promise<void>;
  /** JSON state to checkpoint (head RNG states, centroids, …). */
  stateJson(): { [key: string]: JsonValue };
  restoreStateJson(state: { [key: string]: JsonValue }): void;
  /** Extra per-epoch metrics (teacher CMI …). */
  epochMetrics?(epoch: number): Promise<Record<string, number>>;
  /**
   * When the epoch shows a collapse: what was observed and what to do about it (the loop then stops without
   * checkpointing the epoch, with a `TrainingCollapsedError`).
   */
  collapseMessage?(record: EpochRecord): { reason: string; advice: string } | undefined;
  /** Must match on resume: catches resuming a different run in the same store. */
  fingerprint: { [key: string]: JsonValue };
  /** The run record's config section. */
  recordConfig: { [key: string]: JsonValue };
  /** Frees what the task created (heads), not the models it was given. */
  dispose(): void;
}

const METRICS_LOG = 'metrics.jsonl';
const RUN_RECORD = 'run.json';
const CURVES_PLOT = 'curves.png';

/** Copies variable values from checkpoint tensors, checking shapes. */
export function assignVariables(
  fn: string,
  prefix: string,
  variables: readonly tf.Variable[],
  tensors: Map<string, tf.Tensor>,
): void {
  variables.forEach((variable, index) => {
    const key = `${prefix}/${index}`;
    const tensor = tensors.get(key);
    if (tensor === undefined) throw new Error(`${fn}: the checkpoint lacks '${key}' (${variable.name})`);
    if (tensor.shape.join(',') !== variable.shape.join(',') || tensor.dtype !== variable.dtype) {
      throw new Error(
        `${fn}: checkpoint tensor '${key}' is ${tensor.dtype} [${tensor.shape.join(',')}], variable ${variable.name} is ` +
          `${variable.dtype} [${variable.shape.join(',')}]: the checkpoint belongs to a different model`,
      );
    }
    variable.assign(tensor);
  });
}

/** Adds `prefix/index` → variable entries to `map`. */
export function collectVariables(map: Map<string, tf.Tensor>, prefix: string, variables: readonly tf.Tensor[]): void {
  variables.forEach((variable, index) => map.set(`${prefix}/${index}`, variable));
}

function residentSetSize(): { rssBytes?: number } {
  const memoryUsage = (globalThis as { process?: { memoryUsage?: () => { rss: number } } }).process?.memoryUsage;
  return typeof memoryUsage === 'function' ? { rssBytes: memoryUsage().rss } : {};
}

function stepsPerEpoch(count: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

function describeDifference(expected: JsonValue, actual: JsonValue, path = ''): string | undefined {
  if (JSON.stringify(expected) === JSON.stringify(actual)) return undefined;
  if (
    expected !== null &&
    actual !== null &&
    typeof expected === 'object' &&
    typeof actual === 'object' &&
    !Array.isArray(expected) &&
    !Array.isArray(actual)
  ) {
    for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      const found = describeDifference(expected[key] ?? null, actual[key] ?? null, path ? `${path}.${key}` : key);
      if (found !== undefined) return found;
    }
  }
  return `${path || 'config'}: checkpoint has ${JSON.stringify(expected)}, this run has ${JSON.stringify(actual)}`;
}

function isBetter(candidate: EpochRecord, best: EpochRecord | undefined): boolean {
  if (best === undefined) return true;
  const score = (record: EpochRecord) => record.test?.top1 ?? record.train.accuracy;
  return score(candidate) > score(best);
}

/**
 * The shared epoch loop: schedule → steps (teacher outputs outside the gradient closure, one read of the loss
 * parts per step, non-finite check before the update) → evaluation → collapse check → checkpoint → logs.
 */
export async function runTraining(task: TrainingTask, settings: LoopSettings): Promise<TrainingResult> {
  const fn = task.functionName;
  const optimizer = new SgdMomentum(task.trainableVariables, {
    learningRate: settings.learningRate,
    momentum: settings.momentum,
    weightDecay: settings.weightDecay,
  });
  const store = settings.store;
  const history: EpochRecord[] = [];
  let best: EpochRecord | undefined;
  let globalStep = 0;
  let startEpoch = 1;
  let lastCheckpointEpoch: number | undefined;
  const resumedFrom: number[] = [];
  // Datasets were validated up front, so the run's own calls skip the value scans (each is a device read): the
  // tasks pass `checkValues: false` to their model applies and loss calls, and so does the evaluation below. The
  // option is per call; nothing global changes, so a user's own loss or apply during or after a run still checks.
  // (A custom loader's NaN images still surface as a non-finite loss before any update.)
  try {
    if (settings.resume !== false) {
      if (store === undefined) throw new Error(`${fn}: resume needs a store to read the checkpoint from`);
      const checkpoint = await readCheckpoint(store);
      if (checkpoint === undefined && settings.resume === true) {
        throw new Error(`${fn}: resume is true but the store holds no checkpoint (use resume: 'auto' to start fresh)`);
      }
      if (checkpoint !== undefined) {
        try {
          const difference = describeDifference(checkpoint.state.fingerprint ?? null, task.fingerprint);
          if (difference !== undefined)
            throw new Error(`${fn}: cannot resume, the checkpoint is from a different run: ${difference}`);
          await task.restoreStateTensors(checkpoint.tensors);
          const slots = optimizer.getSlots().map((_, index) => {
            const slot = checkpoint.tensors.get(`optimizer/velocity/${index}`);
            if (slot === undefined) throw new Error(`${fn}: the checkpoint lacks optimizer/velocity/${index}`);
            return slot;
          });
          optimizer.setSlots(slots);
          task.restoreStateJson((checkpoint.state.task ?? {}) as { [key: string]: JsonValue });
          history.push(...validHistory(fn, checkpoint.state.history, checkpoint.epoch));
          best = (checkpoint.state.best ?? undefined) as unknown as EpochRecord | undefined;
          globalStep = checkpoint.step;
          startEpoch = checkpoint.epoch + 1;
          lastCheckpointEpoch = checkpoint.epoch;
          resumedFrom.push(...((checkpoint.state.resumedFrom ?? []) as number[]), checkpoint.epoch);
        } finally {
          tf.dispose([...checkpoint.tensors.values()]);
        }
      }
    }

    if (store !== undefined) {
      // A kill between writing a binary and committing its manifest leaves an orphan; a kill around the log
      // append leaves the log short or with a partial line. The checkpoint's history is the truth: rewrite the
      // log (and the plot) from it, so it holds every checkpointed epoch exactly once (a fresh run starts an
      // empty log).
      await removeOrphanBinaries(store).catch(() => undefined);
      if (history.length === 0) await store.remove(METRICS_LOG);
      else {
        await store.writeAtomic(METRICS_LOG, history.map(metricsLine).join(''));
        await store.writeAtomic(CURVES_PLOT, renderTrainingCurves(history));
      }
    }
    if (startEpoch === 1) await task.initialize?.();
    const record = buildRunRecord({ functionName: fn, config: task.recordConfig, seed: settings.seed });
    record.resumedFromEpochs = resumedFrom;
    const saveRecord = async (status: RunRecord['status'], error?: string) => {
      if (store === undefined) return;
      record.status = status;
      record.error = error;
      record.finishedAt = status === 'running' ? undefined : new Date().toISOString();
      record.epochsCompleted = history.length;
      record.best = best;
      record.last = history[history.length - 1];
      await store.writeAtomic(RUN_RECORD, `${JSON.stringify(record, null, 2)}\n`);
    };
    await saveRecord('running');

    const steps = stepsPerEpoch(settings.samplesPerEpoch, settings.batchSize, settings.dropLast);
    try {
      for (let epoch = startEpoch; epoch <= settings.epochs; epoch++) {
        const learningRate = learningRateAt({
          schedule: settings.schedule,
          baseLearningRate: settings.learningRate,
          epoch,
          epochs: settings.epochs,
        });
        optimizer.learningRate = learningRate;
        const started = Date.now();
        const sums = new Map<string, number>();
        let seen = 0;
        let correct = 0;
        let step = 0;
        const batches = settings.loader(settings.train, {
          batchSize: settings.batchSize,
          shuffle: true,
          seed: settings.seed,
          dropLast: settings.dropLast,
          augment: settings.augment,
          epoch,
        });
        for await (const batch of batches) {
          step++;
          if (settings.signal?.aborted) {
            releaseBatch(batch);
            throw new TrainingAbortedError(fn, epoch, step, lastCheckpointEpoch);
          }
          const values = trainStep(task, optimizer, batch, {
            fn,
            epoch,
            step,
            globalStep: globalStep + 1,
            lastCheckpointEpoch,
            numClasses: settings.train.numClasses,
          });
          globalStep++;
          const batchSize = batch.indices.length;
          const losses: Record<string, number> = { total: values[0] as number };
          task.partNames.forEach((name, index) => (losses[name] = values[index + 1] as number));
          for (const [name, value] of Object.entries(losses)) sums.set(name, (sums.get(name) ?? 0) + value * batchSize);
          correct += values[values.length - 1] as number;
          seen += batchSize;
          const info: StepInfo = {
            epoch,
            epochs: settings.epochs,
            step,
            stepsPerEpoch: steps,
            globalStep,
            losses,
            learningRate,
            imagesPerSecond: seen / Math.max((Date.now() - started) / 1000, 1e-9),
          };
          settings.progress?.onStep(info);
          await settings.onStepEnd?.(info);
          // A loader that prefetches resolves its batches as microtasks, so a Ctrl-C handler (a macrotask) would
          // only run steps later: yield to the event loop once per step and stop before the next one.
          if (settings.signal !== undefined) {
            await yieldToEventLoop();
            if (settings.signal.aborted) throw new TrainingAbortedError(fn, epoch, step + 1, lastCheckpointEpoch);
          }
        }
        const seconds = (Date.now() - started) / 1000;
        const meanLosses: Record<string, number> = {};
        for (const [name, value] of sums) meanLosses[name] = value / Math.max(seen, 1);
        const test = settings.test
          ? await evaluateModel({
              model: task.model,
              dataset: settings.test,
              loader: settings.loader,
              batchSize: settings.evaluationBatchSize,
              checkValues: false,
            })
          : undefined;
        const extra = (await task.epochMetrics?.(epoch)) ?? {};
        const epochRecord: EpochRecord = {
          epoch,
          learningRate,
          seconds,
          imagesPerSecond: seen / Math.max(seconds, 1e-9),
          train: { losses: meanLosses, accuracy: correct / Math.max(seen, 1), count: seen },
          ...(test ? { test } : {}),
          extra,
          numTensors: tf.memory().numTensors,
          ...residentSetSize(),
        };
        const collapse = task.collapseMessage?.(epochRecord);
        if (collapse !== undefined) {
          throw new TrainingCollapsedError(fn, epoch, collapse.reason, collapse.advice, lastCheckpointEpoch);
        }
        const bestBefore = best;
        history.push(epochRecord);
        if (isBetter(epochRecord, best)) best = epochRecord;
        if (store !== undefined) {
          const { tensors, temporaries } = await task.stateTensors();
          collectVariables(tensors, 'optimizer/velocity', optimizer.getSlots());
          const intact =
            lastCheckpointEpoch === undefined
              ? 'no checkpoint was written yet'
              : `the last good checkpoint (epoch ${lastCheckpointEpoch}) is intact`;
          await writeCheckpoint({
            store,
            epoch,
            step: globalStep,
            tensors,
            state: {
              fingerprint: task.fingerprint,
              task: task.stateJson(),
              history: history as unknown as JsonValue,
              best: (best ?? null) as unknown as JsonValue,
              resumedFrom,
              learningRate,
            },
          })
            .catch((error: Error) => {
              // The epoch is not committed: the run record must not count it.
              history.pop();
              best = bestBefore;
              throw new Error(`${fn}: cannot write the checkpoint of epoch ${epoch}: ${error.message}; ${intact}`, {
                cause: error,
              });
            })
            .finally(() => tf.dispose(temporaries));
          lastCheckpointEpoch = epoch;
          try {
            await store.append(METRICS_LOG, metricsLine(epochRecord));
            await store.writeAtomic(CURVES_PLOT, renderTrainingCurves(history));
            await saveRecord('running');
          } catch (error) {
            const reason = (error as Error).message;
            throw new Error(
              `${fn}: cannot write the logs of epoch ${epoch}: ${reason}; its checkpoint is committed (resume rewrites the log)`,
              { cause: error },
            );
          }
        }
        settings.progress?.onEpochEnd(summarise(epochRecord, settings.epochs));
        await settings.onEpochEnd?.(epochRecord);
      }
    } catch (error) {
      await saveRecord(error instanceof TrainingAbortedError ? 'aborted' : 'failed', (error as Error).message).catch(
        () => undefined,
      );
      throw error;
    }
    const last = history[history.length - 1];
    if (last === undefined || best === undefined) throw new Error(`${fn}: no epoch was run`);
    await saveRecord('finished');
    record.best = best;
    record.last = last;
    return { history, best, last, record };
  } finally {
    optimizer.dispose();
  }
}

interface StepContext {
  fn: string;
  epoch: number;
  step: number;
  globalStep: number;
  lastCheckpointEpoch: number | undefined;
  numClasses: number;
}

/** One line of `metrics.jsonl`. */
function metricsLine(record: EpochRecord): string {
  return `${JSON.stringify({ type: 'epoch', ...record })}\n`;
}

/** The checkpoint's history: one record per completed epoch, 1…epoch in order (else the state is damaged). */
function validHistory(fn: string, value: JsonValue | undefined, epoch: number): EpochRecord[] {
  const records = Array.isArray(value) ? value : [];
  const inOrder = records.every(
    (record, index) =>
      record !== null && typeof record === 'object' && !Array.isArray(record) && record.epoch === index + 1,
  );
  if (records.length !== epoch || !inOrder) {
    throw new Error(
      `${fn}: cannot resume: the checkpoint of epoch ${epoch} holds a history of ${records.length} epochs, expected epochs 1…${epoch} in order`,
    );
  }
  return records as unknown as EpochRecord[];
}

/** Lets pending macrotasks (signal handlers, timers) run: setImmediate in Node, a zero timeout elsewhere. */
function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate === undefined ? setTimeout(resolve, 0) : immediate(resolve)));
}

/**
 * Checks a loader's batch on the host before the step: int32 labels of shape [B] matching B images. Their
 * range is read with the loss values (one read per step) and checked before the update.
 */
function assertBatch(context: StepContext, batch: Batch): void {
  const where = `${context.fn}: the loader's batch ${context.step} of epoch ${context.epoch}`;
  const images = batch.images as unknown;
  const labels = batch.labels as unknown;
  if (!(images instanceof tf.Tensor) || images.rank !== 4)
    throw new Error(`${where}: images must be a rank-4 tf.Tensor [B, H, W, C]`);
  if (!(labels instanceof tf.Tensor) || labels.rank !== 1 || labels.dtype !== 'int32') {
    const got = labels instanceof tf.Tensor ? `${labels.dtype} [${labels.shape.join(',')}]` : typeof labels;
    throw new Error(`${where}: labels must be an int32 tf.Tensor [B], got ${got}`);
  }
  if (labels.shape[0] !== images.shape[0]) {
    throw new Error(`${where}: ${labels.shape[0]} labels for ${images.shape[0]} images`);
  }
  if (typeof (batch as Partial<Batch>).dispose !== 'function') {
    throw new Error(`${where}: dispose must be a function that frees the batch's tensors (@kd/data's Batch)`);
  }
}

/**
 * One optimiser step. Returns `[total, ...parts, correct]` read with a single `dataSync`. A non-finite part
 * throws before the update, so the in-memory weights stay as they were too.
 */
function trainStep(task: TrainingTask, optimizer: SgdMomentum, batch: Batch, context: StepContext): Float32Array {
  let prepared: tf.TensorContainer = {};
  let readings: tf.Tensor | undefined;
  let gradients: tf.NamedTensorMap = {};
  let value: tf.Scalar | undefined;
  try {
    assertBatch(context, batch);
    // The frozen teacher runs outside the gradient closure: no gradient can reach it.
    if (task.prepare) prepared = tf.tidy(() => task.prepare!(batch));
    const result = tf.variableGrads(() => {
      const { parts, logits } = task.losses(batch, prepared, context.epoch);
      const total = (parts.length === 1 ? parts[0] : tf.addN(parts)) as tf.Scalar;
      const correct = logits
        ? tf.sum(tf.cast(tf.equal(tf.cast(tf.argMax(logits, 1), 'int32'), batch.labels), 'float32'))
        : tf.scalar(Number.NaN);
      const labelRange = tf.cast(tf.stack([tf.min(batch.labels), tf.max(batch.labels)]), 'float32');
      readings = tf.keep(tf.concat([tf.stack([total, ...parts, correct]), labelRange]));
      return total;
    }, task.trainableVariables);
    gradients = result.grads;
    value = result.value;
    const all = (readings as unknown as tf.Tensor).dataSync() as Float32Array;
    // Every batch's labels, not only data.train's: a custom loader can yield anything.
    const [lowest, highest] = [all[all.length - 2] as number, all[all.length - 1] as number];
    if (lowest < 0 || highest >= context.numClasses) {
      throw new Error(
        `${context.fn}: the loader's batch ${context.step} of epoch ${context.epoch} has label ${lowest < 0 ? lowest : highest} ` +
          `outside [0, ${context.numClasses}); no update was applied`,
      );
    }
    const values = all.subarray(0, all.length - 2);
    // Name the first non-finite weighted part; the total only when every part is finite (overflowing sum).
    const badPart = task.partNames.findIndex((_, index) => !Number.isFinite(values[index + 1] as number));
    if (badPart >= 0 || !Number.isFinite(values[0] as number)) {
      const name = badPart >= 0 ? (task.partNames[badPart] as string) : 'total';
      const bad = values[badPart >= 0 ? badPart + 1 : 0] as number;
      throw new NonFiniteLossError(
        context.fn,
        context.epoch,
        context.step,
        context.globalStep,
        name,
        bad,
        context.lastCheckpointEpoch,
      );
    }
    optimizer.applyGradients(gradients);
    task.afterStep?.(batch, prepared);
    return values.slice();
  } catch (error) {
    task.discardPendingUpdate?.();
    releaseGradientTape();
    throw error;
  } finally {
    releaseBatch(batch);
    tf.dispose(Object.values(gradients));
    tf.dispose(prepared);
    if (value !== undefined) value.dispose();
    if (readings !== undefined) (readings as tf.Tensor).dispose();
  }
}

function summarise(record: EpochRecord, epochs: number): string {
  const losses = Object.entries(record.train.losses)
    .map(([name, value]) => `${name} ${value.toFixed(4)}`)
    .join(' ');
  const test = record.test
    ? ` test top-1 ${(100 * record.test.top1).toFixed(2)}% top-5 ${(100 * record.test.top5).toFixed(2)}%`
    : '';
  const extra = Object.entries(record.extra)
    .map(([name, value]) => ` ${name} ${value.toFixed(4)}`)
    .join('');
  return (
    `epoch ${record.epoch}/${epochs} lr ${record.learningRate.toPrecision(3)} ${losses} ` +
    `train acc ${(100 * record.train.accuracy).toFixed(2)}%${test}${extra} ${record.imagesPerSecond.toFixed(1)} img/s`
  );
}

/** Resolves the `progress` option: true → console bar, false → none. */
export function resolveProgress(progress: boolean | ProgressReporter | undefined): ProgressReporter | undefined {
  if (progress === undefined || progress === true) return consoleProgress();
  if (progress === false) return undefined;
  return progress;
}
