/**
 * Runs the whole study (resumable): `pnpm study [--config full|smoke] [--out runs/full] [--backend wasm]
 * [--deadline 2026-11-26T03:15:00Z]`, in this process, in plan order; re-running the command skips finished
 * runs and resumes interrupted ones from their checkpoints. `pnpm study --queue redis://host:port/db` enqueues
 * the study instead, for `pnpm study:worker` processes on any number of machines (queue.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  backendChoices,
  type Invocation,
  recordInvocation,
  selectBackend,
  type BackendChoice,
} from '@kd-example/common';
import { parseQueueUrl, type QueueAddress } from '@kd-example/common/sweep-queue';
import { STUDY_CONFIGS, type StudyConfig } from './config';
import { loadStudyData } from './data';
import { readJson, writeJsonAtomic } from './outcome';
import { planStudy } from './plan';
import { clearFailedOutcomes, runWorker } from './runner';

export interface StudyArguments {
  config: StudyConfig;
  outDir: string;
  backend: BackendChoice;
  deadline?: Date;
  /** Enqueue the study on this Redis instead of running it here. */
  queue?: QueueAddress;
}

export const PACKAGE_DIRECTORY = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** `--flag value` pairs (and the `switches`, which take no value) of a command line; unknown flags are an error. */
export function readFlags(
  fn: string,
  argv: readonly string[],
  known: readonly string[],
  switches: readonly string[] = [],
): Map<string, string> {
  const values = new Map<string, string>();
  // `pnpm study -- --flag` passes the separator through.
  for (let index = argv[0] === '--' ? 1 : 0; index < argv.length; index++) {
    const flag = argv[index] as string;
    if (!flag.startsWith('--')) throw new Error(`${fn}: unexpected argument '${flag}'`);
    const key = flag.slice(2);
    if (!known.includes(key) && !switches.includes(key)) {
      throw new Error(`${fn}: unknown flag ${flag}; known: ${[...known, ...switches].map((k) => `--${k}`).join(', ')}`);
    }
    if (switches.includes(key)) {
      values.set(key, 'true');
      continue;
    }
    const value = argv[index + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${fn}: ${flag} needs a value`);
    values.set(key, value);
    index++;
  }
  return values;
}

/** The study config `--config` names (default full). */
export function studyConfigFlag(fn: string, values: Map<string, string>): StudyConfig {
  const configName = values.get('config') ?? 'full';
  const config = STUDY_CONFIGS[configName];
  if (config === undefined)
    throw new Error(`${fn}: --config must be one of ${Object.keys(STUDY_CONFIGS).join(', ')}; got '${configName}'`);
  return config;
}

/** `--backend` (default wasm). */
export function backendFlag(fn: string, values: Map<string, string>): BackendChoice {
  const backend = (values.get('backend') ?? 'wasm') as BackendChoice;
  if (!backendChoices.includes(backend))
    throw new Error(`${fn}: --backend must be one of ${backendChoices.join(', ')}; got '${backend}'`);
  return backend;
}

export function parseStudyArguments(argv: readonly string[]): StudyArguments {
  const fn = 'study';
  const values = readFlags(fn, argv, ['config', 'out', 'backend', 'deadline', 'queue']);
  const config = studyConfigFlag(fn, values);
  const backend = backendFlag(fn, values);
  if (values.has('queue') && (values.has('deadline') || values.has('out') || values.has('backend'))) {
    throw new Error(
      `${fn}: with --queue, the study is only enqueued: --out, --backend and --deadline belong to pnpm study:worker`,
    );
  }
  let deadline: Date | undefined;
  if (values.has('deadline')) {
    deadline = new Date(values.get('deadline') as string);
    if (Number.isNaN(deadline.getTime()))
      throw new Error(`${fn}: --deadline must be an ISO date-time, got '${values.get('deadline')}'`);
  }
  const queue = values.has('queue') ? parseQueueUrl(values.get('queue') as string) : undefined;
  return {
    config,
    outDir: resolve(values.get('out') ?? join(PACKAGE_DIRECTORY, 'runs', config.name)),
    backend,
    ...(deadline ? { deadline } : {}),
    ...(queue ? { queue } : {}),
  };
}

/** Runs the study in this process with one worker (what the smoke test calls). */
export async function runStudyInProcess(options: {
  config: StudyConfig;
  outDir: string;
  backendName: string;
  deadline?: Date;
  log?: (message: string) => void;
}): Promise<Invocation> {
  const started = new Date();
  prepareStudyDirectory(options.config, options.outDir, options.log);
  const data = await loadStudyData(options.config);
  const { ran } = await runWorker({
    config: options.config,
    data,
    outDir: options.outDir,
    workerName: 'worker 0',
    ...(options.deadline ? { deadline: options.deadline } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  return recordInvocation({ outDir: options.outDir, started, workers: 1, backend: options.backendName, ranRuns: ran });
}

/** Refuses a study directory that holds another study's runs (its config.json), so results never mix. */
export function claimStudyDirectory(config: StudyConfig, outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  const existing = readJson<StudyConfig>(join(outDir, 'config.json'));
  if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(config)) {
    throw new Error(`study: ${outDir} holds a study with a different config (config.json); use another --out`);
  }
  if (existing === undefined) writeJsonAtomic(join(outDir, 'config.json'), config);
}

function prepareStudyDirectory(
  config: StudyConfig,
  outDir: string,
  log: (message: string) => void = (line) => process.stderr.write(`${line}\n`),
): void {
  claimStudyDirectory(config, outDir);
  const cleared = clearFailedOutcomes(config, outDir);
  if (cleared.length > 0) log(`study: retrying ${cleared.length} failed run(s): ${cleared.join(', ')}`);
}

async function main(): Promise<void> {
  const args = parseStudyArguments(process.argv.slice(2));
  if (args.queue !== undefined) {
    // Loaded only here: a local study never needs the queue's client.
    const { enqueueStudy } = await import('./queue');
    const { added, existing } = await enqueueStudy({ config: args.config, address: args.queue });
    process.stderr.write(
      `study '${args.config.name}': ${added.length} run(s) added to ${args.queue.display}, ${existing.length} already queued; ` +
        `start workers with: pnpm study:worker --queue ${args.queue.display} --runs-dir <shared directory>\n`,
    );
    return;
  }
  const total = planStudy(args.config).length;
  process.stderr.write(
    `study '${args.config.name}': ${total} runs in ${args.outDir}, backend ${args.backend}` +
      `${args.deadline ? `, deadline ${args.deadline.toISOString()}` : ''}\n`,
  );
  const backend = await selectBackend({ backend: args.backend });
  const invocation = await runStudyInProcess({
    config: args.config,
    outDir: args.outDir,
    backendName: backend.name,
    ...(args.deadline ? { deadline: args.deadline } : {}),
  });
  process.stderr.write(
    `study: ${invocation.ranRuns} run(s) in ${invocation.seconds.toFixed(0)} s; render the report with pnpm report\n`,
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
