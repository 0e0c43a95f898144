/**
 * What every training command does around its trainer call: name the run, skip it when finished, continue it
 * from its checkpoint, save the final weights, print a summary.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { basename, join } from 'node:path';
import { writeFileAtomicSync } from '@kd/internal/node';
import type { KdModel } from '@kd/models';
import type { CommonTrainingOptions, ObjectiveSpec, TrainingResult } from '@kd/trainer';
import { directoryStore } from '@kd/trainer/node';
import type { RunStore } from '@kd/trainer';
import type { RunConfig } from '../cli';
import {
  RUN_RECORD_FILE,
  isFinished,
  readRunRecord,
  resolveRunDirectory,
  saveRunModel,
  unusableRunModel,
} from '../runs';

export type Log = (message: string) => void;

/** What a command gets besides its config. */
export interface CommandContext {
  /** Where messages go. */
  log: Log;
  /** Stops training between two steps (Ctrl-C); the last checkpoint stays intact and the run can continue. */
  signal?: AbortSignal;
}

/** Callbacks a queue worker adds to every trainer call of a command (progress reports, lock renewal). */
export type TrainingHooks = Pick<CommonTrainingOptions, 'onStepEnd' | 'onEpochEnd'>;

/**
 * The hooks of the command running in the current async context: the worker sets them around a command, so the
 * commands need not pass them along (and two jobs of one worker process keep their own).
 */
export const trainingHooks = new AsyncLocalStorage<TrainingHooks>();

/** What a trainer call gets from {@link runInDirectory}. */
export interface RunSettings extends TrainingHooks {
  store: RunStore;
  resume: true | 'auto';
  progress: boolean;
  signal?: AbortSignal;
}

/** What a command reports back (the sweep and the tests read it). */
export interface CommandOutcome {
  runDirectory: string;
  /** true when the run was already finished and nothing ran. */
  skipped: boolean;
  result?: TrainingResult;
}

function seedSuffix(config: RunConfig): string {
  return config.seed === 0 ? '' : `-seed${config.seed}`;
}

/** `teacher-cifar100-resnet32x4`: the cross-entropy (MLL) teacher of a preset. */
export function teacherRunName(config: RunConfig): string {
  return `teacher-${config.dataset}-${config.teacher}${seedSuffix(config)}`;
}

/** `mcmi-cifar100-resnet32x4-lambda0.25`: the MCMI fine-tuned teacher. */
export function mcmiRunName(config: RunConfig): string {
  return `mcmi-${config.dataset}-${config.teacher}-lambda${config.mcmiLambda}${seedSuffix(config)}`;
}

/** The teacher a student learns from: `--teacher`, else the preset's MLL or MCMI teacher run. */
export function teacherDirectory(config: RunConfig): string {
  const reference = config.teacherRef ?? (config.teacherKind === 'mcmi' ? mcmiRunName(config) : teacherRunName(config));
  return resolveRunDirectory(config.outDir, reference);
}

/** `<method>` plus the objective's weights when they differ from the recipe's, so runs never collide. */
function methodTag(config: RunConfig): string {
  const weightFlags = ['gamma', 'alpha', 'beta', 'temperature'];
  if (!config.flags.some(([flag]) => weightFlags.includes(flag))) return config.method;
  return `${config.method}-g${config.gamma}-a${config.alpha}-b${config.beta}-T${config.temperature}`;
}

/** Name of a student run: `<task>-<student>-<method>-from-<teacher run>`. */
export function studentRunName(config: RunConfig, task: 'distill' | 'few-shot' | 'zero-shot'): string {
  const teacher = basename(teacherDirectory(config));
  const prefix =
    task === 'few-shot'
      ? `few-shot${Math.round((config.fewShotFraction ?? 1) * 1000) / 10}`
      : task === 'zero-shot'
        ? `zero-shot-omit${config.omittedClasses.join('-')}`
        : 'distill';
  return `${prefix}-${config.student}-${methodTag(config)}${seedSuffix(config)}-from-${teacher}`;
}

/**
 * The student objective, L = γ·CE + α·KD(T) + β·method, with the weights the config resolved: the method's
 * reference weights (RepDistiller's `run_cifar_distill.sh`, via `REFERENCE_WEIGHTS`) unless
 * `--gamma/--alpha/--beta` were given. KD alone is γ·CE + α·KD; a KD term joins another method only when α > 0.
 * DKD gets the pair's β (`dkdBeta`) and the 20-epoch warm-up (the trainer's default).
 */
export function studentObjectives(config: RunConfig): ObjectiveSpec[] {
  const kd: ObjectiveSpec = { method: 'kd', weight: config.alpha, options: { temperature: config.temperature } };
  if (config.method === 'kd') return [{ method: 'ce', weight: config.gamma }, kd];
  const objectives: ObjectiveSpec[] = [{ method: 'ce', weight: config.gamma }];
  if (config.alpha > 0) objectives.push(kd);
  objectives.push(
    config.method === 'dkd'
      ? { method: 'dkd', weight: config.beta, options: { beta: config.dkdBeta } }
      : { method: config.method, weight: config.beta },
  );
  return objectives;
}

/** The step schedule of the recipe, with milestones already fitted to the epoch count. */
export function stepSchedule(milestones: readonly number[]): {
  kind: 'step';
  milestones: number[];
  decayFactor: number;
} {
  return { kind: 'step', milestones: [...milestones], decayFactor: 0.1 };
}

/** The run directory whose trainer call is in progress (what a second Ctrl-C marks aborted). */
let activeRunDirectory: string | undefined;

/**
 * Marks the run in progress `aborted` in its `run.json`, synchronously (a second Ctrl-C exits right after,
 * before any promise could settle). Returns the run directory, or undefined when no run is in progress.
 */
export function markActiveRunAborted(reason: string): string | undefined {
  const directory = activeRunDirectory;
  if (directory === undefined) return undefined;
  const record = readRunRecord(directory);
  if (record === undefined || record.status !== 'running') return directory;
  const aborted = { ...record, status: 'aborted', error: reason, finishedAt: new Date().toISOString() };
  writeFileAtomicSync(join(directory, RUN_RECORD_FILE), `${JSON.stringify(aborted, null, 2)}\n`);
  return directory;
}

/** The skip outcome when the run in `runDirectory` has finished (checked before any data is loaded). */
export function skipIfFinished(runDirectory: string, log: Log): CommandOutcome | undefined {
  if (readRunRecord(runDirectory)?.status === 'finished') {
    const problem = unusableRunModel(runDirectory);
    if (problem !== undefined) {
      // The checkpoint of the last epoch is still there: resuming trains nothing and writes model/ again.
      log(
        `${basename(runDirectory)}: finished, but its final weights are unusable (${problem}); writing them again from the checkpoint`,
      );
      return undefined;
    }
  }
  if (!isFinished(runDirectory)) return undefined;
  log(`${basename(runDirectory)}: already finished (${runDirectory}/run.json), skipping`);
  return { runDirectory, skipped: true };
}

/**
 * Runs one trainer call in `runDirectory` unless the run has finished: continues from the checkpoint when
 * there is one (`--resume` makes a missing checkpoint an error), then saves `model`'s final weights.
 */
export async function runInDirectory({
  runDirectory,
  config,
  log,
  signal,
  model,
  train,
}: {
  runDirectory: string;
  config: RunConfig;
  log: Log;
  signal?: AbortSignal;
  /** The model whose weights are the run's result. */
  model: KdModel;
  train: (settings: RunSettings) => Promise<TrainingResult>;
}): Promise<CommandOutcome> {
  const finished = skipIfFinished(runDirectory, log);
  if (finished !== undefined) return finished;
  const previous = readRunRecord(runDirectory);
  if (previous !== undefined)
    log(`${basename(runDirectory)}: continuing (${previous.epochsCompleted} epochs done, status ${previous.status})`);
  else log(`${basename(runDirectory)}: starting in ${runDirectory}`);
  activeRunDirectory = runDirectory;
  let result: TrainingResult;
  try {
    result = await train({
      store: directoryStore(runDirectory),
      resume: config.resume ? true : 'auto',
      progress: !config.quiet,
      ...(signal === undefined ? {} : { signal }),
      ...trainingHooks.getStore(),
    });
  } finally {
    activeRunDirectory = undefined;
  }
  await saveRunModel(runDirectory, model);
  const test = result.last.test;
  log(
    `${basename(runDirectory)}: finished ${result.history.length} epochs` +
      (test
        ? `; last test top-1 ${(100 * test.top1).toFixed(2)}%, best ${(100 * (result.best.test?.top1 ?? 0)).toFixed(2)}%`
        : ''),
  );
  return { runDirectory, skipped: false, result };
}
