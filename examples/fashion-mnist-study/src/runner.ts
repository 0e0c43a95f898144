/**
 * Runs the study's runs. Each run lives in its own directory under `outDir` (the trainer's checkpoint, metrics
 * and run record, plus `outcome.json`); a run with an outcome is skipped, a run without one resumes from its
 * checkpoint. One process runs them in plan order ({@link runWorker}); several processes or machines share a
 * study through the BullMQ queue (`queue.ts`), which calls {@link runStudyRun} for each job.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { FASHION_MNIST_NORMALIZATION } from '@kd/data';
import { createModel, type KdModel } from '@kd/models';
import { loadWeightsFromDirectory, saveWeightsToDirectory } from '@kd/models/node';
import {
  TrainingAbortedError,
  TrainingCollapsedError,
  distillStudent,
  fineTuneTeacherMcmi,
  measureClassConditionalStatistics,
  trainSupervised,
  type CommonTrainingOptions,
  type EpochRecord,
  type TrainingResult,
} from '@kd/trainer';
import { directoryStore } from '@kd/trainer/node';
import type { StudyConfig } from './config';
import { evaluationLoader, settingData, type StudyData } from './data';
import {
  previousWallSeconds,
  readOutcome,
  recordPartialWall,
  summariseEpoch,
  writeOutcome,
  type RunOutcome,
} from './outcome';
import {
  MLL_TEACHER_ID,
  allLambdas,
  fineTuneId,
  planStudy,
  type RunSpec,
  type StudentRun,
  type TeacherRun,
} from './plan';

export const NUM_CLASSES = 10;
const WEIGHTS_DIRECTORY = 'weights';

export interface WorkerOptions {
  config: StudyConfig;
  data: StudyData;
  outDir: string;
  /** Name in log lines. */
  workerName?: string;
  /** No run starts after this time; a running one is aborted (its checkpoint stays, the next invocation resumes it). */
  deadline?: Date;
  log?: (message: string) => void;
  /** Stops the running run between two steps (Ctrl-C of a queue worker); its checkpoint stays. */
  signal?: AbortSignal;
  /** Called by every trainer call besides the study's own logging (a queue worker's progress and lock renewal). */
  hooks?: Pick<CommonTrainingOptions, 'onStepEnd' | 'onEpochEnd'>;
}

export function runDirectory(outDir: string, id: string): string {
  return join(outDir, id);
}

export function teacherWeightsDirectory(outDir: string, teacherRunId: string): string {
  return join(runDirectory(outDir, teacherRunId), WEIGHTS_DIRECTORY);
}

/**
 * The λ whose teacher distils the 'mcmi' students, by the rule fixed in the config before any student ran: the
 * largest λ > 0 that finished (no collapse) with test accuracy at most `maxTeacherAccuracyDrop` points below the
 * control's. `undefined` while a fine-tune is still missing; `null` when no λ qualifies.
 */
export function chooseLambda(
  config: StudyConfig,
  outDir: string,
): { lambda: number | null; reason: string } | undefined {
  const control = readOutcome(runDirectory(outDir, fineTuneId(0)));
  const outcomes = config.lambdas
    .filter((lambda) => lambda > 0)
    .map((lambda) => ({ lambda, outcome: readOutcome(runDirectory(outDir, fineTuneId(lambda))) }));
  if (control === undefined || outcomes.some(({ outcome }) => outcome === undefined)) return undefined;
  if (control.status !== 'finished' || control.last === undefined)
    return { lambda: null, reason: `the control fine-tune ${control.status}` };
  const floor = control.last.testTop1 - config.maxTeacherAccuracyDrop / 100;
  const usable = outcomes
    .filter(
      ({ outcome }) => outcome!.status === 'finished' && outcome!.last !== undefined && outcome!.last.testTop1 >= floor,
    )
    .map(({ lambda }) => lambda);
  if (usable.length === 0)
    return {
      lambda: null,
      reason: `no λ finished within ${config.maxTeacherAccuracyDrop} points of the control's accuracy`,
    };
  const lambda = Math.max(...usable);
  return {
    lambda,
    reason: `largest λ without collapse within ${config.maxTeacherAccuracyDrop} points of the control's test accuracy`,
  };
}

function teacherRunFor(
  config: StudyConfig,
  outDir: string,
  run: StudentRun,
): { id: string; lambda?: number } | { skip: string } | undefined {
  if (run.teacher === 'mll') return { id: MLL_TEACHER_ID };
  if (run.teacher === 'control') return { id: fineTuneId(0), lambda: 0 };
  if (run.teacher === 'mcmi') {
    const choice = chooseLambda(config, outDir);
    if (choice === undefined) return undefined;
    if (choice.lambda === null) return { skip: `no MCMI teacher: ${choice.reason}` };
    return { id: fineTuneId(choice.lambda), lambda: choice.lambda };
  }
  return { skip: 'no teacher' };
}

function newModel(name: string, seed: number): KdModel {
  return createModel(name, { numClasses: NUM_CLASSES, seed, inputChannels: 1 });
}

function commonOptions(
  options: WorkerOptions,
  directory: string,
  signal: AbortSignal,
  log: (message: string) => void,
  label: string,
): Pick<
  CommonTrainingOptions,
  | 'batchSize'
  | 'augmentation'
  | 'normalization'
  | 'store'
  | 'resume'
  | 'signal'
  | 'progress'
  | 'onEpochEnd'
  | 'onStepEnd'
  | 'schedule'
> {
  const { config, hooks } = options;
  return {
    batchSize: config.batchSize,
    augmentation: { randomCrop: { padding: config.cropPadding }, horizontalFlip: true },
    normalization: FASHION_MNIST_NORMALIZATION,
    schedule: { kind: 'cosine' },
    store: directoryStore(directory),
    resume: 'auto',
    signal,
    progress: false,
    ...(hooks?.onStepEnd === undefined ? {} : { onStepEnd: hooks.onStepEnd }),
    onEpochEnd: async (record: EpochRecord) => {
      const test = record.test ? ` test ${(100 * record.test.top1).toFixed(2)}%` : '';
      const cmi = record.extra.teacherCmi === undefined ? '' : ` CMI ${record.extra.teacherCmi.toFixed(4)}`;
      log(
        `${label} epoch ${record.epoch}: train ${(100 * record.train.accuracy).toFixed(2)}%${test}${cmi} ` +
          `(${record.seconds.toFixed(1)} s, ${record.imagesPerSecond.toFixed(0)} img/s)`,
      );
      await hooks?.onEpochEnd?.(record);
    },
  };
}

function finishedOutcome(
  id: string,
  result: TrainingResult,
  wallSeconds: number,
  extra: Partial<RunOutcome>,
): RunOutcome {
  return {
    id,
    status: 'finished',
    best: summariseEpoch(result.best),
    last: summariseEpoch(result.last),
    history: result.history.map(summariseEpoch),
    wallSeconds,
    backend: tf.getBackend(),
    finishedAt: new Date().toISOString(),
    ...extra,
  };
}

async function runTeacher(
  options: WorkerOptions,
  run: TeacherRun,
  signal: AbortSignal,
  log: (message: string) => void,
): Promise<Partial<RunOutcome> & { result: TrainingResult }> {
  const { config, data, outDir } = options;
  const directory = runDirectory(outDir, run.id);
  const model = newModel(config.teacherModel, config.teacherSeed);
  try {
    const common = commonOptions(options, directory, signal, log, run.id);
    let result: TrainingResult;
    let teacherCmi: number;
    if (run.lambda === undefined) {
      result = await trainSupervised({
        ...common,
        model,
        data: { train: data.train, test: data.test },
        epochs: config.teacherEpochs,
        learningRate: config.teacherLearningRate,
        seed: config.teacherSeed,
      });
      // The MLL teacher's CMI as MTCMI.py measures it: eval mode, training pool.
      teacherCmi = (await measureClassConditionalStatistics({ model, dataset: data.train, loader: evaluationLoader }))
        .cmi;
    } else {
      loadWeightsFromDirectory(model, teacherWeightsDirectory(outDir, MLL_TEACHER_ID));
      result = await fineTuneTeacherMcmi({
        ...common,
        model,
        data: { train: data.train, test: data.test },
        lambda: run.lambda,
        collapseGuard: config.collapseGuard ? {} : false,
        epochs: config.fineTuneEpochs,
        learningRate: config.fineTuneLearningRate,
        seed: config.teacherSeed,
      });
      teacherCmi = result.last.extra.teacherCmi ?? Number.NaN;
    }
    await saveWeightsToDirectory(model, join(directory, WEIGHTS_DIRECTORY));
    return { result, lambda: run.lambda, teacherCmi };
  } finally {
    model.dispose();
  }
}

async function runStudent(
  options: WorkerOptions,
  run: StudentRun,
  teacher: { id: string; lambda?: number } | undefined,
  signal: AbortSignal,
  log: (message: string) => void,
): Promise<Partial<RunOutcome> & { result: TrainingResult }> {
  const { config, data, outDir } = options;
  const setting = config.settings.find((candidate) => candidate.name === run.setting);
  const method = config.methods.find((candidate) => candidate.name === run.method);
  if (setting === undefined || method === undefined)
    throw new Error(`runStudent: ${run.id} names an unknown setting or method`);
  const { train, epochLength } = settingData(data.train, setting);
  const directory = runDirectory(outDir, run.id);
  const student = newModel(config.studentModel, run.seed);
  const teacherModel = teacher === undefined ? undefined : newModel(config.teacherModel, config.teacherSeed);
  try {
    const common = {
      ...commonOptions(options, directory, signal, log, run.id),
      data: { train, test: data.test },
      epochs: config.studentEpochs,
      learningRate: config.studentLearningRate,
      epochLength,
      seed: run.seed,
    };
    let result: TrainingResult;
    if (teacherModel === undefined || method.objectives === undefined) {
      result = await trainSupervised({ ...common, model: student });
    } else {
      loadWeightsFromDirectory(teacherModel, teacherWeightsDirectory(outDir, teacher!.id));
      result = await distillStudent({
        ...common,
        student,
        teacher: teacherModel,
        objectives: method.objectives,
        measureTeacherCmi: false,
      });
    }
    return { result, ...(teacher?.lambda !== undefined ? { teacherLambda: teacher.lambda } : {}) };
  } finally {
    student.dispose();
    teacherModel?.dispose();
  }
}

type Readiness =
  | { state: 'ready'; teacher?: { id: string; lambda?: number } }
  | { state: 'waiting' }
  | { state: 'skip'; reason: string };

function readiness(options: WorkerOptions, run: RunSpec): Readiness {
  const { config, outDir } = options;
  for (const dependency of run.dependsOn) {
    const outcome = readOutcome(runDirectory(outDir, dependency));
    if (outcome === undefined) {
      if (run.kind === 'student' && run.teacher === 'mcmi') continue; // decided by chooseLambda below
      return { state: 'waiting' };
    }
    if (outcome.status !== 'finished' && !(run.kind === 'student' && run.teacher === 'mcmi')) {
      return {
        state: 'skip',
        reason: `its teacher ${dependency} ${outcome.status}${outcome.message ? `: ${outcome.message}` : ''}`,
      };
    }
  }
  if (run.kind === 'teacher') return { state: 'ready' };
  if (run.teacher === 'none') return { state: 'ready' };
  const teacher = teacherRunFor(config, outDir, run);
  if (teacher === undefined) return { state: 'waiting' };
  if ('skip' in teacher) return { state: 'skip', reason: teacher.skip };
  return { state: 'ready', teacher };
}

/**
 * Runs one run to its outcome (or leaves it resumable when aborted). `rethrow`: an error or an abort is thrown
 * after the partial wall time is recorded, instead of a 'failed' outcome (a queue retries the job).
 */
async function execute(
  options: WorkerOptions,
  run: RunSpec,
  teacher: { id: string; lambda?: number } | undefined,
  log: (message: string) => void,
  rethrow = false,
): Promise<void> {
  const directory = runDirectory(options.outDir, run.id);
  const controller = new AbortController();
  const remaining = options.deadline === undefined ? undefined : options.deadline.getTime() - Date.now();
  const timer = remaining === undefined ? undefined : setTimeout(() => controller.abort(), Math.max(remaining, 0));
  const signal =
    options.signal === undefined ? controller.signal : AbortSignal.any([controller.signal, options.signal]);
  const started = Date.now();
  const earlier = previousWallSeconds(directory);
  const elapsed = () => earlier + (Date.now() - started) / 1000;
  log(`${run.id}: start${earlier > 0 ? ` (resuming; ${earlier.toFixed(0)} s spent before)` : ''}`);
  try {
    const { result, ...extra } =
      run.kind === 'teacher'
        ? await runTeacher(options, run, signal, log)
        : await runStudent(options, run, teacher, signal, log);
    const outcome = finishedOutcome(run.id, result, elapsed(), extra);
    writeOutcome(directory, outcome);
    log(
      `${run.id}: finished in ${outcome.wallSeconds.toFixed(0)} s, test ${(100 * (outcome.last?.testTop1 ?? Number.NaN)).toFixed(2)}% (last)`,
    );
  } catch (error) {
    if (error instanceof TrainingCollapsedError) {
      writeOutcome(directory, {
        id: run.id,
        status: 'collapsed',
        message: error.message,
        ...(run.kind === 'teacher' ? { lambda: run.lambda } : {}),
        wallSeconds: elapsed(),
        backend: tf.getBackend(),
        finishedAt: new Date().toISOString(),
      });
      log(`${run.id}: COLLAPSED: ${error.message}`);
    } else if (error instanceof TrainingAbortedError) {
      recordPartialWall(directory, elapsed());
      log(`${run.id}: stopped; its checkpoint stays for the next invocation`);
      if (rethrow) throw error;
    } else if (rethrow) {
      recordPartialWall(directory, elapsed());
      throw error;
    } else {
      recordPartialWall(directory, elapsed());
      writeOutcome(directory, {
        id: run.id,
        status: 'failed',
        message: (error as Error).stack ?? String(error),
        wallSeconds: elapsed(),
        backend: tf.getBackend(),
        finishedAt: new Date().toISOString(),
      });
      log(`${run.id}: FAILED: ${(error as Error).stack ?? String(error)}`);
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * One worker in this process: takes the runs in plan order (every run after its dependencies), skipping those
 * with an outcome, until each has one or the deadline passes.
 */
export async function runWorker(options: WorkerOptions): Promise<{ ran: number }> {
  const log = workerLog(options);
  let ran = 0;
  for (const run of planStudy(options.config)) {
    if (options.deadline !== undefined && Date.now() >= options.deadline.getTime()) {
      log('deadline reached: no new run starts');
      break;
    }
    const directory = runDirectory(options.outDir, run.id);
    if (readOutcome(directory) !== undefined) continue;
    const ready = readiness(options, run);
    if (ready.state === 'waiting') {
      log(`${run.id}: left for the next invocation (a run it needs has no outcome)`);
      continue;
    }
    if (ready.state === 'skip') {
      writeSkipped(directory, run, ready.reason, log);
      continue;
    }
    await execute(options, run, ready.teacher, log);
    ran++;
  }
  return { ran };
}

function workerLog(options: WorkerOptions): (message: string) => void {
  const name = options.workerName ?? `worker ${process.pid}`;
  const sink = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  return (message) => sink(`${new Date().toISOString().slice(11, 19)} [${name}] ${message}`);
}

function writeSkipped(directory: string, run: RunSpec, reason: string, log: (message: string) => void): void {
  writeOutcome(directory, {
    id: run.id,
    status: 'skipped',
    message: reason,
    wallSeconds: 0,
    backend: tf.getBackend(),
    finishedAt: new Date().toISOString(),
  });
  log(`${run.id}: skipped (${reason})`);
}

/**
 * Runs one run to its outcome for a queue job, whose dependencies have their outcomes: returns the outcome
 * (the existing one when the run had one: nothing is trained again), and throws when the run failed or was
 * stopped, so the queue retries it or hands it to another worker.
 */
export async function runStudyRun(
  options: WorkerOptions,
  run: RunSpec,
): Promise<{ outcome: RunOutcome; trained: boolean }> {
  const log = workerLog(options);
  const directory = runDirectory(options.outDir, run.id);
  const existing = readOutcome(directory);
  if (existing !== undefined) return { outcome: existing, trained: false };
  const ready = readiness(options, run);
  if (ready.state === 'waiting')
    throw new Error(`${run.id}: a run it needs has no outcome in ${options.outDir} (${run.dependsOn.join(', ')})`);
  if (ready.state === 'skip') writeSkipped(directory, run, ready.reason, log);
  else await execute(options, run, ready.teacher, log, true);
  return { outcome: readOutcome(directory)!, trained: ready.state !== 'skip' };
}

/** Removes the outcomes of failed runs so that a new invocation retries them. */
export function clearFailedOutcomes(config: StudyConfig, outDir: string): string[] {
  const cleared: string[] = [];
  for (const run of planStudy(config)) {
    const directory = runDirectory(outDir, run.id);
    const outcome = readOutcome(directory);
    if (
      outcome?.status === 'failed' ||
      (outcome?.status === 'skipped' &&
        run.kind === 'student' &&
        run.teacher !== 'none' &&
        dependencyFailed(config, outDir, run))
    ) {
      rmSync(join(directory, 'outcome.json'), { force: true });
      cleared.push(run.id);
    }
  }
  return cleared;
}

function dependencyFailed(config: StudyConfig, outDir: string, run: StudentRun): boolean {
  const dependencies = run.teacher === 'mcmi' ? allLambdas(config).map(fineTuneId) : run.dependsOn;
  return dependencies.some((id) => readOutcome(runDirectory(outDir, id))?.status === 'failed');
}
