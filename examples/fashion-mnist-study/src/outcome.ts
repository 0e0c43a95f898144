/**
 * `outcome.json`, the study's own record of a run: written atomically once the run is over (finished, collapsed,
 * skipped or failed), so a run with an outcome is never run again, and the report reads only these files.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '@kd-example/common';
import type { EpochRecord } from '@kd/trainer';

// The study's modules read and write their JSON files through here (the helpers live in @kd-example/common).
export { readJson, writeJsonAtomic };

/** The numbers of one epoch the report needs. */
export interface EpochSummary {
  epoch: number;
  /** Test top-1 (fraction). */
  testTop1: number;
  /** Test accuracy per class (fraction; NaN written as null for a class absent from the test slice). */
  perClassAccuracy: (number | null)[];
  trainAccuracy: number;
  losses: Record<string, number>;
  extra: Record<string, number>;
  seconds: number;
  imagesPerSecond: number;
}

export type OutcomeStatus = 'finished' | 'collapsed' | 'skipped' | 'failed';

export interface RunOutcome {
  id: string;
  status: OutcomeStatus;
  /** Collapse, skip or failure reason. */
  message?: string;
  best?: EpochSummary;
  last?: EpochSummary;
  history?: EpochSummary[];
  /** Teacher runs: λ (undefined for MLL), CMI on the training pool (nats, eval mode), the λ of an 'mcmi' student's teacher. */
  lambda?: number;
  teacherCmi?: number;
  /** For students of the MCMI teacher: the λ that teacher was fine-tuned with. */
  teacherLambda?: number;
  /** Wall-clock seconds spent on this run (all segments, including ones that were interrupted and resumed). */
  wallSeconds: number;
  backend: string;
  finishedAt: string;
}

export const OUTCOME_FILE = 'outcome.json';
const PARTIAL_WALL_FILE = 'partial-wall.json';

export function readOutcome(runDirectory: string): RunOutcome | undefined {
  return readJson<RunOutcome>(join(runDirectory, OUTCOME_FILE));
}

export function writeOutcome(runDirectory: string, outcome: RunOutcome): void {
  writeJsonAtomic(join(runDirectory, OUTCOME_FILE), outcome);
  rmSync(join(runDirectory, PARTIAL_WALL_FILE), { force: true });
}

/** Seconds spent on earlier, interrupted segments of a run. */
export function previousWallSeconds(runDirectory: string): number {
  return readJson<{ seconds: number }>(join(runDirectory, PARTIAL_WALL_FILE))?.seconds ?? 0;
}

/** Records the seconds of an interrupted segment (added to the next segment's time). */
export function recordPartialWall(runDirectory: string, seconds: number): void {
  writeJsonAtomic(join(runDirectory, PARTIAL_WALL_FILE), { seconds });
}

export function summariseEpoch(record: EpochRecord): EpochSummary {
  return {
    epoch: record.epoch,
    testTop1: record.test?.top1 ?? Number.NaN,
    perClassAccuracy: (record.test?.perClassAccuracy ?? []).map((value) => (Number.isFinite(value) ? value : null)),
    trainAccuracy: record.train.accuracy,
    losses: record.train.losses,
    extra: record.extra,
    seconds: record.seconds,
    imagesPerSecond: record.imagesPerSecond,
  };
}
