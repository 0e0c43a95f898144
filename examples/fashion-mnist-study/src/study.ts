/**
 * Runs the whole study (resumable): `pnpm study [--config full|smoke] [--out runs/full] [--workers 2]
 * [--backend wasm] [--deadline 2026-11-26T03:15:00Z]`. With several workers each is a child process on its own
 * core; re-running the command skips finished runs and resumes interrupted ones from their checkpoints.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendChoices, selectBackend, type BackendChoice } from '@kd-example/common';
import { STUDY_CONFIGS, type StudyConfig } from './config';
import { loadStudyData } from './data';
import { readJson, writeJsonAtomic } from './outcome';
import { planStudy } from './plan';
import { clearFailedOutcomes, runWorker } from './runner';

export interface StudyArguments {
  config: StudyConfig;
  outDir: string;
  workers: number;
  backend: BackendChoice;
  deadline?: Date;
  /** Set in the child processes. */
  workerIndex?: number;
}

export const PACKAGE_DIRECTORY = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function parseStudyArguments(argv: readonly string[]): StudyArguments {
  const fn = 'study';
  const values = new Map<string, string>();
  // `pnpm study -- --flag` passes the separator through.
  for (let index = argv[0] === '--' ? 1 : 0; index < argv.length; index++) {
    const flag = argv[index] as string;
    if (!flag.startsWith('--')) throw new Error(`${fn}: unexpected argument '${flag}'`);
    const value = argv[index + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${fn}: ${flag} needs a value`);
    values.set(flag.slice(2), value);
    index++;
  }
  const known = ['config', 'out', 'workers', 'backend', 'deadline', 'worker-index'];
  for (const key of values.keys()) if (!known.includes(key)) throw new Error(`${fn}: unknown flag --${key}; known: ${known.map((k) => `--${k}`).join(', ')}`);
  const configName = values.get('config') ?? 'full';
  const config = STUDY_CONFIGS[configName];
  if (config === undefined) throw new Error(`${fn}: --config must be one of ${Object.keys(STUDY_CONFIGS).join(', ')}; got '${configName}'`);
  const workers = Number(values.get('workers') ?? '1');
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`${fn}: --workers must be a positive integer, got '${values.get('workers')}'`);
  const backend = (values.get('backend') ?? 'wasm') as BackendChoice;
  if (!backendChoices.includes(backend)) throw new Error(`${fn}: --backend must be one of ${backendChoices.join(', ')}; got '${backend}'`);
  let deadline: Date | undefined;
  if (values.has('deadline')) {
    deadline = new Date(values.get('deadline') as string);
    if (Number.isNaN(deadline.getTime())) throw new Error(`${fn}: --deadline must be an ISO date-time, got '${values.get('deadline')}'`);
  }
  const workerIndex = values.has('worker-index') ? Number(values.get('worker-index')) : undefined;
  return {
    config,
    outDir: resolve(values.get('out') ?? join(PACKAGE_DIRECTORY, 'runs', config.name)),
    workers,
    backend,
    ...(deadline ? { deadline } : {}),
    ...(workerIndex !== undefined ? { workerIndex } : {}),
  };
}

/** One study invocation, as `invocations.jsonl` records it (the report sums their wall time). */
export interface Invocation {
  startedAt: string;
  endedAt: string;
  seconds: number;
  workers: number;
  backend: string;
  ranRuns: number;
}

/** Runs the study in this process with one worker (what the smoke test calls). */
export async function runStudyInProcess(options: { config: StudyConfig; outDir: string; backendName: string; deadline?: Date; log?: (message: string) => void }): Promise<Invocation> {
  const started = new Date();
  prepareStudyDirectory(options.config, options.outDir, options.log);
  const data = await loadStudyData(options.config);
  const { ran } = await runWorker({ config: options.config, data, outDir: options.outDir, workerName: 'worker 0', ...(options.deadline ? { deadline: options.deadline } : {}), ...(options.log ? { log: options.log } : {}) });
  return recordInvocation(options.outDir, started, 1, options.backendName, ran);
}

function prepareStudyDirectory(config: StudyConfig, outDir: string, log: (message: string) => void = (line) => process.stderr.write(`${line}\n`)): void {
  mkdirSync(outDir, { recursive: true });
  const existing = readJson<StudyConfig>(join(outDir, 'config.json'));
  if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(config)) {
    throw new Error(`study: ${outDir} holds a study with a different config (config.json); use another --out`);
  }
  writeJsonAtomic(join(outDir, 'config.json'), config);
  const cleared = clearFailedOutcomes(config, outDir);
  if (cleared.length > 0) log(`study: retrying ${cleared.length} failed run(s): ${cleared.join(', ')}`);
}

function recordInvocation(outDir: string, started: Date, workers: number, backend: string, ranRuns: number): Invocation {
  const ended = new Date();
  const invocation: Invocation = {
    startedAt: started.toISOString(),
    endedAt: ended.toISOString(),
    seconds: (ended.getTime() - started.getTime()) / 1000,
    workers,
    backend,
    ranRuns,
  };
  appendFileSync(join(outDir, 'invocations.jsonl'), `${JSON.stringify(invocation)}\n`);
  return invocation;
}

async function main(): Promise<void> {
  const args = parseStudyArguments(process.argv.slice(2));
  if (args.workerIndex !== undefined) {
    const backend = await selectBackend({ backend: args.backend });
    const data = await loadStudyData(args.config);
    const { ran } = await runWorker({
      config: args.config,
      data,
      outDir: args.outDir,
      workerName: `worker ${args.workerIndex}`,
      ...(args.deadline ? { deadline: args.deadline } : {}),
    });
    process.stdout.write(`${JSON.stringify({ ran, backend: backend.name })}\n`);
    return;
  }
  const started = new Date();
  prepareStudyDirectory(args.config, args.outDir);
  const total = planStudy(args.config).length;
  process.stderr.write(`study '${args.config.name}': ${total} runs in ${args.outDir}, ${args.workers} worker(s), backend ${args.backend}` +
    `${args.deadline ? `, deadline ${args.deadline.toISOString()}` : ''}\n`);
  const script = fileURLToPath(import.meta.url);
  const children = Array.from({ length: args.workers }, (_, index) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...process.argv.slice(2), '--worker-index', String(index)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return new Promise<{ ran: number; backend: string }>((resolvePromise, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (code !== 0) reject(new Error(`study: worker ${index} exited with ${signal ?? `code ${code}`}`));
        else resolvePromise(JSON.parse(output.trim().split('\n').pop() ?? '{}') as { ran: number; backend: string });
      });
    });
  });
  const results = await Promise.allSettled(children);
  const ran = results.reduce((sum, result) => sum + (result.status === 'fulfilled' ? result.value.ran : 0), 0);
  const backend = results.find((result) => result.status === 'fulfilled')?.status === 'fulfilled'
    ? (results.find((result) => result.status === 'fulfilled') as PromiseFulfilledResult<{ backend: string }>).value.backend
    : args.backend;
  const invocation = recordInvocation(args.outDir, started, args.workers, backend, ran);
  process.stderr.write(`study: ${ran} run(s) in ${invocation.seconds.toFixed(0)} s; render the report with pnpm report\n`);
  const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failures.length > 0) throw new Error(failures.map((failure) => (failure.reason as Error).message).join('; '));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
