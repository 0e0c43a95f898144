/**
 * A sweep on the BullMQ queue, end to end: 7 tiny runs (two teachers, their MCMI fine-tunes, three students, one
 * teacher shared by two presets) on generated CIFAR-100 / CIFAR-10 files, trained by two worker processes; one
 * worker is SIGKILLed in the middle of a run. Every run must finish, the killed run must continue from its
 * checkpoint on the other worker, no run may be trained by two workers at once (from the runs' queue logs),
 * and every epoch's metrics must equal those of the same sweep run locally in order. Then: enqueueing twice
 * adds no job, Redis restarting empty loses nothing finished, poisoned payloads are failed without running.
 * The Redis is a redis-server of our own on a free 127.0.0.1 port (skipped, saying so, without redis-server).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { readSweepStatus, parseQueueUrl, type SweepStatus } from '@kd-example/common/sweep-queue';
import { describeWithBackends } from '@kd/test-utils';
import { findRedisServer, startRedisServer, type RedisServer } from '@kd/test-utils/redis-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseRunCommand } from './cli';
import type { SweepStep } from './commands/sweep';
import { writeTinyDatasets } from './fixtures';
import { runCommandLine, type EnqueueOutcome } from './main';
import { QUEUE_LOG, QUEUE_NAME, resolvedRecipe, sweepRuns, validateRunPayload } from './queue';
import { SMOKE_MODEL, registerSmokeModel } from './smoke-model';

const hasRedis = findRedisServer() !== undefined;
if (!hasRedis)
  console.warn(
    'kd-cifar100 queue tests: redis-server is not installed (apt-get install redis-server); the queue cases are skipped',
  );

const here = dirname(fileURLToPath(import.meta.url));
const tsxCli = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'cli.mjs');

let root = '';
let dataDir = '';
let redis: RedisServer | undefined;
const messages: string[] = [];
const log = (message: string) => messages.push(message);

/** The sweep: tiny (CIFAR-100) and two zero-shot presets sharing their CIFAR-10 teacher and its fine-tune; 3 epochs. */
const SWEEP = [
  '--presets',
  'tiny,zero-shot-9,zero-shot-9-7',
  '--teacher-model',
  SMOKE_MODEL,
  '--student-model',
  SMOKE_MODEL,
  '--epochs',
  '3',
  '--batch-size',
  '8',
  '--limit-train',
  '32',
  '--limit-test',
  '8',
  '--allow-collapse',
];
const EPOCHS = 3;
const RUNS = 7;
/**
 * A killed worker's job goes to the other within two of these. Shorter would hand over the jobs of live workers
 * too when a busy machine leaves a process unscheduled for seconds (the lock is renewed between steps).
 */
const STALL_SECONDS = 10;

function machine(outDir: string): string[] {
  return ['--data-dir', dataDir, '--out-dir', outDir, '--backend', 'cpu', '--quiet'];
}

interface QueueLogEntry {
  event: 'start' | 'epoch' | 'finished' | 'stopped' | 'error';
  worker: string;
  pid?: number;
  epoch?: number;
  epochsCompleted?: number;
  at: string;
}

function queueLog(runDirectory: string): QueueLogEntry[] {
  const path = join(runDirectory, QUEUE_LOG);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as QueueLogEntry);
}

function runRecord(
  runDirectory: string,
): { status: string; epochsCompleted: number; resumedFromEpochs: number[] } | undefined {
  const path = join(runDirectory, 'run.json');
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined; // caught between two writes of another process: look again
  }
}

/** The epoch records of metrics.jsonl without their wall-clock and process-memory fields. */
function epochMetrics(runDirectory: string): unknown[] {
  const lines = readFileSync(join(runDirectory, 'metrics.jsonl'), 'utf8').trim().split('\n');
  return lines.map((line) =>
    JSON.parse(line, (key, value) => (['seconds', 'imagesPerSecond', 'rssBytes'].includes(key) ? undefined : value)),
  );
}

function startWorkerProcess(
  outDir: string,
  url: string,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [
      tsxCli,
      '--conditions=@kd/source',
      join(here, 'smoke-cli.ts'),
      'worker',
      '--queue',
      url,
      ...machine(outDir),
      '--stall-seconds',
      String(STALL_SECONDS),
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor<T>(
  what: string,
  seconds: number,
  probe: () => Promise<T | undefined> | T | undefined,
  detail: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}\n${detail()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs an in-process worker until `until` holds, then stops it as Ctrl-C would. */
async function withWorker(url: string, outDir: string, until: () => Promise<boolean>): Promise<void> {
  const controller = new AbortController();
  const running = runCommandLine(
    ['worker', '--queue', url, ...machine(outDir), '--stall-seconds', String(STALL_SECONDS)],
    { log, signal: controller.signal },
  );
  try {
    await waitFor(
      'the in-process worker',
      120,
      async () => ((await until()) ? true : undefined),
      () => messages.slice(-20).join('\n'),
    );
  } finally {
    controller.abort();
    await running;
  }
}

beforeAll(async () => {
  registerSmokeModel();
  root = mkdtempSync(join(tmpdir(), 'kd-cifar100-queue-'));
  dataDir = join(root, 'data');
  writeTinyDatasets(dataDir, { train: 48, test: 8 });
  if (hasRedis) redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

describeWithBackends('kd-cifar100 sweeps on a queue', () => {
  it('a job payload is checked with the CLI checks; machine flags, other flags and a changed config are refused', () => {
    const [teacher] = sweepRuns(parseRunCommand(['sweep', ...SWEEP]).config);
    expect(teacher!.name).toBe(`teacher-cifar100-${SMOKE_MODEL}`);
    expect(teacher!.payload.argv).toEqual([
      'train-teacher',
      '--preset',
      'tiny',
      '--teacher-model',
      SMOKE_MODEL,
      '--student-model',
      SMOKE_MODEL,
      '--epochs',
      '3',
      '--batch-size',
      '8',
      '--limit-train',
      '32',
      '--limit-test',
      '8',
    ]);
    const valid = validateRunPayload(teacher!.payload, ['--out-dir', '/srv/runs', '--backend', 'cpu']);
    expect(valid.name).toBe(`teacher-cifar100-${SMOKE_MODEL}`);
    expect(valid.payload.config).toMatchObject({
      outDir: '/srv/runs',
      backend: 'cpu',
      epochs: 3,
      teacher: SMOKE_MODEL,
    });
    const { argv, config } = teacher!.payload;
    expect(() => validateRunPayload({ argv: [...argv, '--out-dir', '/etc'], config })).toThrow(
      /^argv: --out-dir is not accepted from a job/,
    );
    expect(() => validateRunPayload({ argv: [...argv, '--run-name', 'x'], config })).toThrow(
      /^argv: --run-name is not accepted from a job/,
    );
    expect(() =>
      validateRunPayload({ argv: ['train-teacher', '--preset', 'tiny', '--epochs', 'NaN'], config }),
    ).toThrow("--epochs must be a decimal number, got 'NaN'");
    expect(() => validateRunPayload({ argv: ['sweep', '--presets', 'tiny'], config })).toThrow(
      /^argv must start with one of train-teacher, finetune-mcmi/,
    );
    expect(() => validateRunPayload({ argv, config: { ...config, epochs: 240 } })).toThrow(
      /^config\.epochs is 240, but train-teacher .* resolves to 3 here/,
    );
    expect(() => validateRunPayload({ argv, config, confg: 'x' })).toThrow(
      "validateRunPayload: unknown option 'confg' in the job payload, did you mean 'config'? (known options: argv, config)",
    );
    expect(() => validateRunPayload('train-teacher')).toThrow(
      "validateRunPayload: the job payload must be an object, got 'train-teacher' (a string)",
    );
    expect(resolvedRecipe(valid.payload.config)).toEqual(config);
  });

  it.skipIf(!hasRedis)(
    'two workers, one SIGKILLed mid-run: every run finishes once, resumed from its checkpoint, with the metrics of a local sweep',
    async () => {
      const url = redis!.url(0);
      const address = parseQueueUrl(url);
      const localOut = join(root, 'local');
      const queueOut = join(root, 'queue');
      const timings: string[] = [];
      let clock = Date.now();
      const lap = (what: string) => {
        timings.push(`${what} ${((Date.now() - clock) / 1000).toFixed(1)} s`);
        clock = Date.now();
      };

      const steps = (await runCommandLine(['sweep', ...SWEEP, ...machine(localOut)], { log })) as SweepStep[];
      expect(steps.filter((step) => step.outcome?.skipped === false)).toHaveLength(RUNS);
      lap('local sequential sweep');

      const first = (await runCommandLine(['sweep', '--queue', url, ...SWEEP], { log })) as EnqueueOutcome;
      expect(first.added).toHaveLength(RUNS);
      const second = (await runCommandLine(['sweep', '--queue', url, ...SWEEP], { log })) as EnqueueOutcome;
      expect(second).toEqual({ added: [], existing: first.added });
      const queue = new Queue(QUEUE_NAME, { connection: { url } });
      expect(Object.values(await queue.getJobCounts()).reduce((sum, count) => sum + count, 0)).toBe(RUNS);
      await queue.close();

      const workers = [startWorkerProcess(queueOut, url), startWorkerProcess(queueOut, url)];
      const outputs = () => workers.map((worker, index) => `--- worker ${index}\n${worker.output()}`).join('\n');
      let status: SweepStatus | undefined;
      let victim: { run: string; pid: number; epochs: number } | undefined;
      try {
        // Kill the first worker seen with a run past its first checkpoint and not yet finished.
        victim = await waitFor(
          'a run in the middle of its epochs',
          240,
          () => {
            if (!existsSync(queueOut)) return undefined;
            for (const run of readdirSync(queueOut)) {
              const record = runRecord(join(queueOut, run));
              if (record?.status !== 'running' || record.epochsCompleted < 1 || record.epochsCompleted >= EPOCHS)
                continue;
              const start = queueLog(join(queueOut, run))
                .filter((entry) => entry.event === 'start')
                .at(-1);
              if (start?.pid === undefined) continue;
              process.kill(start.pid, 'SIGKILL');
              return { run, pid: start.pid, epochs: record.epochsCompleted };
            }
            return undefined;
          },
          outputs,
        );
        lap(`until the SIGKILL (${victim.run} after ${victim.epochs} epoch(s))`);
        status = await waitFor(
          'every run to finish',
          300,
          async () => {
            const current = await readSweepStatus({ address, queueName: QUEUE_NAME });
            if (current.summary.failed > 0)
              throw new Error(
                `a run failed: ${JSON.stringify(current.runs.filter((run) => run.state === 'failed'))}\n${outputs()}`,
              );
            return current.done ? current : undefined;
          },
          outputs,
        );
        lap('queued sweep after the SIGKILL');
      } finally {
        for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGINT');
      }
      // Ctrl-C on an idle worker: it stops and exits cleanly.
      const codes = await Promise.all(workers.map((worker) => worker.exited));
      expect(
        codes.filter((code) => code === 0),
        outputs(),
      ).toHaveLength(1);
      lap('workers stopped');

      expect(status.summary).toMatchObject({ total: RUNS, finished: RUNS });
      expect(status.runs.map((run) => run.name).sort()).toEqual([...first.added].sort());
      for (const run of status.runs) expect(run).toMatchObject({ epoch: EPOCHS, epochs: EPOCHS, skipped: false });
      const checkRun = (name: string): void => {
        const directory = join(queueOut, name);
        expect(runRecord(directory)?.status, name).toBe('finished');
        // The same numbers, epoch by epoch, as the local in-order sweep with the same seeds.
        expect(epochMetrics(directory), name).toEqual(epochMetrics(join(localOut, name)));
        // One worker at a time: after a start, only that worker's events until the next start; each epoch once.
        const entries = queueLog(directory);
        let owner = '';
        for (const entry of entries) {
          if (entry.event === 'start') owner = entry.worker;
          expect(entry.worker, `${name}: ${JSON.stringify(entry)}`).toBe(owner);
        }
        const epochsBy = (worker: string) =>
          entries.filter((entry) => entry.event === 'epoch' && entry.worker === worker).map((entry) => entry.epoch);
        expect(entries.at(-1)?.event, name).toBe('finished');
        const starts = entries.filter((entry) => entry.event === 'start');
        if (name === victim.run) {
          expect(starts).toHaveLength(2);
          // The killed worker logged its epochs up to its last checkpoint k (or k - 1 when the kill came between the
          // checkpoint and the log line); the other worker trained exactly k + 1 … 3.
          const resumedAt = starts[1]?.epochsCompleted ?? Number.NaN;
          expect(epochsBy(starts[1]?.worker ?? '')).toEqual(
            Array.from({ length: EPOCHS - resumedAt }, (_, index) => resumedAt + 1 + index),
          );
          const before = epochsBy(starts[0]!.worker);
          expect([resumedAt - 1, resumedAt]).toContain(before.length);
          expect(before).toEqual(Array.from({ length: before.length }, (_, index) => index + 1));
          // Killed after `victim.epochs` checkpoints: the other worker continued from there.
          expect(starts[0]!.pid).toBe(victim.pid);
          expect(starts[1]!.pid).not.toBe(victim.pid);
          expect(starts[1]!.worker).not.toBe(starts[0]!.worker);
          expect(starts[1]!.epochsCompleted).toBeGreaterThanOrEqual(victim.epochs);
          expect(runRecord(directory)?.resumedFromEpochs).toEqual([starts[1]!.epochsCompleted]);
          expect(Date.parse(starts[1]!.at)).toBeGreaterThanOrEqual(
            Math.max(...entries.slice(0, entries.indexOf(starts[1]!)).map((entry) => Date.parse(entry.at))),
          );
        } else {
          expect(epochsBy(starts[0]?.worker ?? ''), name).toEqual([1, 2, 3]);
          expect(starts, name).toHaveLength(1);
          expect(runRecord(directory)?.resumedFromEpochs, name).toEqual([]);
        }
      };
      for (const name of first.added) {
        try {
          checkRun(name);
        } catch (error) {
          throw new Error(
            `${(error as Error).message}\nqueue log of ${name}: ${JSON.stringify(queueLog(join(queueOut, name)))}\n${outputs()}`,
          );
        }
      }

      const printed: string[] = [];
      const shown = (await runCommandLine(['sweep-status', '--queue', url], {
        log,
        print: (text) => printed.push(text),
      })) as SweepStatus;
      expect(shown.done).toBe(true);
      const lines = printed.join('\n').split('\n');
      expect(lines).toHaveLength(RUNS + 1);
      expect(lines.at(-1)).toBe(
        `${RUNS} runs: ${RUNS} finished, 0 running, 0 waiting, 0 failed; the sweep is complete`,
      );
      for (const name of first.added)
        expect(
          lines.some(
            (line) =>
              line.startsWith(`${name} `) && line.includes(` finished `) && line.includes(`epoch ${EPOCHS}/${EPOCHS}`),
          ),
          name,
        ).toBe(true);
      const json: string[] = [];
      await runCommandLine(['sweep-status', '--queue', url, '--json'], { log, print: (text) => json.push(text) });
      expect(JSON.parse(json.join('\n'))).toMatchObject({ done: true, summary: { total: RUNS, finished: RUNS } });

      // Redis restarts empty: the status is not done, re-enqueueing adds the sweep again, and the workers find
      // every run finished in the run directories: nothing is trained again.
      await redis!.restart();
      expect(
        ((await runCommandLine(['sweep-status', '--queue', url], { log, print: () => undefined })) as SweepStatus).done,
      ).toBe(false);
      expect(
        ((await runCommandLine(['sweep', '--queue', url, ...SWEEP], { log })) as EnqueueOutcome).added,
      ).toHaveLength(RUNS);
      let again: SweepStatus | undefined;
      await withWorker(
        url,
        queueOut,
        async () => (again = await readSweepStatus({ address, queueName: QUEUE_NAME })).done,
      );
      expect(again!.runs.every((run) => run.skipped === true && run.epoch === EPOCHS)).toBe(true);
      for (const name of first.added) expect(epochMetrics(join(queueOut, name)), name).toHaveLength(EPOCHS);
      lap('after the Redis restart');
      console.info(`kd-cifar100 queue test timings: ${timings.join(', ')}`);
    },
    900_000,
  );

  it.skipIf(!hasRedis)(
    'a poisoned job is failed at once and never runs',
    async () => {
      const url = redis!.url(3);
      const address = parseQueueUrl(url);
      const outDir = join(root, 'poisoned');
      const [teacher] = sweepRuns(parseRunCommand(['sweep', ...SWEEP]).config);
      const { argv, config } = teacher!.payload;
      const queue = new Queue(QUEUE_NAME, { connection: { url } });
      const poisoned = {
        'out-dir': { argv: [...argv, '--out-dir', '/etc'], config },
        'changed-config': { argv, config: { ...config, epochs: 100_000 } },
        'not-a-number': { argv: [...argv, '--lr', 'NaN'], config },
      };
      for (const [jobId, payload] of Object.entries(poisoned))
        await queue.add(jobId, { payload, after: [] }, { jobId, attempts: 3 });
      await queue.add('wrong-name', { payload: teacher!.payload, after: [] }, { jobId: 'wrong-name', attempts: 3 });
      await queue.close();
      let status: SweepStatus | undefined;
      await withWorker(
        url,
        outDir,
        async () => (status = await readSweepStatus({ address, queueName: QUEUE_NAME })).summary.failed === 4,
      );
      const reasons = Object.fromEntries(status!.runs.map((run) => [run.name, run.error]));
      expect(reasons['out-dir']).toMatch(/^invalid job payload: argv: --out-dir is not accepted from a job/);
      expect(reasons['changed-config']).toMatch(
        /^invalid job payload: config\.epochs is 100000, but train-teacher .* resolves to 3 here/,
      );
      expect(reasons['not-a-number']).toBe("invalid job payload: --lr must be a decimal number, got 'NaN'");
      expect(reasons['wrong-name']).toBe(
        `invalid job payload: the configuration is run 'teacher-cifar100-${SMOKE_MODEL}', the job id is 'wrong-name'`,
      );
      expect(status!.runs.every((run) => run.attempts === 1)).toBe(true);
      expect(existsSync(outDir)).toBe(false);
    },
    300_000,
  );
});
