/**
 * Sweeps on a BullMQ queue: `sweep --queue` turns the sweep's steps into jobs (one per run, id = run name, the
 * teacher → MCMI → student dependencies), `worker` trains them, `sweep-status` shows them.
 *
 * A job carries the step's command line without any machine flag (`argv`) and the configuration it resolves to
 * (`config`). A worker accepts only the flags a sweep passes on, parses them with the CLI's own checks, adds its
 * own machine flags (data and run directories, backend, threads), and refuses the job when the configuration it
 * resolves differs from the job's (another version of the presets): such a job is failed, never run.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  enqueueSweep,
  formatSweepStatus,
  readSweepStatus,
  startSweepWorker,
  type RunContext,
  type RunProgress,
  type RunResult,
  type SweepRun,
  type SweepStatus,
} from '@kd-example/common/sweep-queue';
import { assertKnownOptions } from '@kd/internal';
import type { EpochRecord } from '@kd/trainer';
import { parseRunCommand, type CommandName, type QueueSettings, type RunConfig } from './cli';
import {
  mcmiRunName,
  studentRunName,
  teacherDirectory,
  teacherRunName,
  trainingHooks,
  type CommandOutcome,
  type Log,
} from './commands/shared';
import { sweepSteps } from './commands/sweep';
import { isFinished, readRunRecord, resolveRunDirectory } from './runs';

/** The BullMQ queue of kd-cifar100 sweeps (one Redis database holds one such queue). */
export const QUEUE_NAME = 'kd-cifar100-sweep';

/** Flags that describe the worker's machine: never part of a job, always the worker's own. */
export const MACHINE_FLAGS = ['data-dir', 'out-dir', 'backend', 'threads', 'quiet', 'download'] as const;

/** The steps a job may run. */
const RUN_COMMANDS: readonly CommandName[] = ['train-teacher', 'finetune-mcmi', 'distill', 'few-shot', 'zero-shot'];
/** The flags a job may carry: those a sweep passes on to its steps, minus the machine's. */
const JOB_FLAGS = new Set([
  'epochs',
  'batch-size',
  'limit-train',
  'limit-test',
  'seed',
  'allow-collapse',
  'method',
  'teacher-kind',
  'teacher-model',
  'student-model',
  'lambda',
]);

/** One run as a job: its command line (no machine flag) and the configuration it resolves to. */
export interface RunPayload {
  argv: string[];
  config: Record<string, unknown>;
}

/** Fields of a RunConfig that belong to the machine or the command line, not to the run's recipe. */
const NOT_RECIPE = new Set([
  'dataDir',
  'outDir',
  'backend',
  'threads',
  'download',
  'quiet',
  'flags',
  'queue',
  'sweepPresets',
  'description',
  'runName',
  'resume',
  'checkpoints',
  'images',
  'teacherRef',
  'studentRef',
]);

/** The run's resolved recipe (every number that decides what is trained), as JSON. */
export function resolvedRecipe(config: RunConfig): Record<string, unknown> {
  const recipe: Record<string, unknown> = {};
  for (const key of Object.keys(config).sort()) {
    const value = (config as unknown as Record<string, unknown>)[key];
    if (!NOT_RECIPE.has(key) && value !== undefined) recipe[key] = value;
  }
  return JSON.parse(JSON.stringify(recipe)) as Record<string, unknown>;
}

/** The run directory name a step writes, and the run it needs first. */
export function runOfStep(command: CommandName, config: RunConfig): { name: string; dependsOn: string[] } {
  switch (command) {
    case 'train-teacher':
      return { name: teacherRunName(config), dependsOn: [] };
    case 'finetune-mcmi':
      return { name: mcmiRunName(config), dependsOn: [teacherRunName(config)] };
    case 'distill':
    case 'few-shot':
    case 'zero-shot':
      return { name: studentRunName(config, command), dependsOn: [basename(teacherDirectory(config))] };
    default:
      throw new Error(`queue: '${command}' is not a step of a sweep`);
  }
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? 'nothing' : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Checks a job's payload as the CLI checks its flags and returns the run's name and its configuration with this
 * worker's machine flags (`machineArgv`). Throws naming what is wrong.
 */
export function validateRunPayload(
  payload: unknown,
  machineArgv: readonly string[] = [],
): { name: string; payload: { command: CommandName; config: RunConfig } } {
  if (payload === undefined) throw new Error('the job has no payload {argv, config}');
  assertKnownOptions('validateRunPayload', payload, ['argv', 'config'], 'the job payload');
  const { argv, config } = payload as { argv?: unknown; config?: unknown };
  if (
    !Array.isArray(argv) ||
    argv.length === 0 ||
    argv.length > 64 ||
    !argv.every((item) => typeof item === 'string' && item.length <= 200)
  ) {
    throw new Error(`argv must be a list of at most 64 strings, got ${describeValue(argv)}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new Error(`config must be an object, got ${describeValue(config)}`);
  const command = argv[0] as CommandName;
  if (!RUN_COMMANDS.includes(command))
    throw new Error(`argv must start with one of ${RUN_COMMANDS.join(', ')}, got '${argv[0]}'`);
  const parsed = parseRunCommand(argv as string[]);
  for (const [flag] of parsed.config.flags) {
    if (!JOB_FLAGS.has(flag))
      throw new Error(
        `argv: --${flag} is not accepted from a job (a job carries only ${[...JOB_FLAGS].map((name) => `--${name}`).join(' ')})`,
      );
  }
  const resolved = parseRunCommand([...(argv as string[]), ...machineArgv]).config;
  const expected = resolvedRecipe(resolved);
  const given = config as Record<string, unknown>;
  for (const key of new Set([...Object.keys(expected), ...Object.keys(given)])) {
    if (JSON.stringify(expected[key]) !== JSON.stringify(given[key])) {
      throw new Error(
        `config.${key} is ${describeValue(given[key])}, but ${argv.join(' ')} resolves to ${describeValue(expected[key])} here (a different kd-cifar100 version?)`,
      );
    }
  }
  return { name: runOfStep(command, resolved).name, payload: { command, config: resolved } };
}

/** The runs of a sweep as queue jobs: every step once (a teacher shared by presets is one run). */
export function sweepRuns(config: RunConfig): SweepRun<RunPayload>[] {
  const machine = new Set<string>([...MACHINE_FLAGS, 'queue', 'attempts', 'backoff-seconds']);
  const flags = config.flags.filter(([flag]) => !machine.has(flag));
  const runs = new Map<string, SweepRun<RunPayload>>();
  for (const step of sweepSteps(config, flags)) {
    const stepConfig = parseRunCommand(step.argv).config;
    const { name, dependsOn } = runOfStep(step.command, stepConfig);
    if (!runs.has(name))
      runs.set(name, { name, payload: { argv: step.argv, config: resolvedRecipe(stepConfig) }, dependsOn });
  }
  return [...runs.values()];
}

/** `sweep --queue`: adds the sweep's runs to the queue and returns. */
export async function enqueueCommand(config: RunConfig, log: Log): Promise<{ added: string[]; existing: string[] }> {
  const queue = config.queue!;
  const runs = sweepRuns(config);
  const ignored = config.flags
    .filter(([flag]) => (MACHINE_FLAGS as readonly string[]).includes(flag))
    .map(([flag]) => `--${flag}`);
  if (ignored.length > 0) log(`sweep: ${ignored.join(' ')} stay on this machine: each worker uses its own`);
  const result = await enqueueSweep({
    address: queue.address,
    queueName: QUEUE_NAME,
    runs,
    attempts: queue.attempts,
    backoffSeconds: queue.backoffSeconds,
  });
  log(
    `sweep: ${result.added.length} run(s) added to ${queue.address.display}, ${result.existing.length} already queued; ` +
      `start workers with: kd-cifar100 worker --queue ${queue.address.display} --data-dir … --out-dir <shared run directory>`,
  );
  return result;
}

/** `sweep-status`: prints the queue's runs; `done` is true when every run finished. */
export async function sweepStatusCommand(queue: QueueSettings, print: (text: string) => void): Promise<SweepStatus> {
  const status = await readSweepStatus({ address: queue.address, queueName: QUEUE_NAME });
  print(
    queue.json
      ? JSON.stringify(status, null, 2)
      : status.runs.length === 0
        ? `no run in ${queue.address.display}`
        : formatSweepStatus(status),
  );
  return status;
}

/** The worker's machine flags as a command line, added to every job's own. */
function machineArguments(config: RunConfig): string[] {
  const argv = ['--data-dir', config.dataDir, '--out-dir', config.outDir, '--backend', config.backend];
  if (config.threads !== undefined) argv.push('--threads', String(config.threads));
  if (config.quiet) argv.push('--quiet');
  if (config.download) argv.push('--download');
  return argv;
}

/** The epochs of the stage a step trains. */
function stageEpochs(command: CommandName, config: RunConfig): number {
  return command === 'finetune-mcmi' ? config.mcmiEpochs : config.epochs;
}

/**
 * One line per event in `<run>/queue-log.jsonl` (start, each epoch, end, with the worker and the time), so who
 * trained which epoch of a run, and when, can be checked after the fact.
 */
function appendQueueLog(runDirectory: string, entry: Record<string, unknown>): void {
  mkdirSync(runDirectory, { recursive: true });
  appendFileSync(join(runDirectory, QUEUE_LOG), `${JSON.stringify({ ...entry, at: new Date().toISOString() })}\n`);
}

export const QUEUE_LOG = 'queue-log.jsonl';

function figuresOf(runDirectory: string, epochs: number): RunProgress {
  const record = readRunRecord(runDirectory);
  const figures: RunProgress = { epoch: record?.epochsCompleted ?? 0, epochs };
  if (record?.best?.test !== undefined) figures.bestTop1 = record.best.test.top1;
  if (record?.last?.test !== undefined) figures.lastTop1 = record.last.test.top1;
  return figures;
}

/**
 * `worker`: trains jobs of the queue until `signal` aborts (Ctrl-C), then stops at the current step (the run
 * keeps its checkpoint and its job goes back to the queue).
 */
export async function workerCommand(
  config: RunConfig,
  {
    log,
    signal,
    runStep,
    name,
  }: {
    log: Log;
    signal: AbortSignal;
    runStep: (
      command: CommandName,
      config: RunConfig,
      context: { log: Log; signal: AbortSignal },
    ) => Promise<CommandOutcome>;
    name?: string;
  },
): Promise<void> {
  const queue = config.queue!;
  const machineArgv = machineArguments(config);
  const run = async (
    { command, config: runConfig }: { command: CommandName; config: RunConfig },
    context: RunContext,
  ): Promise<RunResult> => {
    const { name: runName } = runOfStep(command, runConfig);
    const runDirectory = resolveRunDirectory(runConfig.outDir, runName);
    const epochs = stageEpochs(command, runConfig);
    if (isFinished(runDirectory)) {
      context.log(`${context.worker}: ${runName} had finished (${runDirectory}); nothing to train`);
      return { ...figuresOf(runDirectory, epochs), skipped: true };
    }
    const progress = figuresOf(runDirectory, epochs);
    appendQueueLog(runDirectory, {
      event: 'start',
      worker: context.worker,
      pid: process.pid,
      epochsCompleted: progress.epoch,
    });
    context.reportProgress(progress);
    const hooks = {
      // Lets the worker's timers (its lock renewal) run between two steps, however long an epoch is.
      onStepEnd: () => new Promise<void>((resolve) => setTimeout(resolve, 0)),
      onEpochEnd: (record: EpochRecord) => {
        progress.epoch = record.epoch;
        if (record.test !== undefined) {
          progress.lastTop1 = record.test.top1;
          progress.bestTop1 = Math.max(progress.bestTop1 ?? -1, record.test.top1);
        }
        appendQueueLog(runDirectory, { event: 'epoch', worker: context.worker, epoch: record.epoch });
        context.reportProgress({ ...progress });
      },
    };
    try {
      await trainingHooks.run(hooks, () => runStep(command, runConfig, { log: context.log, signal: context.signal }));
    } catch (error) {
      appendQueueLog(runDirectory, {
        event: context.signal.aborted ? 'stopped' : 'error',
        worker: context.worker,
        message: (error as Error).message,
      });
      throw error;
    }
    appendQueueLog(runDirectory, { event: 'finished', worker: context.worker });
    return { ...figuresOf(runDirectory, epochs), skipped: false };
  };
  const worker = startSweepWorker({
    address: queue.address,
    queueName: QUEUE_NAME,
    concurrency: queue.concurrency,
    stallSeconds: queue.stallSeconds,
    validate: (payload) => validateRunPayload(payload, machineArgv),
    run,
    log,
    ...(name === undefined ? {} : { name }),
  });
  await worker.ready;
  log(
    `${worker.name}: waiting for jobs on ${queue.address.display} (runs in ${config.outDir}; Ctrl-C stops after the current step)`,
  );
  if (!signal.aborted)
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  log(`${worker.name}: stopping`);
  await worker.stop();
}
