/**
 * The study's protocol as data: which teachers, which students, which data, which budget. `FULL_STUDY` is the
 * committed run; `SMOKE_STUDY` is the same code path on a tiny slice for CI.
 */
import { fileURLToPath } from 'node:url';
import type { ObjectiveSpec } from '@kd/trainer';

/** A student method: the weighted objectives passed to `distillStudent` (or `trainSupervised` for 'none'). */
export interface StudentMethod {
  /** Short name used in run ids and tables. */
  name: string;
  /** Human-readable recipe for the report. */
  description: string;
  /** Objectives of `distillStudent`; undefined = no teacher (cross-entropy only, `trainSupervised`). */
  objectives?: ObjectiveSpec[];
}

/** A data setting of the students. */
export interface StudentSetting {
  /** Short name used in run ids and tables, e.g. `full`, `few-5`, `zero-1`. */
  name: string;
  kind: 'full' | 'few-shot' | 'zero-shot';
  /** Few-shot: fraction of the training pool (first images in file order). */
  fraction?: number;
  /** Zero-shot: classes removed from the student's training data. */
  omittedClasses?: number[];
  /** Methods run in this setting. */
  methods: string[];
}

export interface StudyConfig {
  /** Name written into the report. */
  name: string;
  /** First this many training images of Fashion-MNIST (file order): the training pool of every run. */
  trainImages: number;
  /** First this many test images: evaluated after every epoch. */
  testImages: number;
  /** Side of the images: 28 (Fashion-MNIST as it is); the smoke test shrinks them to keep the cpu backend fast. */
  imageSize: number;
  teacherModel: string;
  studentModel: string;
  batchSize: number;
  /** Pad of the random crop (28×28 images); horizontal flips are on. */
  cropPadding: number;
  teacherEpochs: number;
  teacherLearningRate: number;
  /** MCMI and control fine-tunes: epochs (cosine schedule), lr, λ values (0 is the control, always run). */
  fineTuneEpochs: number;
  fineTuneLearningRate: number;
  lambdas: number[];
  /**
   * Rule fixed before any student is trained: the λ whose teacher distils students is the largest λ that did
   * not collapse and whose teacher test accuracy is at most this many points below the control's.
   */
  maxTeacherAccuracyDrop: number;
  /**
   * Stop a fine-tune that collapses (the trainer's guard). Off only in the smoke test, whose one-epoch teacher on
   * a few dozen images is noise that the guard would flag at random.
   */
  collapseGuard: boolean;
  /** Where the IDX files are (the folder holding `fashion-mnist/`); undefined: `KD_DATA_DIR` or /usr/share/datasets. */
  dataDir?: string;
  studentEpochs: number;
  studentLearningRate: number;
  /** Seeds of every student setting (the same across teachers: differences are paired). */
  seeds: number[];
  /** Seed of the teachers. */
  teacherSeed: number;
  methods: StudentMethod[];
  settings: StudentSetting[];
}

const KD: ObjectiveSpec[] = [
  { method: 'ce', weight: 0.1 },
  { method: 'kd', weight: 0.9, options: { temperature: 4 } },
];

export const STUDENT_METHODS: StudentMethod[] = [
  { name: 'kd', description: 'KD: 0.1·CE + 0.9·KD(T = 4) (RepDistiller -r 0.1 -a 0.9)', objectives: KD },
  {
    name: 'vid',
    description: 'VID: CE + 1·VID on the three stage outputs (RepDistiller -r 1 -a 0 -b 1)',
    objectives: [
      { method: 'ce', weight: 1 },
      { method: 'vid', weight: 1 },
    ],
  },
  {
    name: 'icd',
    description: "ICD: CE + 1·ICD on the pooled vectors (authors' -r 1 -a 0 -b 1, α_inv 0.5)",
    objectives: [
      { method: 'ce', weight: 1 },
      { method: 'icd', weight: 1 },
    ],
  },
  { name: 'none', description: 'no teacher: CE only, same schedule' },
];

const SETTINGS: StudentSetting[] = [
  { name: 'full', kind: 'full', methods: ['kd', 'vid', 'icd', 'none'] },
  { name: 'few-1', kind: 'few-shot', fraction: 0.01, methods: ['kd', 'none'] },
  { name: 'few-5', kind: 'few-shot', fraction: 0.05, methods: ['kd', 'none'] },
  { name: 'few-25', kind: 'few-shot', fraction: 0.25, methods: ['kd', 'none'] },
  // The reference drops CIFAR-10 class 9, then 9 and 7; here 9 = ankle boot, 7 = sneaker.
  { name: 'zero-1', kind: 'zero-shot', omittedClasses: [9], methods: ['kd', 'none'] },
  { name: 'zero-2', kind: 'zero-shot', omittedClasses: [9, 7], methods: ['kd', 'none'] },
];

/** The committed study (budget: ~40 minutes of compute on 2 cores; see report/README.md). */
export const FULL_STUDY: StudyConfig = {
  name: 'full',
  trainImages: 2500,
  testImages: 1000,
  imageSize: 14,
  teacherModel: 'resnet14',
  studentModel: 'resnet8',
  batchSize: 32,
  cropPadding: 1,
  teacherEpochs: 10,
  teacherLearningRate: 0.05,
  fineTuneEpochs: 2,
  fineTuneLearningRate: 0.01,
  lambdas: [0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1],
  maxTeacherAccuracyDrop: 1,
  collapseGuard: true,
  studentEpochs: 3,
  studentLearningRate: 0.05,
  seeds: [1, 2, 3, 4, 5],
  teacherSeed: 0,
  methods: STUDENT_METHODS,
  settings: SETTINGS,
};

/** The CI smoke test: every cell once, on a few dozen images, resnet8 everywhere, one seed. */
export const SMOKE_STUDY: StudyConfig = {
  ...FULL_STUDY,
  name: 'smoke',
  trainImages: 16,
  testImages: 16,
  imageSize: 4,
  teacherModel: 'resnet8',
  studentModel: 'resnet8',
  batchSize: 8,
  teacherEpochs: 1,
  fineTuneEpochs: 1,
  lambdas: [0.2],
  studentEpochs: 1,
  seeds: [1],
  maxTeacherAccuracyDrop: 100,
  collapseGuard: false,
  // A 64 + 32 image slice of Fashion-MNIST bundled with the example, so CI needs no download.
  dataDir: fileURLToPath(new URL('../data', import.meta.url)),
};

export const STUDY_CONFIGS: Record<string, StudyConfig> = { full: FULL_STUDY, smoke: SMOKE_STUDY };
