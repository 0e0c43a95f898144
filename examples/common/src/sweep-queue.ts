/**
 * Sweeps across machines on BullMQ (Redis): each run of a sweep is one job whose id is the run's name, so
 * enqueueing the same sweep twice adds nothing, and a run waits for the runs it depends on (a teacher, then its
 * MCMI fine-tune, then the students that learn from it).
 *
 * BullMQ gives a job at most one parent, while a teacher is usually needed by several runs. So each run is the
 * child of its first dependant in the sweep (BullMQ starts that dependant only after the child completed, and
 * fails it when the child failed), and every further dependant lists the run in `after`: a worker that takes
 * such a job while a run of `after` has not completed puts it back as delayed (not counted as an attempt), and
 * fails it for good when that run failed. Jobs carry JSON configurations only; the worker's `validate` decides
 * what a valid one is and a job that fails it is failed at once, never run.
 *
 * The run directories (on storage every worker reaches) are the truth: a worker that takes the job of a
 * finished run completes it without training, so re-enqueueing after Redis lost its data loses nothing.
 */
import { hostname } from 'node:os';
import { assertKnownOptions } from '@kd/internal';
import {
  DelayedError,
  FlowProducer,
  Queue,
  UnrecoverableError,
  Worker,
  type FlowJob,
  type Job,
  type JobsOptions,
} from 'bullmq';

/** A run of a sweep: its name (the job id), its configuration, and the names of the runs it needs first. */
export interface SweepRun<Payload> {
  name: string;
  payload: Payload;
  dependsOn: readonly string[];
}

/** What a job holds: the run's configuration and the dependencies that are not its BullMQ children. */
export interface SweepJobData<Payload> {
  payload: Payload;
  after: string[];
}

/** A Redis address from `--queue`: the URL to connect with and a form safe to print (no password). */
export interface QueueAddress {
  url: string;
  display: string;
}

/**
 * Parses a `--queue` value: `redis://[[user]:password@]host[:port][/db]`, or `rediss://…` for TLS.
 *
 * @example
 * parseQueueUrl('redis://10.0.0.5:6379/2').display; // 'redis://10.0.0.5:6379/2'
 */
export function parseQueueUrl(text: string, flag = '--queue'): QueueAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${flag} must be a redis://host:port/db or rediss:// URL, got '${text}'`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(
      `${flag} must be a redis:// or rediss:// (TLS) URL, got protocol '${url.protocol}' in '${redact(url)}'`,
    );
  }
  if (url.hostname === '') throw new Error(`${flag} names no host: '${redact(url)}'`);
  const database = url.pathname.replace(/^\//, '');
  if (database !== '' && !/^\d+$/.test(database))
    throw new Error(`${flag}: the database must be a number (redis://host:port/0), got '/${database}'`);
  if (url.search !== '' || url.hash !== '') throw new Error(`${flag} takes no query or fragment, got '${redact(url)}'`);
  return { url: url.href, display: redact(url) };
}

function redact(url: URL): string {
  if (url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}

/**
 * Connection options: commands wait while Redis restarts (a worker must outlive a Redis restart), retrying every
 * second at most; `giveUpAfter` attempts (for one-shot commands such as enqueueing or the status) end in an error.
 */
function connection(
  address: QueueAddress,
  giveUpAfter?: number,
): { url: string; maxRetriesPerRequest: number | null; retryStrategy: (times: number) => number | null } {
  return {
    url: address.url,
    maxRetriesPerRequest: giveUpAfter === undefined ? null : giveUpAfter,
    retryStrategy: (times) => (giveUpAfter !== undefined && times > giveUpAfter ? null : Math.min(200 * times, 1000)),
  };
}

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._/=-]*$/;

/** Checks the runs form a graph BullMQ can hold: unique names usable as job ids, known dependencies, no cycle. */
function checkRuns(fn: string, runs: ReadonlyArray<SweepRun<unknown>>): Map<string, SweepRun<unknown>> {
  const byName = new Map<string, SweepRun<unknown>>();
  for (const run of runs) {
    if (!JOB_ID.test(run.name))
      throw new Error(`${fn}: run name '${run.name}' must use letters, digits and . _ / = - (it is the job id)`);
    if (byName.has(run.name)) throw new Error(`${fn}: run '${run.name}' is listed twice`);
    byName.set(run.name, run);
  }
  for (const run of runs) {
    for (const dependency of run.dependsOn) {
      if (!byName.has(dependency))
        throw new Error(`${fn}: run '${run.name}' depends on '${dependency}', which is not in the sweep`);
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting')
      throw new Error(`${fn}: the dependencies form a cycle: ${[...path, name].join(' → ')}`);
    state.set(name, 'visiting');
    for (const dependency of byName.get(name)!.dependsOn) visit(dependency, [...path, name]);
    state.set(name, 'done');
  };
  for (const run of runs) visit(run.name, []);
  return byName;
}

export interface SweepFlowOptions {
  queueName: string;
  /** Tries per run before it is failed (a failure of the code or the configuration repeats; a lost worker does not count). */
  attempts: number;
  /** Wait before the first retry, doubled each time. */
  backoffSeconds: number;
}

/**
 * The BullMQ flows of a sweep: one tree per run that no run depends on, each run the child of its first
 * dependant (in the order of `runs`), the other dependencies in `after`. Pure: {@link enqueueSweep} adds them.
 */
export function sweepFlows<Payload>(runs: ReadonlyArray<SweepRun<Payload>>, options: SweepFlowOptions): FlowJob[] {
  const byName = checkRuns('sweepFlows', runs);
  const parentOf = new Map<string, string>();
  const after = new Map<string, string[]>();
  for (const run of runs) {
    after.set(run.name, []);
    for (const dependency of new Set(run.dependsOn)) {
      if (parentOf.has(dependency)) after.get(run.name)!.push(dependency);
      else parentOf.set(dependency, run.name);
    }
  }
  const opts: JobsOptions = {
    attempts: options.attempts,
    backoff: { type: 'exponential', delay: Math.round(options.backoffSeconds * 1000) },
    failParentOnFailure: true,
    removeOnComplete: false,
    removeOnFail: false,
  };
  const node = (name: string): FlowJob => {
    const children = runs.filter((run) => parentOf.get(run.name) === name).map((run) => node(run.name));
    const data: SweepJobData<Payload> = { payload: byName.get(name)!.payload as Payload, after: after.get(name)! };
    return {
      name,
      queueName: options.queueName,
      data,
      opts: { ...opts, jobId: name },
      ...(children.length > 0 ? { children } : {}),
    };
  };
  return runs.filter((run) => !parentOf.has(run.name)).map((run) => node(run.name));
}

/** Adds a sweep to the queue; runs already in it (by name) are left as they are. Returns which runs were new. */
export async function enqueueSweep<Payload>({
  address,
  runs,
  ...options
}: SweepFlowOptions & {
  address: QueueAddress;
  runs: ReadonlyArray<SweepRun<Payload>>;
}): Promise<{ added: string[]; existing: string[] }> {
  const flows = sweepFlows(runs, options);
  const queue = new Queue(options.queueName, { connection: connection(address, 5) });
  const producer = new FlowProducer({ connection: connection(address, 5) });
  try {
    const existing = new Set<string>();
    for (const run of runs) if ((await queue.getJob(run.name)) !== undefined) existing.add(run.name);
    await producer.addBulk(flows);
    return { added: runs.map((run) => run.name).filter((name) => !existing.has(name)), existing: [...existing] };
  } catch (error) {
    throw new Error(`enqueueSweep: could not add the sweep to ${address.display}: ${(error as Error).message}`);
  } finally {
    await producer.close();
    await queue.close();
  }
}

/** What a worker reports about the run it trains (BullMQ job progress), and returns when it is done. */
export interface RunProgress {
  epoch: number;
  epochs: number;
  bestTop1?: number;
  lastTop1?: number;
}

export interface RunResult extends RunProgress {
  /** true when the run had finished before this job and nothing was trained. */
  skipped: boolean;
}

/** What `run` gets for one job. */
export interface RunContext {
  /** This worker's name (host:pid[/n]), as sweep-status shows it. */
  worker: string;
  /** Aborted on Ctrl-C of the worker, or when this worker lost the job (its lock expired). */
  signal: AbortSignal;
  reportProgress(progress: RunProgress): void;
  log(message: string): void;
}

export interface SweepWorkerOptions<Payload> {
  address: QueueAddress;
  queueName: string;
  /** Jobs this process trains at once. */
  concurrency: number;
  /**
   * Seconds without a lock renewal after which a job counts as stalled and another worker takes it. It must
   * exceed the longest stretch a training step blocks this process (the lock is renewed between steps).
   */
  stallSeconds: number;
  /** The job's payload checked with the CLI's checks; returns the run's name (must equal the job id) and config. */
  validate(payload: unknown): { name: string; payload: Payload };
  run(payload: Payload, context: RunContext): Promise<RunResult>;
  log?: (message: string) => void;
  /** Seconds between looks at a dependency of `after` that has not completed. Default 5. */
  waitSeconds?: number;
  /** Name in sweep-status (default host:pid). */
  name?: string;
}

export interface SweepWorker {
  name: string;
  /** Stops taking jobs; a running job stops at its next step (its last checkpoint stays) and goes back to the queue. */
  stop(): Promise<void>;
  /** Resolves once the worker connected and listens for jobs. */
  ready: Promise<void>;
}

/** Rejects anything but `{ payload, after: string[] }`. */
function readJobData(data: unknown): SweepJobData<unknown> {
  if (data === undefined) throw new Error('the job has no data');
  assertKnownOptions('sweep job', data, ['payload', 'after'], 'the job data');
  const { payload, after } = data as { payload?: unknown; after?: unknown };
  if (!Array.isArray(after) || !after.every((name) => typeof name === 'string' && JOB_ID.test(name))) {
    throw new Error(`job data: after must be a list of run names, got ${JSON.stringify(after)}`);
  }
  return { payload, after: after as string[] };
}

/**
 * Starts a worker: it takes jobs until {@link SweepWorker.stop}. A job whose payload fails `validate` is failed
 * without retry; an error of `run` is retried with the job's backoff until its attempts are used up.
 */
export function startSweepWorker<Payload>(options: SweepWorkerOptions<Payload>): SweepWorker {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const shutdown = new AbortController();
  const queue = new Queue(options.queueName, { connection: connection(options.address) });
  const waitMs = Math.round((options.waitSeconds ?? 5) * 1000);

  const processor = async (job: Job, token?: string, lockSignal?: AbortSignal): Promise<RunResult> => {
    let validated: { name: string; payload: Payload };
    let data: SweepJobData<unknown>;
    try {
      data = readJobData(job.data);
      validated = options.validate(data.payload);
      if (validated.name !== job.id)
        throw new Error(`the configuration is run '${validated.name}', the job id is '${job.id}'`);
    } catch (error) {
      log(`${name}: job ${job.id}: rejected: ${(error as Error).message}`);
      throw new UnrecoverableError(`invalid job payload: ${(error as Error).message}`);
    }
    for (const dependency of data.after) {
      const dependencyJob = await queue.getJob(dependency);
      const state = dependencyJob === undefined ? 'missing' : await dependencyJob.getState();
      if (state === 'completed') continue;
      if (state === 'failed')
        throw new UnrecoverableError(`dependency ${dependency} failed: ${dependencyJob?.failedReason ?? ''}`);
      log(
        `${name}: ${job.id} waits for ${dependency} (${state === 'missing' ? 'not in the queue: enqueue the sweep again' : state})`,
      );
      await job.moveToDelayed(Date.now() + waitMs, token);
      throw new DelayedError();
    }
    const signal = lockSignal === undefined ? shutdown.signal : AbortSignal.any([shutdown.signal, lockSignal]);
    try {
      return await options.run(validated.payload, {
        worker: name,
        signal,
        reportProgress: (progress) => void job.updateProgress({ ...progress }).catch(() => undefined),
        log,
      });
    } catch (error) {
      if (shutdown.signal.aborted) {
        // Ctrl-C: the run stopped at a step boundary with its checkpoint; hand the job back without using an attempt.
        log(`${name}: ${job.id} stopped; back in the queue, it continues from its checkpoint`);
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      throw error;
    }
  };

  const worker = new Worker(options.queueName, processor, {
    connection: connection(options.address),
    name,
    concurrency: options.concurrency,
    lockDuration: Math.round(options.stallSeconds * 1000),
    stalledInterval: Math.round(options.stallSeconds * 1000),
    // A job whose worker died is handed over this many times before it counts as failed.
    maxStalledCount: 5,
    autorun: false,
  });
  worker.on('lockRenewalFailed', (jobIds: string[]) => {
    // Another worker may take these jobs now: stop training them here so a run is never trained twice at once.
    for (const jobId of jobIds) {
      log(`${name}: lost the lock of ${jobId}; stopping it here`);
      worker.cancelJob(jobId, 'lock lost');
    }
  });
  worker.on('failed', (job, error) => {
    if (job !== undefined && !(error instanceof DelayedError)) {
      log(`${name}: ${job.id} failed (attempt ${job.attemptsMade} of ${job.opts.attempts ?? 1}): ${error.message}`);
    }
  });
  worker.on('error', (error) => log(`${name}: queue error: ${error.message}`));
  void worker.run().catch((error: unknown) => log(`${name}: worker stopped: ${(error as Error).message}`));
  return {
    name,
    ready: worker.waitUntilReady().then(() => undefined),
    stop: async () => {
      shutdown.abort();
      await worker.close();
      await queue.close();
    },
  };
}

export type RunState = 'finished' | 'failed' | 'running' | 'waiting' | 'unknown';

/** One run as the queue sees it. */
export interface RunStatus extends Partial<RunProgress> {
  name: string;
  state: RunState;
  /** BullMQ's state: completed, failed, active, waiting, waiting-children, delayed, prioritized, paused. */
  queueState: string;
  worker?: string;
  attempts: number;
  error?: string;
  skipped?: boolean;
}

export interface SweepStatus {
  runs: RunStatus[];
  summary: Record<RunState, number> & { total: number };
  /** true when every run finished. */
  done: boolean;
}

const STATES: Record<string, RunState> = {
  completed: 'finished',
  failed: 'failed',
  active: 'running',
  waiting: 'waiting',
  'waiting-children': 'waiting',
  delayed: 'waiting',
  prioritized: 'waiting',
  paused: 'waiting',
};

function numberField(value: unknown, key: string): number | undefined {
  const field = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return typeof field === 'number' && Number.isFinite(field) ? field : undefined;
}

/** Every run in the queue, by name, with its state, worker, progress and error. */
/** One pass over the queue's states, read one after another. */
async function readRuns(queue: Queue): Promise<RunStatus[]> {
  const runs: RunStatus[] = [];
  for (const queueState of Object.keys(STATES)) {
    for (const job of await queue.getJobs([queueState as 'completed'])) {
      if (job?.id === undefined) continue;
      const figures = queueState === 'completed' ? job.returnvalue : job.progress;
      const status: RunStatus = { name: job.id, state: STATES[queueState]!, queueState, attempts: job.attemptsMade };
      if (job.processedBy !== undefined && job.processedBy !== '') status.worker = job.processedBy;
      for (const key of ['epoch', 'epochs', 'bestTop1', 'lastTop1'] as const) {
        const value = numberField(figures, key);
        if (value !== undefined) status[key] = value;
      }
      if (queueState === 'completed' && typeof job.returnvalue === 'object' && job.returnvalue !== null) {
        status.skipped = (job.returnvalue as { skipped?: unknown }).skipped === true;
      }
      if (queueState === 'failed') status.error = job.failedReason;
      runs.push(status);
    }
  }
  return runs;
}

const runKey = (runs: readonly RunStatus[]) =>
  runs
    .map((run) => `${run.name}:${run.queueState}`)
    .sort()
    .join('\n');

/** Every run in the queue, by name, with its state, worker, progress and error. */
export async function readSweepStatus({
  address,
  queueName,
}: {
  address: QueueAddress;
  queueName: string;
}): Promise<SweepStatus> {
  const queue = new Queue(queueName, { connection: connection(address, 5) });
  try {
    // The states are read one after another, so a job that moves between two of them during a pass is in
    // neither list (and a sweep could look done with a run missing). Two equal passes in a row make that unlikely.
    let runs = await readRuns(queue);
    for (let pass = 0; pass < 10; pass++) {
      const again = await readRuns(queue);
      const stable = runKey(again) === runKey(runs);
      runs = again;
      if (stable) break;
    }
    runs.sort((a, b) => a.name.localeCompare(b.name));
    const summary = { total: runs.length, finished: 0, failed: 0, running: 0, waiting: 0, unknown: 0 };
    for (const run of runs) summary[run.state]++;
    return { runs, summary, done: runs.length > 0 && summary.finished === runs.length };
  } catch (error) {
    throw new Error(`readSweepStatus: could not read ${address.display}: ${(error as Error).message}`);
  } finally {
    await queue.close();
  }
}

function percent(value: number | undefined): string {
  return value === undefined ? '—' : `${(100 * value).toFixed(2)}%`;
}

/** sweep-status's text: one line per run (state, worker, epoch, best / last top-1, error) and a summary. */
export function formatSweepStatus(status: SweepStatus): string {
  const width = Math.max(4, ...status.runs.map((run) => run.name.length));
  const lines = status.runs.map((run) => {
    const epoch = run.epoch === undefined ? '—' : `${run.epoch}/${run.epochs ?? '?'}`;
    const state =
      run.state === 'finished' && run.skipped
        ? 'finished (was done)'
        : run.state === 'waiting' && run.queueState !== 'waiting'
          ? `waiting (${run.queueState})`
          : run.state;
    const cells = [
      run.name.padEnd(width),
      state.padEnd(26),
      (run.worker ?? '—').padEnd(24),
      `epoch ${epoch}`.padEnd(14),
      `best ${percent(run.bestTop1)}`.padEnd(13),
      `last ${percent(run.lastTop1)}`,
    ];
    if (run.error !== undefined) cells.push(` error after ${run.attempts} attempt(s): ${run.error}`);
    return cells.join(' ');
  });
  const { summary } = status;
  lines.push(
    `${summary.total} runs: ${summary.finished} finished, ${summary.running} running, ${summary.waiting} waiting, ${summary.failed} failed` +
      (status.done ? '; the sweep is complete' : ''),
  );
  return lines.join('\n');
}
