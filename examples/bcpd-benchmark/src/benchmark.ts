/**
 * Runs the whole benchmark (resumable): `pnpm benchmark [--config full|smoke] [--out runs/full] [--workers 2]
 * [--backend wasm]`. With several workers each is a child process taking every N-th problem; re-running the
 * command skips the runs that have an outcome.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  backendChoices,
  type Invocation,
  readJson,
  recordInvocation,
  selectBackend,
  writeJsonAtomic,
  type BackendChoice,
} from '@kd-example/common';
import { BENCHMARK_CONFIGS, type BenchmarkConfig } from './config';
import { runProblem } from './runner';

export const PACKAGE_DIRECTORY = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface BenchmarkArguments {
  config: BenchmarkConfig;
  outDir: string;
  workers: number;
  backend: BackendChoice;
  /** Set in the child processes. */
  workerIndex?: number;
}

export function parseBenchmarkArguments(argv: readonly string[]): BenchmarkArguments {
  const fn = 'benchmark';
  const values = new Map<string, string>();
  // `pnpm benchmark -- --flag` passes the separator through.
  for (let index = argv[0] === '--' ? 1 : 0; index < argv.length; index++) {
    const flag = argv[index] as string;
    if (!flag.startsWith('--')) throw new Error(`${fn}: unexpected argument '${flag}'`);
    const value = argv[index + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${fn}: ${flag} needs a value`);
    values.set(flag.slice(2), value);
    index++;
  }
  const known = ['config', 'out', 'workers', 'backend', 'worker-index'];
  for (const key of values.keys())
    if (!known.includes(key))
      throw new Error(`${fn}: unknown flag --${key}; known: ${known.map((k) => `--${k}`).join(', ')}`);
  const configName = values.get('config') ?? 'full';
  const config = BENCHMARK_CONFIGS[configName];
  if (config === undefined)
    throw new Error(`${fn}: --config must be one of ${Object.keys(BENCHMARK_CONFIGS).join(', ')}; got '${configName}'`);
  const workers = Number(values.get('workers') ?? '1');
  if (!Number.isInteger(workers) || workers < 1)
    throw new Error(`${fn}: --workers must be a positive integer, got '${values.get('workers')}'`);
  const backend = (values.get('backend') ?? 'wasm') as BackendChoice;
  if (!backendChoices.includes(backend))
    throw new Error(`${fn}: --backend must be one of ${backendChoices.join(', ')}; got '${backend}'`);
  const workerIndex = values.has('worker-index') ? Number(values.get('worker-index')) : undefined;
  if (workerIndex !== undefined && !(Number.isInteger(workerIndex) && workerIndex >= 0 && workerIndex < workers)) {
    throw new Error(`${fn}: --worker-index must be an integer in [0, ${workers}), got '${values.get('worker-index')}'`);
  }
  return {
    config,
    outDir: resolve(values.get('out') ?? join(PACKAGE_DIRECTORY, 'runs', config.name)),
    workers,
    backend,
    ...(workerIndex !== undefined ? { workerIndex } : {}),
  };
}

/** Refuses a run directory that holds another config, so results never mix. */
function prepareDirectory(config: BenchmarkConfig, outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  const existing = readJson<BenchmarkConfig>(join(outDir, 'config.json'));
  if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(config)) {
    throw new Error(`benchmark: ${outDir} holds a benchmark with a different config (config.json); use another --out`);
  }
  writeJsonAtomic(join(outDir, 'config.json'), config);
}

/** Runs the problems of worker `workerIndex` of `workers` (every `workers`-th problem) in this process. */
async function runWorker(
  config: BenchmarkConfig,
  outDir: string,
  workerIndex: number,
  workers: number,
  log?: (message: string) => void,
): Promise<number> {
  let ran = 0;
  for (const [index, problem] of config.problems.entries()) {
    if (index % workers !== workerIndex) continue;
    ran += (await runProblem({ config, problem, outDir, ...(log ? { log } : {}) })).ran;
  }
  return ran;
}

/** The whole benchmark in this process (what the smoke test calls; the backend is already set). */
export async function runBenchmarkInProcess({
  config,
  outDir,
  backendName,
  log,
}: {
  config: BenchmarkConfig;
  outDir: string;
  backendName: string;
  log?: (message: string) => void;
}): Promise<Invocation> {
  const started = new Date();
  prepareDirectory(config, outDir);
  const ran = await runWorker(config, outDir, 0, 1, log);
  return recordInvocation({ outDir, started, workers: 1, backend: backendName, ranRuns: ran });
}

async function main(): Promise<void> {
  const args = parseBenchmarkArguments(process.argv.slice(2));
  if (args.workerIndex !== undefined) {
    const backend = await selectBackend({ backend: args.backend });
    const ran = await runWorker(args.config, args.outDir, args.workerIndex, args.workers, (line) =>
      process.stderr.write(`${new Date().toISOString().slice(11, 19)} [worker ${args.workerIndex}] ${line}\n`),
    );
    process.stdout.write(`${JSON.stringify({ ran, backend: backend.name })}\n`);
    return;
  }
  const started = new Date();
  prepareDirectory(args.config, args.outDir);
  process.stderr.write(
    `benchmark '${args.config.name}': ${args.config.problems.length} problem(s) in ${args.outDir}, ${args.workers} worker(s), backend ${args.backend}\n`,
  );
  const script = fileURLToPath(import.meta.url);
  const children = Array.from({ length: args.workers }, (_, index) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, script, ...process.argv.slice(2), '--worker-index', String(index)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return new Promise<{ ran: number; backend: string }>((resolvePromise, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (code !== 0) reject(new Error(`benchmark: worker ${index} exited with ${signal ?? `code ${code}`}`));
        else resolvePromise(JSON.parse(output.trim().split('\n').pop() ?? '{}') as { ran: number; backend: string });
      });
    });
  });
  const results = await Promise.allSettled(children);
  const fulfilled = results.filter(
    (result): result is PromiseFulfilledResult<{ ran: number; backend: string }> => result.status === 'fulfilled',
  );
  const ran = fulfilled.reduce((sum, result) => sum + result.value.ran, 0);
  const invocation = recordInvocation({
    outDir: args.outDir,
    started,
    workers: args.workers,
    backend: fulfilled[0]?.value.backend ?? args.backend,
    ranRuns: ran,
  });
  process.stderr.write(
    `benchmark: ${ran} run(s) in ${invocation.seconds.toFixed(0)} s; render the report with pnpm report\n`,
  );
  const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failures.length > 0) throw new Error(failures.map((failure) => (failure.reason as Error).message).join('; '));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
