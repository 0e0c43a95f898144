/** Messages between the page and the training worker, and the records the playground keeps per run. */
import type { RunConfig } from './presets';

export const BACKEND_CHOICES = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** The four trainings of a run, in order. */
export const STAGES = ['teacher-mll', 'teacher-mcmi', 'student-from-mll', 'student-from-mcmi'] as const;
export type Stage = (typeof STAGES)[number];

export const STAGE_LABELS: Record<Stage, string> = {
  'teacher-mll': 'MLL teacher (cross-entropy)',
  'teacher-mcmi': 'MCMI teacher (fine-tune)',
  'student-from-mll': 'KD student from MLL',
  'student-from-mcmi': 'KD student from MCMI',
};

/** One finished epoch of one stage, as the charts show it. */
export interface EpochEntry {
  stage: Stage;
  epoch: number;
  /** Mean weighted loss parts of the epoch (`ce`, `kd`, `cmi`, …) and `total`. */
  losses: Record<string, number>;
  trainAccuracy: number;
  testAccuracy: number;
  /** The teacher's CMI on the training set (nats, eval mode): teacher stages only. */
  teacherCmi?: number;
  imagesPerSecond: number;
  seconds: number;
}

export interface ResultRow {
  teacher: string;
  teacherAccuracy: number;
  teacherCmi: number;
  studentAccuracy: number;
  studentBestAccuracy: number;
}

export interface RunResult {
  rows: ResultRow[];
  /** SHA-256 (hex) of each student's weights file, to compare runs bit for bit. */
  studentWeightsSha256: Record<'from-mll' | 'from-mcmi', string>;
  parameters: { teacher: number; student: number };
}

export type RunStatus = 'running' | 'stopped' | 'finished' | 'failed';

/** `<runId>/playground.json`: what the past-runs list and a reload read. */
export interface RunRecord {
  runId: string;
  preset: string;
  config: RunConfig;
  backendChoice: BackendChoice;
  backend?: string;
  threads?: number;
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  epochs: EpochEntry[];
  result?: RunResult;
  error?: string;
}

export type ToWorker =
  | { type: 'start'; record: RunRecord }
  | { type: 'pause' }
  | { type: 'continue' }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'backend'; backend: string; threads: number; detail: string }
  | { type: 'stage'; stage: Stage }
  | {
      type: 'step';
      stage: Stage;
      epoch: number;
      epochs: number;
      step: number;
      stepsPerEpoch: number | undefined;
      imagesPerSecond: number;
    }
  | { type: 'epoch'; entry: EpochEntry }
  | { type: 'cam'; width: number; height: number; rgba: Uint8ClampedArray }
  | { type: 'paused' }
  | { type: 'continued' }
  | { type: 'finished'; result: RunResult }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

/** The store names of a run's files (all runs share one IndexedDB database). */
export const runFiles = {
  record: (runId: string) => `${runId}/playground.json`,
  stagePrefix: (runId: string, stage: Stage) => `${runId}/${stage}/`,
  cam: (runId: string) => `${runId}/eigencam.png`,
  weights: (runId: string, student: 'from-mll' | 'from-mcmi', file: WeightsFile) =>
    `${runId}/export/student-${student}/${file}`,
};

export const DATABASE_NAME = 'kd-playground';

/** A student's exported files: the zoo's format (`model.json` + `weights.bin`) and PyTorch's safetensors. */
export const WEIGHTS_FILES = ['model.json', 'weights.bin', 'model.safetensors'] as const;
export type WeightsFile = (typeof WEIGHTS_FILES)[number];
