/**
 * The log of a study's invocations (`invocations.jsonl` in its run directory, one JSON line per process that ran
 * runs), which the reports read for wall times and backends.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export const INVOCATIONS_FILE = 'invocations.jsonl';

/** One process's share of a study: when it ran, on how many workers and which backend, how many runs. */
export interface Invocation {
  startedAt: string;
  endedAt: string;
  seconds: number;
  workers: number;
  backend: string;
  ranRuns: number;
}

/** Appends the invocation that started at `started` and ends now to `<outDir>/invocations.jsonl`. */
export function recordInvocation(options: {
  outDir: string;
  started: Date;
  workers: number;
  backend: string;
  ranRuns: number;
}): Invocation {
  const ended = new Date();
  const invocation: Invocation = {
    startedAt: options.started.toISOString(),
    endedAt: ended.toISOString(),
    seconds: (ended.getTime() - options.started.getTime()) / 1000,
    workers: options.workers,
    backend: options.backend,
    ranRuns: options.ranRuns,
  };
  appendFileSync(join(options.outDir, INVOCATIONS_FILE), `${JSON.stringify(invocation)}\n`);
  return invocation;
}
