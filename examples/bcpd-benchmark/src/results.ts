/**
 * Reads a benchmark's run directory into the numbers the report states: per arm mean ± std over seeds, paired
 * differences over seeds, and the correlation of students' accuracy with their teacher's BCPD error.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { mean, pairedDifference, readJson, sampleStd, type PairedDifference } from '@kd-example/common';
import { INVOCATIONS_FILE, type Invocation } from '@kd-example/common';
import type { BenchmarkConfig } from './config';
import type { Scores } from './metrics';
import { allLambdas, lambdaArm, studentArms, studentId, teacherId, trainedTeacherArms, type Arm } from './plan';
import { PROBLEM_FILE, readOutcome, type ProblemSummary, type RunOutcome } from './runner';

/** One metric of one arm: its value per seed (finished runs only). */
export type PerSeed = Map<number, number>;

export interface ArmResult {
  arm: Arm;
  planned: number;
  /** Runs without a finished outcome, as `seed s: status`. */
  notFinished: string[];
  accuracy: PerSeed;
  bcpdError: PerSeed;
  ece: PerSeed;
  /** Teachers only. */
  cmi: PerSeed;
  wallSeconds: number;
}

export interface Summary {
  mean: number;
  std: number;
  n: number;
}

export function summarise(values: PerSeed): Summary {
  const list = [...values.values()];
  return { mean: mean(list), std: sampleStd(list), n: list.length };
}

export interface Comparison {
  /** e.g. `λ = 0.2 − control`. */
  label: string;
  accuracy: PairedDifference;
  bcpdError: PairedDifference;
  cmi: PairedDifference;
}

/** Pearson correlation of (teacher BCPD error, student accuracy) over (teacher, seed) points. */
export interface Correlation {
  size: number;
  /** Over the trained teachers (MLL, control, each λ). */
  trained: { r: number; n: number; withinSeedR: number };
  /** The same points plus the oracle's (BCPD error 0). */
  withOracle: { r: number; n: number };
}

export interface ProblemResults {
  name: string;
  summary: ProblemSummary | undefined;
  teachers: ArmResult[];
  teacherComparisons: Comparison[];
  /** Per training-set size. */
  students: { size: number; arms: ArmResult[]; comparisons: Comparison[] }[];
  correlations: Correlation[];
  teacherSeconds: number;
  studentSeconds: number;
}

export interface BenchmarkResults {
  config: BenchmarkConfig;
  problems: ProblemResults[];
  invocations: Invocation[];
  /** Sum of the invocations' wall time. */
  elapsedSeconds: number;
  /** Sum of the runs' wall time (workers overlap). */
  computeSeconds: number;
}

export function armLabel(arm: Arm): string {
  if (arm === 'mll') return 'MLL';
  if (arm === lambdaArm(0)) return 'control (λ = 0)';
  if (arm.startsWith('lambda-')) return `MCMI λ = ${arm.slice('lambda-'.length)}`;
  return arm === 'oracle' ? 'oracle P*' : 'no teacher';
}

function collect(outDir: string, arm: Arm, runs: { seed: number; id: string }[], teacher: boolean): ArmResult {
  const result: ArmResult = {
    arm,
    planned: runs.length,
    notFinished: [],
    accuracy: new Map(),
    bcpdError: new Map(),
    ece: new Map(),
    cmi: new Map(),
    wallSeconds: 0,
  };
  for (const { seed, id } of runs) {
    const outcome: RunOutcome | undefined = readOutcome(outDir, id);
    if (outcome?.status !== 'finished' || outcome.test === undefined) {
      result.notFinished.push(`seed ${seed}: ${outcome?.status ?? 'not run'}`);
      continue;
    }
    const scores: Scores = outcome.test;
    result.accuracy.set(seed, scores.accuracy);
    result.bcpdError.set(seed, scores.bcpdError);
    result.ece.set(seed, scores.ece);
    if (teacher && outcome.testCmi !== undefined) result.cmi.set(seed, outcome.testCmi);
    result.wallSeconds += outcome.wallSeconds;
  }
  return result;
}

function compare(label: string, a: ArmResult, b: ArmResult): Comparison {
  return {
    label,
    accuracy: pairedDifference(a.accuracy, b.accuracy),
    bcpdError: pairedDifference(a.bcpdError, b.bcpdError),
    cmi: pairedDifference(a.cmi, b.cmi),
  };
}

/** Pearson r of paired lists (NaN with fewer than 3 points or no spread). */
export function pearson(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length < 3 || xs.length !== ys.length) return Number.NaN;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  xs.forEach((x, index) => {
    const dx = x - mx;
    const dy = ys[index]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  });
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : Number.NaN;
}

/** Points (teacher BCPD error, student accuracy) of one size, per (arm, seed). */
export function correlationPoints(
  teachers: ArmResult[],
  students: ArmResult[],
  arms: Arm[],
): { arm: Arm; seed: number; teacherError: number; studentAccuracy: number }[] {
  const points: { arm: Arm; seed: number; teacherError: number; studentAccuracy: number }[] = [];
  for (const arm of arms) {
    const student = students.find((row) => row.arm === arm);
    const teacher = teachers.find((row) => row.arm === arm);
    if (student === undefined) continue;
    for (const [seed, accuracy] of student.accuracy) {
      const error = arm === 'oracle' ? 0 : teacher?.bcpdError.get(seed);
      if (error !== undefined) points.push({ arm, seed, teacherError: error, studentAccuracy: accuracy });
    }
  }
  return points;
}

function correlation(size: number, teachers: ArmResult[], students: ArmResult[], trainedArms: Arm[]): Correlation {
  const trained = correlationPoints(teachers, students, trainedArms);
  const withOracle = correlationPoints(teachers, students, [...trainedArms, 'oracle']);
  // Within seed: subtract each seed's mean from both coordinates, so seed-to-seed shifts (pool, initialisation) cancel.
  const centred = (points: typeof trained) => {
    const bySeed = new Map<number, typeof trained>();
    for (const point of points) bySeed.set(point.seed, [...(bySeed.get(point.seed) ?? []), point]);
    return points.map((point) => {
      const group = bySeed.get(point.seed)!;
      return [
        point.teacherError - mean(group.map((p) => p.teacherError)),
        point.studentAccuracy - mean(group.map((p) => p.studentAccuracy)),
      ] as const;
    });
  };
  const within = centred(trained);
  return {
    size,
    trained: {
      r: pearson(
        trained.map((p) => p.teacherError),
        trained.map((p) => p.studentAccuracy),
      ),
      n: trained.length,
      withinSeedR: pearson(
        within.map(([x]) => x),
        within.map(([, y]) => y),
      ),
    },
    withOracle: {
      r: pearson(
        withOracle.map((p) => p.teacherError),
        withOracle.map((p) => p.studentAccuracy),
      ),
      n: withOracle.length,
    },
  };
}

export function loadResults(outDir: string): BenchmarkResults {
  const config = readJson<BenchmarkConfig>(join(outDir, 'config.json'));
  if (config === undefined) throw new Error(`loadResults: ${outDir} has no config.json (run pnpm benchmark first)`);
  const trainedArms = trainedTeacherArms(config);
  const lambdas = allLambdas(config).filter((lambda) => lambda > 0);
  let computeSeconds = 0;
  const problems = config.problems.map(({ name }): ProblemResults => {
    const teachers = trainedArms.map((arm) =>
      collect(
        outDir,
        arm,
        config.seeds.map((seed) => ({ seed, id: teacherId(name, seed, arm) })),
        true,
      ),
    );
    const byArm = (rows: ArmResult[], arm: Arm) => rows.find((row) => row.arm === arm)!;
    const control = lambdaArm(0);
    const teacherComparisons = [
      ...lambdas.map((lambda) =>
        compare(`λ = ${lambda} − control`, byArm(teachers, lambdaArm(lambda)), byArm(teachers, control)),
      ),
      compare('control − MLL', byArm(teachers, control), byArm(teachers, 'mll')),
    ];
    const students = config.trainingSizes.map((size) => {
      const arms = studentArms(config).map((arm) =>
        collect(
          outDir,
          arm,
          config.seeds.map((seed) => ({ seed, id: studentId(name, size, arm, seed) })),
          false,
        ),
      );
      const comparisons = [
        ...lambdas.map((lambda) =>
          compare(`λ = ${lambda} − control`, byArm(arms, lambdaArm(lambda)), byArm(arms, control)),
        ),
        compare('control − MLL', byArm(arms, control), byArm(arms, 'mll')),
        compare('oracle − MLL', byArm(arms, 'oracle'), byArm(arms, 'mll')),
        compare('oracle − control', byArm(arms, 'oracle'), byArm(arms, control)),
        ...lambdas.map((lambda) =>
          compare(`oracle − λ = ${lambda}`, byArm(arms, 'oracle'), byArm(arms, lambdaArm(lambda))),
        ),
        compare('MLL − no teacher', byArm(arms, 'mll'), byArm(arms, 'none')),
        compare('oracle − no teacher', byArm(arms, 'oracle'), byArm(arms, 'none')),
      ];
      return { size, arms, comparisons };
    });
    const teacherSeconds = teachers.reduce((sum, row) => sum + row.wallSeconds, 0);
    const studentSeconds = students.reduce(
      (sum, row) => sum + row.arms.reduce((inner, arm) => inner + arm.wallSeconds, 0),
      0,
    );
    computeSeconds += teacherSeconds + studentSeconds;
    return {
      name,
      summary: readJson<ProblemSummary>(join(outDir, name, PROBLEM_FILE)),
      teachers,
      teacherComparisons,
      students,
      correlations: students.map((row) => correlation(row.size, teachers, row.arms, trainedArms)),
      teacherSeconds,
      studentSeconds,
    };
  });
  const invocationsPath = join(outDir, INVOCATIONS_FILE);
  const invocations = existsSync(invocationsPath)
    ? readFileSync(invocationsPath, 'utf8')
        .trim()
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as Invocation)
    : [];
  return {
    config,
    problems,
    invocations,
    elapsedSeconds: invocations.reduce((sum, invocation) => sum + invocation.seconds, 0),
    computeSeconds,
  };
}
