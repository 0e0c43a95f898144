/**
 * Reads a study directory into the tables of the report: teachers, students (mean ± std over seeds), paired
 * differences and zero-shot accuracies. Pure data; `report.ts` formats it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StudentSetting, StudyConfig } from './config';
import { readOutcome, type RunOutcome } from './outcome';
import { MLL_TEACHER_ID, TEACHER_ROLES, allLambdas, fineTuneId, planStudy, studentId, type TeacherRole } from './plan';
import { chooseLambda, runDirectory } from './runner';
import { mean, pairedDifference, readJson, sampleStd, type PairedDifference } from '@kd-example/common';
import { FASHION_MNIST_CLASS_NAMES } from '@kd/data';
import { INVOCATIONS_FILE, type Invocation } from '@kd-example/common';

export interface TeacherRow {
  id: string;
  /** 'MLL', 'control (λ = 0)' or 'MCMI λ = …'. */
  label: string;
  lambda?: number;
  status: RunOutcome['status'] | 'not run';
  message?: string;
  lastTop1?: number;
  bestTop1?: number;
  /** CMI on the training pool, eval mode, after the run (nats). */
  cmi?: number;
  /** CMI of the MLL teacher measured by this fine-tune before it started (nats). */
  initialCmi?: number;
  wallSeconds?: number;
  chosen: boolean;
}

export interface ArmStatistics {
  /** Seed → accuracy (fraction) of finished runs. */
  best: Map<number, number>;
  last: Map<number, number>;
  /** Seed → per-class accuracy of the last evaluation. */
  perClass: Map<number, (number | null)[]>;
  /** Runs planned, finished, and the statuses of the others. */
  planned: number;
  finished: number;
  notFinished: string[];
  wallSeconds: number;
}

export interface StudentRow {
  setting: StudentSetting;
  method: string;
  teacher: TeacherRole;
  arm: ArmStatistics;
}

export interface ComparisonRow {
  setting: StudentSetting;
  method: string;
  /** e.g. 'MCMI − MLL'. */
  comparison: string;
  last: PairedDifference;
  best: PairedDifference;
}

export interface StudyResults {
  config: StudyConfig;
  teachers: TeacherRow[];
  chosenLambda: { lambda: number | null; reason: string } | undefined;
  students: StudentRow[];
  comparisons: ComparisonRow[];
  invocations: Invocation[];
  /** Seconds per part of the study (sum of the runs' wall time). */
  wallByPart: { part: string; runs: number; seconds: number; medianImagesPerSecond: number }[];
  /** Sum of every run's wall time and the elapsed time of the invocations. */
  computeSeconds: number;
  elapsedSeconds: number;
  /** From the earliest run start to the latest run end (covers invocations that were killed and resumed). */
  spanSeconds: number;
  className: (label: number) => string;
}

function emptyArm(): ArmStatistics {
  return {
    best: new Map(),
    last: new Map(),
    perClass: new Map(),
    planned: 0,
    finished: 0,
    notFinished: [],
    wallSeconds: 0,
  };
}

export function teacherLabel(role: TeacherRole, lambda?: number | null): string {
  if (role === 'mll') return 'MLL';
  if (role === 'control') return 'control (λ = 0)';
  if (role === 'mcmi') return lambda === undefined || lambda === null ? 'MCMI' : `MCMI (λ = ${lambda})`;
  return 'no teacher';
}

export function loadResults(outDir: string): StudyResults {
  const config = readJson<StudyConfig>(join(outDir, 'config.json'));
  if (config === undefined) throw new Error(`loadResults: ${outDir} has no config.json (run the study first)`);
  const chosenLambda = chooseLambda(config, outDir);

  const teacherIds = [
    { id: MLL_TEACHER_ID, lambda: undefined as number | undefined },
    ...allLambdas(config).map((lambda) => ({ id: fineTuneId(lambda), lambda })),
  ];
  const teachers: TeacherRow[] = teacherIds.map(({ id, lambda }) => {
    const outcome = readOutcome(runDirectory(outDir, id));
    const label = lambda === undefined ? 'MLL' : lambda === 0 ? 'control (λ = 0)' : `MCMI λ = ${lambda}`;
    const row: TeacherRow = {
      id,
      label,
      status: outcome?.status ?? 'not run',
      chosen: lambda !== undefined && lambda === chosenLambda?.lambda,
    };
    if (lambda !== undefined) row.lambda = lambda;
    if (outcome !== undefined) {
      if (outcome.message !== undefined) row.message = outcome.message;
      if (outcome.last !== undefined) row.lastTop1 = outcome.last.testTop1;
      if (outcome.best !== undefined) row.bestTop1 = outcome.best.testTop1;
      if (typeof outcome.teacherCmi === 'number') row.cmi = outcome.teacherCmi;
      const initial = outcome.history?.[0]?.extra.initialTeacherCmi;
      if (typeof initial === 'number') row.initialCmi = initial;
      row.wallSeconds = outcome.wallSeconds;
    }
    return row;
  });

  const students: StudentRow[] = [];
  for (const setting of config.settings) {
    for (const method of setting.methods) {
      const roles: TeacherRole[] = method === 'none' ? ['none'] : [...TEACHER_ROLES];
      for (const teacher of roles) {
        const arm = emptyArm();
        for (const seed of config.seeds) {
          arm.planned++;
          const outcome = readOutcome(runDirectory(outDir, studentId(setting.name, method, teacher, seed)));
          if (outcome === undefined) {
            arm.notFinished.push(`seed ${seed}: not run`);
            continue;
          }
          arm.wallSeconds += outcome.wallSeconds;
          if (outcome.status !== 'finished' || outcome.last === undefined || outcome.best === undefined) {
            arm.notFinished.push(`seed ${seed}: ${outcome.status}`);
            continue;
          }
          arm.finished++;
          arm.best.set(seed, outcome.best.testTop1);
          arm.last.set(seed, outcome.last.testTop1);
          arm.perClass.set(seed, outcome.last.perClassAccuracy);
        }
        students.push({ setting, method, teacher, arm });
      }
    }
  }

  const find = (setting: string, method: string, teacher: TeacherRole) =>
    students.find((row) => row.setting.name === setting && row.method === method && row.teacher === teacher)?.arm;
  const comparisons: ComparisonRow[] = [];
  for (const setting of config.settings) {
    for (const method of setting.methods.filter((name) => name !== 'none')) {
      const pairs: [string, TeacherRole, TeacherRole][] = [
        ['MCMI − MLL', 'mcmi', 'mll'],
        ['MCMI − control', 'mcmi', 'control'],
        ['control − MLL', 'control', 'mll'],
      ];
      for (const [comparison, a, b] of pairs) {
        const armA = find(setting.name, method, a);
        const armB = find(setting.name, method, b);
        if (armA === undefined || armB === undefined) continue;
        comparisons.push({
          setting,
          method,
          comparison,
          last: pairedDifference(armA.last, armB.last),
          best: pairedDifference(armA.best, armB.best),
        });
      }
    }
  }

  const invocationsPath = join(outDir, INVOCATIONS_FILE);
  const invocations: Invocation[] = existsSync(invocationsPath)
    ? readFileSync(invocationsPath, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Invocation)
    : [];

  const parts = new Map<string, { runs: number; seconds: number; rates: number[] }>();
  const add = (part: string, seconds: number, outcome: RunOutcome) => {
    const entry = parts.get(part) ?? { runs: 0, seconds: 0, rates: [] };
    entry.runs++;
    entry.seconds += seconds;
    entry.rates.push(...(outcome.history ?? []).map((epoch) => epoch.imagesPerSecond));
    parts.set(part, entry);
  };
  let firstStart = Infinity;
  let lastEnd = -Infinity;
  for (const run of planStudy(config)) {
    const outcome = readOutcome(runDirectory(outDir, run.id));
    if (outcome === undefined || outcome.status === 'skipped') continue;
    const end = Date.parse(outcome.finishedAt);
    firstStart = Math.min(firstStart, end - 1000 * outcome.wallSeconds);
    lastEnd = Math.max(lastEnd, end);
    if (run.kind === 'teacher')
      add(run.lambda === undefined ? 'MLL teacher' : 'fine-tunes (control and every λ)', outcome.wallSeconds, outcome);
    else add(`students: ${run.setting}${run.teacher === 'none' ? ' (no teacher)' : ''}`, outcome.wallSeconds, outcome);
  }
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    if (sorted.length === 0) return Number.NaN;
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  };
  const wallByPart = [...parts.entries()].map(([part, entry]) => ({
    part,
    runs: entry.runs,
    seconds: entry.seconds,
    medianImagesPerSecond: median(entry.rates),
  }));
  return {
    config,
    teachers,
    chosenLambda,
    students,
    comparisons,
    invocations,
    wallByPart,
    computeSeconds: wallByPart.reduce((sum, part) => sum + part.seconds, 0),
    elapsedSeconds: invocations.reduce((sum, invocation) => sum + invocation.seconds, 0),
    spanSeconds: Number.isFinite(firstStart) ? (lastEnd - firstStart) / 1000 : 0,
    className: (label) => FASHION_MNIST_CLASS_NAMES[label] ?? String(label),
  };
}

/** Mean and sample std of an arm's accuracies (fractions). */
export function armSummary(values: ReadonlyMap<number, number>): { mean: number; std: number; n: number } {
  const list = [...values.values()];
  return { mean: mean(list), std: sampleStd(list), n: list.length };
}

/** Mean over seeds of the per-class accuracy (fractions; NaN where no seed has the class). */
export function meanPerClass(arm: ArmStatistics, numClasses: number): { mean: number[]; std: number[] } {
  const meanValues: number[] = [];
  const stdValues: number[] = [];
  for (let label = 0; label < numClasses; label++) {
    const values = [...arm.perClass.values()]
      .map((row) => row[label])
      .filter((value): value is number => typeof value === 'number');
    meanValues.push(mean(values));
    stdValues.push(sampleStd(values));
  }
  return { mean: meanValues, std: stdValues };
}
