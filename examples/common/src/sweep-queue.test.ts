/**
 * The queue mechanics without training: a sweep's flow shape, dependencies across BullMQ's one-parent limit,
 * enqueueing twice, poisoned payloads, bounded retries that fail the dependants. Redis is a throw-away
 * redis-server on 127.0.0.1 (these cases are skipped, saying so, when redis-server is not installed).
 */
import { Queue } from 'bullmq';
import { describeWithBackends } from '@kd/test-utils';
import { findRedisServer, startRedisServer, type RedisServer } from '@kd/test-utils/redis-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  enqueueSweep,
  formatSweepStatus,
  parseQueueUrl,
  readSweepStatus,
  startSweepWorker,
  sweepFlows,
  type RunContext,
  type RunResult,
  type SweepRun,
  type SweepStatus,
} from './sweep-queue';

const hasRedis = findRedisServer() !== undefined;
if (!hasRedis)
  console.warn(
    'sweep-queue tests: redis-server is not installed (apt-get install redis-server); the Redis cases are skipped',
  );

let redis: RedisServer | undefined;
beforeAll(async () => {
  if (hasRedis) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

interface Payload {
  run: string;
  /** Failures before the run succeeds (a deterministic failure when larger than the attempts). */
  failures?: number;
}

/** A teacher T, its fine-tune M, two students of M and one of T: M and T have two dependants each. */
const SWEEP: SweepRun<Payload>[] = [
  { name: 'teacher', payload: { run: 'teacher' }, dependsOn: [] },
  { name: 'mcmi', payload: { run: 'mcmi' }, dependsOn: ['teacher'] },
  { name: 'student-a', payload: { run: 'student-a' }, dependsOn: ['mcmi'] },
  { name: 'student-b', payload: { run: 'student-b' }, dependsOn: ['mcmi'] },
  { name: 'student-mll', payload: { run: 'student-mll' }, dependsOn: ['teacher'] },
];

function validate(payload: unknown): { name: string; payload: Payload } {
  if (typeof payload !== 'object' || payload === null) throw new Error('payload must be an object');
  const { run, failures, ...rest } = payload as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw new Error(`unknown key(s) ${Object.keys(rest).join(', ')}`);
  if (typeof run !== 'string') throw new Error('run must be a string');
  if (failures !== undefined && (typeof failures !== 'number' || !Number.isInteger(failures)))
    throw new Error('failures must be an integer');
  return { name: run, payload: { run, ...(failures === undefined ? {} : { failures }) } };
}

async function waitFor(fn: () => Promise<boolean>, seconds: number, what: string): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Two workers in this process that record when each run started and ended. */
function startWorkers(url: string, queueName: string, events: string[], failuresSoFar = new Map<string, number>()) {
  const run = async (payload: Payload, context: RunContext): Promise<RunResult> => {
    events.push(`start ${payload.run} ${context.worker}`);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const failed = failuresSoFar.get(payload.run) ?? 0;
    if (failed < (payload.failures ?? 0)) {
      failuresSoFar.set(payload.run, failed + 1);
      events.push(`fail ${payload.run}`);
      throw new Error(`${payload.run}: configuration error ${failed + 1}`);
    }
    context.reportProgress({ epoch: 1, epochs: 1, bestTop1: 0.5, lastTop1: 0.25 });
    events.push(`end ${payload.run}`);
    return { epoch: 1, epochs: 1, bestTop1: 0.5, lastTop1: 0.25, skipped: false };
  };
  const address = parseQueueUrl(url);
  return [0, 1].map((index) =>
    startSweepWorker({
      address,
      queueName,
      concurrency: 1,
      stallSeconds: 5,
      validate,
      run,
      waitSeconds: 0.2,
      name: `w${index}`,
      log: () => undefined,
    }),
  );
}

describeWithBackends('sweep queue', () => {
  it('parseQueueUrl accepts redis:// and rediss:// with a password, hides the password, rejects the rest naming the flag', () => {
    expect(parseQueueUrl('redis://127.0.0.1:6379/2')).toEqual({
      url: 'redis://127.0.0.1:6379/2',
      display: 'redis://127.0.0.1:6379/2',
    });
    expect(parseQueueUrl('rediss://:s3cret@queue.lab:6380/0').display).toBe('rediss://:***@queue.lab:6380/0');
    expect(parseQueueUrl('rediss://:s3cret@queue.lab:6380/0').url).toBe('rediss://:s3cret@queue.lab:6380/0');
    expect(() => parseQueueUrl('localhost:6379')).toThrow(
      /--queue must be a redis:\/\/ or rediss:\/\/ \(TLS\) URL, got protocol 'localhost:'/,
    );
    expect(() => parseQueueUrl('http://x:1/0')).toThrow(/got protocol 'http:'/);
    expect(() => parseQueueUrl('redis://x:1/abc')).toThrow(
      "--queue: the database must be a number (redis://host:port/0), got '/abc'",
    );
    expect(() => parseQueueUrl('not a url')).toThrow(
      "--queue must be a redis://host:port/db or rediss:// URL, got 'not a url'",
    );
  });

  it('sweepFlows makes each run the child of its first dependant and lists the other dependencies in after', () => {
    const flows = sweepFlows(SWEEP, { queueName: 'q', attempts: 3, backoffSeconds: 2 });
    // Roots: the runs no run depends on. teacher → child of mcmi (its first dependant); mcmi → child of student-a.
    expect(flows.map((flow) => flow.name)).toEqual(['student-a', 'student-b', 'student-mll']);
    const [a, b, mll] = flows as [(typeof flows)[0], (typeof flows)[0], (typeof flows)[0]];
    expect(a.children?.map((child) => child.name)).toEqual(['mcmi']);
    expect(a.children?.[0]?.children?.map((child) => child.name)).toEqual(['teacher']);
    expect(b.children).toBeUndefined();
    expect(b.data).toEqual({ payload: { run: 'student-b' }, after: ['mcmi'] });
    expect(mll.data).toEqual({ payload: { run: 'student-mll' }, after: ['teacher'] });
    expect(a.opts).toMatchObject({
      jobId: 'student-a',
      attempts: 3,
      backoff: { type: 'exponential', delay: 2000 },
      failParentOnFailure: true,
    });
    expect(() =>
      sweepFlows([{ name: 'x', payload: {}, dependsOn: ['y'] }], { queueName: 'q', attempts: 1, backoffSeconds: 1 }),
    ).toThrow("sweepFlows: run 'x' depends on 'y', which is not in the sweep");
    const cycle = [
      { name: 'x', payload: {}, dependsOn: ['y'] },
      { name: 'y', payload: {}, dependsOn: ['x'] },
    ];
    expect(() => sweepFlows(cycle, { queueName: 'q', attempts: 1, backoffSeconds: 1 })).toThrow(
      'sweepFlows: the dependencies form a cycle: x → y → x',
    );
    expect(() =>
      sweepFlows([{ name: 'a:b', payload: {}, dependsOn: [] }], { queueName: 'q', attempts: 1, backoffSeconds: 1 }),
    ).toThrow(/run name 'a:b' must use/);
  });

  it.skipIf(!hasRedis)(
    'runs every job after its dependencies, once; enqueueing twice adds no job; the status lists every run',
    async () => {
      const url = redis!.url(1);
      const address = parseQueueUrl(url);
      const first = await enqueueSweep({ address, queueName: 'deps', runs: SWEEP, attempts: 2, backoffSeconds: 0.1 });
      expect(first.added).toEqual(SWEEP.map((run) => run.name));
      const second = await enqueueSweep({ address, queueName: 'deps', runs: SWEEP, attempts: 2, backoffSeconds: 0.1 });
      expect(second).toEqual({ added: [], existing: SWEEP.map((run) => run.name) });
      const queue = new Queue('deps', { connection: { url } });
      const counts = await queue.getJobCounts();
      expect(Object.values(counts).reduce((sum, count) => sum + count, 0)).toBe(5);
      await queue.close();

      const events: string[] = [];
      const workers = startWorkers(url, 'deps', events);
      let status: SweepStatus | undefined;
      try {
        await waitFor(
          async () => (status = await readSweepStatus({ address, queueName: 'deps' })).done,
          60,
          'the sweep',
        );
      } finally {
        await Promise.all(workers.map((worker) => worker.stop()));
      }
      const starts = events.filter((event) => event.startsWith('start')).map((event) => event.split(' ')[1]);
      expect([...starts].sort()).toEqual(['mcmi', 'student-a', 'student-b', 'student-mll', 'teacher']);
      const endOf = (name: string) => events.indexOf(`end ${name}`);
      const startOf = (name: string) => events.findIndex((event) => event.startsWith(`start ${name} `));
      for (const run of SWEEP)
        for (const dependency of run.dependsOn)
          expect(endOf(dependency), `${dependency} before ${run.name}`).toBeLessThan(startOf(run.name));
      expect(status!.summary).toEqual({ total: 5, finished: 5, failed: 0, running: 0, waiting: 0, unknown: 0 });
      expect(status!.runs.find((run) => run.name === 'student-b')).toMatchObject({
        state: 'finished',
        epoch: 1,
        epochs: 1,
        bestTop1: 0.5,
        lastTop1: 0.25,
      });
      expect(['w0', 'w1']).toContain(status!.runs[0]!.worker);
      const text = formatSweepStatus(status!);
      expect(text.split('\n')).toHaveLength(6);
      expect(text).toMatch(/^mcmi +finished +w[01] +epoch 1\/1 +best 50\.00% +last 25\.00%$/m);
      expect(text.split('\n').at(-1)).toBe('5 runs: 5 finished, 0 running, 0 waiting, 0 failed; the sweep is complete');
    },
  );

  it.skipIf(!hasRedis)(
    'a worker stopped mid-run (Ctrl-C) hands its job back without using an attempt; another worker finishes it',
    async () => {
      const url = redis!.url(3);
      const address = parseQueueUrl(url);
      await enqueueSweep({
        address,
        queueName: 'stop',
        runs: [{ name: 'long', payload: { run: 'long' }, dependsOn: [] }],
        attempts: 1,
        backoffSeconds: 1,
      });
      const events: string[] = [];
      const run = async (_payload: Payload, context: RunContext): Promise<RunResult> => {
        events.push(`start ${context.worker}`);
        // Trains until stopped on the first worker; the second finishes at once.
        if (context.worker === 'first') {
          await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
          events.push('aborted first');
          throw new Error('training stopped between two steps');
        }
        return { epoch: 2, epochs: 2, skipped: false };
      };
      const options = {
        address,
        queueName: 'stop',
        concurrency: 1,
        stallSeconds: 5,
        validate,
        run,
        log: () => undefined,
      };
      const first = startSweepWorker({ ...options, name: 'first' });
      await waitFor(async () => events.length > 0, 30, 'the first worker to start the job');
      await first.stop();
      expect(events).toEqual(['start first', 'aborted first']);
      const queue = new Queue('stop', { connection: { url } });
      const job = await queue.getJob('long');
      expect(['delayed', 'waiting']).toContain(await job!.getState());
      expect(job!.attemptsMade).toBe(0);
      await queue.close();
      const second = startSweepWorker({ ...options, name: 'second' });
      let status: SweepStatus | undefined;
      try {
        await waitFor(
          async () => (status = await readSweepStatus({ address, queueName: 'stop' })).done,
          30,
          'the second worker',
        );
      } finally {
        await second.stop();
      }
      expect(events).toEqual(['start first', 'aborted first', 'start second']);
      expect(status!.runs[0]).toMatchObject({ name: 'long', state: 'finished', worker: 'second', epoch: 2 });
    },
  );

  it.skipIf(!hasRedis)(
    'a poisoned payload is failed at once, never run; a deterministic failure is retried, then fails its dependants',
    async () => {
      const url = redis!.url(2);
      const address = parseQueueUrl(url);
      const runs: SweepRun<Payload>[] = [
        { name: 'teacher', payload: { run: 'teacher', failures: 5 }, dependsOn: [] },
        { name: 'mcmi', payload: { run: 'mcmi' }, dependsOn: ['teacher'] },
        { name: 'student-mll', payload: { run: 'student-mll' }, dependsOn: ['teacher'] },
        // Payloads a worker must refuse: an unknown key, and a configuration that names another run than its job.
        { name: 'poisoned', payload: { run: 'poisoned', command: 'rm -rf /' } as Payload, dependsOn: [] },
        { name: 'impostor', payload: { run: 'teacher' }, dependsOn: [] },
      ];
      await enqueueSweep({ address, queueName: 'faults', runs, attempts: 3, backoffSeconds: 0.2 });
      const events: string[] = [];
      const workers = startWorkers(url, 'faults', events);
      let status: SweepStatus | undefined;
      try {
        await waitFor(
          async () => (status = await readSweepStatus({ address, queueName: 'faults' })).summary.failed === 5,
          60,
          'every run to fail',
        );
      } finally {
        await Promise.all(workers.map((worker) => worker.stop()));
      }
      const byName = new Map(status!.runs.map((run) => [run.name, run]));
      expect(byName.get('poisoned')).toMatchObject({
        state: 'failed',
        attempts: 1,
        error: 'invalid job payload: unknown key(s) command',
      });
      expect(byName.get('impostor')).toMatchObject({
        state: 'failed',
        attempts: 1,
        error: "invalid job payload: the configuration is run 'teacher', the job id is 'impostor'",
      });
      // Three attempts of the teacher, each an error, then failed; its dependants never started.
      expect(events.filter((event) => event.startsWith('start teacher'))).toHaveLength(3);
      expect(byName.get('teacher')).toMatchObject({
        state: 'failed',
        attempts: 3,
        error: 'teacher: configuration error 3',
      });
      expect(events.some((event) => /^start (mcmi|student-mll|poisoned|impostor)/.test(event))).toBe(false);
      expect(byName.get('mcmi')?.state).toBe('failed');
      expect(byName.get('student-mll')?.error).toMatch(/^dependency teacher failed: teacher: configuration error 3/);
      expect(formatSweepStatus(status!)).toMatch(
        /^teacher +failed .* error after 3 attempt\(s\): teacher: configuration error 3$/m,
      );
    },
  );
});
