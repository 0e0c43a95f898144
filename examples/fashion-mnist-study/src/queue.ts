/**
 * The study on a BullMQ queue, for workers on any number of processes or machines sharing one run directory:
 *
 *   pnpm study --config full --queue redis://host:6379/0        enqueue every run (and return)
 *   pnpm study:worker --queue redis://host:6379/0 [--runs-dir runs] [--backend wasm] [--concurrency 1]
 *   pnpm study:status --queue redis://host:6379/0 [--json]      one line per run; exit 0 once all finished
 *
 * Each run is a job named `<config>/<run id>` that needs the runs of its `dependsOn` (the MLL teacher before its
 * fine-tunes, the fine-tunes before the students they teach). A job carries the study config and the run as
 * planned; a worker accepts it only when both are exactly what its own code plans for that config name.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordInvocation, selectBackend } from '@kd-example/common';
import {
  enqueueSweep,
  formatSweepStatus,
  parseQueueUrl,
  readSweepStatus,
  startSweepWorker,
  type QueueAddress,
  type RunContext,
  type RunResult,
  type SweepRun,
} from '@kd-example/common/sweep-queue';
import { assertKnownOptions } from '@kd/internal';
import type { EpochRecord } from '@kd/trainer';
import { STUDY_CONFIGS, type StudyConfig } from './config';
import { loadStudyData, type StudyData } from './data';
import type { RunOutcome } from './outcome';
import { planStudy, type RunSpec } from './plan';
import { runDirectory, runStudyRun } from './runner';
import { PACKAGE_DIRECTORY, backendFlag, claimStudyDirectory, readFlags } from './study';

export const QUEUE_NAME = 'kd-fashion-mnist-study';

/** What a job carries: the config's name, the config itself (less its machine's data directory) and the run. */
export interface StudyJobPayload {
  config: string;
  study: Omit<StudyConfig, 'dataDir'>;
  run: RunSpec;
}

/** JSON with object keys sorted, so two configurations compare by content. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );
}

function withoutDataDir(config: StudyConfig): Omit<StudyConfig, 'dataDir'> {
  const { dataDir: _machine, ...rest } = config;
  return rest;
}

/** The study's runs as queue jobs, in plan order. */
export function studyRuns(config: StudyConfig): SweepRun<StudyJobPayload>[] {
  const name = (id: string) => `${config.name}/${id}`;
  return planStudy(config).map((run) => ({
    name: name(run.id),
    payload: { config: config.name, study: withoutDataDir(config), run },
    dependsOn: run.dependsOn.map(name),
  }));
}

/**
 * Checks a job's payload: a known config name whose config and planned run are exactly the job's (the same
 * check `--config` gets: only the studies of this code run). Returns the job name and the config with this
 * machine's data directory.
 */
export function validateStudyPayload(payload: unknown): {
  name: string;
  payload: { config: StudyConfig; run: RunSpec };
} {
  if (payload === undefined) throw new Error('the job has no payload {config, study, run}');
  assertKnownOptions('validateStudyPayload', payload, ['config', 'study', 'run'], 'the job payload');
  const { config: name, study, run } = payload as Partial<StudyJobPayload>;
  const config = typeof name === 'string' ? STUDY_CONFIGS[name] : undefined;
  if (config === undefined)
    throw new Error(`config must be one of ${Object.keys(STUDY_CONFIGS).join(', ')}; got ${JSON.stringify(name)}`);
  if (canonical(study) !== canonical(withoutDataDir(config)))
    throw new Error(`study differs from this worker's '${config.name}' config (a different version of the study?)`);
  const id = typeof run === 'object' && run !== null ? (run as { id?: unknown }).id : undefined;
  const planned = planStudy(config).find((candidate) => candidate.id === id);
  if (planned === undefined) throw new Error(`run ${JSON.stringify(id)} is not a run of the '${config.name}' study`);
  if (canonical(run) !== canonical(planned))
    throw new Error(`run '${planned.id}' differs from the plan of the '${config.name}' study`);
  return { name: `${config.name}/${planned.id}`, payload: { config, run: planned } };
}

/** `pnpm study --queue`: adds every run of the study; runs already queued are left as they are. */
export async function enqueueStudy({
  config,
  address,
  attempts = 3,
  backoffSeconds = 30,
}: {
  config: StudyConfig;
  address: QueueAddress;
  attempts?: number;
  backoffSeconds?: number;
}): Promise<{ added: string[]; existing: string[] }> {
  return enqueueSweep({ address, queueName: QUEUE_NAME, runs: studyRuns(config), attempts, backoffSeconds });
}

function epochsOf(config: StudyConfig, run: RunSpec): number {
  if (run.kind === 'student') return config.studentEpochs;
  return run.lambda === undefined ? config.teacherEpochs : config.fineTuneEpochs;
}

function resultOf(outcome: RunOutcome, epochs: number, skipped: boolean): RunResult {
  return {
    epoch: outcome.history?.length ?? 0,
    epochs,
    ...(outcome.best === undefined ? {} : { bestTop1: outcome.best.testTop1 }),
    ...(outcome.last === undefined ? {} : { lastTop1: outcome.last.testTop1 }),
    skipped,
  };
}

export interface StudyWorkerOptions {
  address: QueueAddress;
  /** The folder of the study directories: a study's runs go to `<runsDirectory>/<config name>`. */
  runsDirectory: string;
  concurrency?: number;
  stallSeconds?: number;
  name?: string;
  log?: (message: string) => void;
}

/**
 * A study worker in this process: trains jobs until `stop()`; each study's data are loaded once. Returns the
 * worker and the number of runs it trained per study directory (for the invocation records).
 */
export function startStudyWorker(options: StudyWorkerOptions): {
  stop: () => Promise<void>;
  ready: Promise<void>;
  name: string;
  ran: Map<string, number>;
} {
  const data = new Map<string, Promise<StudyData>>();
  const ran = new Map<string, number>();
  const run = async (
    { config, run: spec }: { config: StudyConfig; run: RunSpec },
    context: RunContext,
  ): Promise<RunResult> => {
    const outDir = join(options.runsDirectory, config.name);
    claimStudyDirectory(config, outDir);
    if (!data.has(config.name)) data.set(config.name, loadStudyData(config));
    const epochs = epochsOf(config, spec);
    let best: number | undefined;
    const { outcome, trained } = await runStudyRun(
      {
        config,
        data: await data.get(config.name)!,
        outDir,
        workerName: context.worker,
        signal: context.signal,
        ...(options.log === undefined ? {} : { log: options.log }),
        hooks: {
          // Lets the lock renewal of this worker run between two steps, however long an epoch is.
          onStepEnd: () => new Promise<void>((resolveStep) => setTimeout(resolveStep, 0)),
          onEpochEnd: (record: EpochRecord) => {
            const top1 = record.test?.top1;
            if (top1 !== undefined) best = Math.max(best ?? -1, top1);
            context.reportProgress({
              epoch: record.epoch,
              epochs,
              ...(best === undefined ? {} : { bestTop1: best }),
              ...(top1 === undefined ? {} : { lastTop1: top1 }),
            });
          },
        },
      },
      spec,
    );
    if (trained) ran.set(outDir, (ran.get(outDir) ?? 0) + 1);
    context.log(
      `${context.worker}: ${runDirectory(outDir, spec.id)}: ${outcome.status}${trained ? '' : ' (no training)'}`,
    );
    return resultOf(outcome, epochs, !trained);
  };
  const worker = startSweepWorker({
    address: options.address,
    queueName: QUEUE_NAME,
    concurrency: options.concurrency ?? 1,
    stallSeconds: options.stallSeconds ?? 60,
    validate: validateStudyPayload,
    run,
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.name === undefined ? {} : { name: options.name }),
  });
  return { ...worker, ran };
}

function positiveFlag(fn: string, values: Map<string, string>, flag: string, fallback: number): number {
  const text = values.get(flag);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${fn}: --${flag} must be a positive number, got '${text}'`);
  return value;
}

/** `pnpm study:worker` and `pnpm study:status`. */
async function main(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv[0] === '--' ? argv.slice(1) : argv;
  if (command === 'status') {
    const values = readFlags('study:status', rest, ['queue'], ['json']);
    if (!values.has('queue')) throw new Error('study:status: pass --queue redis://host:port/db');
    const status = await readSweepStatus({ address: parseQueueUrl(values.get('queue')!), queueName: QUEUE_NAME });
    process.stdout.write(`${values.has('json') ? JSON.stringify(status, null, 2) : formatSweepStatus(status)}\n`);
    if (!status.done) process.exitCode = 1;
    return;
  }
  if (command !== 'worker') throw new Error(`queue: the command must be worker or status, got '${command}'`);
  const fn = 'study:worker';
  const values = readFlags(fn, rest, ['queue', 'runs-dir', 'backend', 'concurrency', 'stall-seconds']);
  if (!values.has('queue')) throw new Error(`${fn}: pass --queue redis://host:port/db`);
  const address = parseQueueUrl(values.get('queue')!);
  const concurrency = positiveFlag(fn, values, 'concurrency', 1);
  if (!Number.isInteger(concurrency))
    throw new Error(`${fn}: --concurrency must be an integer, got '${values.get('concurrency')}'`);
  const backend = await selectBackend({ backend: backendFlag(fn, values) });
  const started = new Date();
  const worker = startStudyWorker({
    address,
    runsDirectory: resolve(values.get('runs-dir') ?? join(PACKAGE_DIRECTORY, 'runs')),
    concurrency,
    stallSeconds: positiveFlag(fn, values, 'stall-seconds', 60),
  });
  await worker.ready;
  process.stderr.write(
    `${worker.name}: waiting for study jobs on ${address.display} (backend ${backend.name}; Ctrl-C stops after the current step)\n`,
  );
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', () => {
      process.on('SIGINT', () => process.exit(130));
      process.stderr.write('\nstopping after this step (Ctrl-C again to quit now); the job goes back to the queue\n');
      resolveStop();
    });
  });
  await worker.stop();
  for (const [outDir, count] of worker.ran) {
    recordInvocation({ outDir, started, workers: 1, backend: backend.name, ranRuns: count });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
