/**
 * The benchmark's protocol as data: problems, teachers, students, sizes, seeds. `FULL_BENCHMARK` is the
 * committed run; `SMOKE_BENCHMARK` is the same code path at tiny size for CI.
 */
import type { ObjectiveSpec } from '@kd/trainer';
import type { ProblemSpec } from './problem';

export interface BenchmarkProblem {
  /** Short name used in run ids, e.g. `mixture`. */
  name: string;
  /** One line for the report. */
  description: string;
  spec: ProblemSpec;
}

export interface BenchmarkConfig {
  name: string;
  problems: BenchmarkProblem[];
  /** Training pool per seed (drawn fresh for each seed); teachers see all of it, students its first n. */
  poolSize: number;
  /** Test sample (one per problem, drawn once): every score is measured on it. */
  testSize: number;
  /** Monte-Carlo sample of E_x[max_c P*(c|x)], the Bayes accuracy. */
  bayesSamples: number;
  teacherHidden: number[];
  studentHidden: number[];
  batchSize: number;
  teacherEpochs: number;
  teacherLearningRate: number;
  /** Fine-tunes of the MLL teacher (cosine schedule): λ = 0 is the control, always run with the same schedule. */
  fineTuneEpochs: number;
  fineTuneLearningRate: number;
  lambdas: number[];
  /** The trainer's collapse guard on the fine-tunes (off only in the smoke test, whose teachers are noise). */
  collapseGuard: boolean;
  /** Students' training-set sizes: the first n samples of the seed's pool, cycled to the pool's steps per epoch. */
  trainingSizes: number[];
  studentEpochs: number;
  studentLearningRate: number;
  /** The students' objective with a teacher. */
  distillation: ObjectiveSpec[];
  /** One line for the report. */
  distillationDescription: string;
  /** Seeds: seed s trains teacher s on pool s and the students of seed s from teacher s (paired across teachers). */
  seeds: number[];
}

/** KD with the soft labels themselves: at T = 1 the oracle's soft labels are exactly P*(·|x). */
const KD_T1: ObjectiveSpec[] = [
  { method: 'ce', weight: 0.1 },
  { method: 'kd', weight: 0.9, options: { temperature: 1 } },
];

const MIXTURE: ProblemSpec = {
  kind: 'mixture',
  dimension: 8,
  numClasses: 4,
  componentsPerClass: 3,
  meanSpread: 1,
  componentStd: [0.6, 1.2],
  seed: 1,
};

export const FULL_BENCHMARK: BenchmarkConfig = {
  name: 'full',
  problems: [
    {
      name: 'mixture',
      description:
        'Gaussian mixture, d = 8, 4 classes × 3 components, diagonal covariances (std 0.6–1.2), mean spread 1',
      spec: MIXTURE,
    },
    {
      name: 'warped',
      description: 'the same mixture through 4 additive sine couplings x_B += sin(A x_A + φ) (invertible, Jacobian 1)',
      spec: { ...MIXTURE, kind: 'warped', warp: { layers: 4, amplitude: 1, frequency: 1 } },
    },
  ],
  poolSize: 2000,
  testSize: 10000,
  bayesSamples: 200000,
  teacherHidden: [64, 64],
  studentHidden: [16],
  batchSize: 64,
  teacherEpochs: 30,
  teacherLearningRate: 0.05,
  fineTuneEpochs: 10,
  fineTuneLearningRate: 0.01,
  lambdas: [0.1, 0.2, 0.4, 0.8],
  collapseGuard: true,
  trainingSizes: [20, 100, 500, 2000],
  studentEpochs: 8,
  studentLearningRate: 0.05,
  distillation: KD_T1,
  distillationDescription: "KD: 0.1·CE + 0.9·KD(T = 1), i.e. the teacher's soft labels themselves",
  seeds: [1, 2, 3, 4, 5, 6, 7, 8],
};

/** The CI smoke test: every cell once, at tiny size, one seed. */
export const SMOKE_BENCHMARK: BenchmarkConfig = {
  ...FULL_BENCHMARK,
  name: 'smoke',
  poolSize: 32,
  testSize: 64,
  bayesSamples: 256,
  teacherHidden: [8],
  studentHidden: [4],
  batchSize: 16,
  teacherEpochs: 1,
  fineTuneEpochs: 1,
  lambdas: [0.2],
  collapseGuard: false,
  trainingSizes: [8, 32],
  studentEpochs: 1,
  seeds: [1],
};

export const BENCHMARK_CONFIGS: Record<string, BenchmarkConfig> = { full: FULL_BENCHMARK, smoke: SMOKE_BENCHMARK };
