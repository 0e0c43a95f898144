/**
 * The runs of the benchmark, per problem, in the order they run: every seed's MLL teacher and its fine-tunes
 * (control λ = 0, then each λ), then the students seed by seed, so a benchmark cut short still has every cell
 * with fewer seeds rather than some cells with none.
 */
import type { BenchmarkConfig } from './config';

/**
 * A teacher arm: 'mll' (cross-entropy), `lambda-<λ>` (the MLL teacher fine-tuned with CE − λ·CMI; λ = 0 is the
 * control), 'oracle' (P* itself); students also have 'none' (no teacher).
 */
export type Arm = string;

export interface TeacherRun {
  kind: 'teacher';
  id: string;
  problem: string;
  seed: number;
  arm: Arm;
  /** undefined for the MLL teacher. */
  lambda?: number;
}

export interface StudentRun {
  kind: 'student';
  id: string;
  problem: string;
  seed: number;
  arm: Arm;
  /** Training-set size. */
  size: number;
}

export type RunSpec = TeacherRun | StudentRun;

/** Every λ fine-tuned, the control (0) first. */
export function allLambdas(config: BenchmarkConfig): number[] {
  return [0, ...config.lambdas.filter((lambda) => lambda !== 0)];
}

export function lambdaArm(lambda: number): Arm {
  return `lambda-${lambda}`;
}

/** The trained teachers' arms: MLL, control, each λ. */
export function trainedTeacherArms(config: BenchmarkConfig): Arm[] {
  return ['mll', ...allLambdas(config).map(lambdaArm)];
}

/** The students' arms: every trained teacher, the oracle, no teacher. */
export function studentArms(config: BenchmarkConfig): Arm[] {
  return [...trainedTeacherArms(config), 'oracle', 'none'];
}

export function teacherId(problem: string, seed: number, arm: Arm): string {
  return `${problem}/teachers/seed-${seed}/${arm}`;
}

export function studentId(problem: string, size: number, arm: Arm, seed: number): string {
  return `${problem}/students/n-${size}/${arm}/seed-${seed}`;
}

/** The runs of one problem, in running order. */
export function planProblem(config: BenchmarkConfig, problem: string): RunSpec[] {
  const runs: RunSpec[] = [];
  for (const seed of config.seeds) {
    runs.push({ kind: 'teacher', id: teacherId(problem, seed, 'mll'), problem, seed, arm: 'mll' });
    for (const lambda of allLambdas(config)) {
      runs.push({
        kind: 'teacher',
        id: teacherId(problem, seed, lambdaArm(lambda)),
        problem,
        seed,
        arm: lambdaArm(lambda),
        lambda,
      });
    }
  }
  for (const seed of config.seeds) {
    for (const size of config.trainingSizes) {
      for (const arm of studentArms(config))
        runs.push({ kind: 'student', id: studentId(problem, size, arm, seed), problem, seed, arm, size });
    }
  }
  return runs;
}

/** Every run of the benchmark. */
export function planBenchmark(config: BenchmarkConfig): RunSpec[] {
  return config.problems.flatMap((problem) => planProblem(config, problem.name));
}
