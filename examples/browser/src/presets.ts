/**
 * The playground's presets: the quick start's teachers (examples/quickstart) at several sizes, with KD students
 * from the MLL and the MCMI teacher. `full` trains the teachers exactly as the quick start does (a test keeps
 * those settings equal to its defaultConfig); the others shrink the data, the epochs and, for `smoke`, the models.
 * Every stage has at least two epochs, so each chart shows a line.
 */

/** What one playground run does. */
export interface RunConfig {
  /** Use the first N training / test images of the bundle (3000 / 1000). */
  trainSize: number;
  testSize: number;
  /** Zoo names of the teacher and the students. */
  teacher: string;
  student: string;
  teacherEpochs: number;
  /** Epochs of the MCMI fine-tune. */
  mcmiEpochs: number;
  studentEpochs: number;
  batchSize: number;
  teacherLearningRate: number;
  mcmiLearningRate: number;
  studentLearningRate: number;
  /** λ of CE − λ·CMI. */
  lambda: number;
  seed: number;
  /** Test images in the Eigen-CAM grid. */
  camImages: number;
}

export const PRESET_NAMES = ['smoke', 'minute', 'five-minutes', 'full'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** The quick start's teachers (examples/quickstart's defaultConfig), KD students on the whole slice. */
const FULL: RunConfig = {
  trainSize: 3000,
  testSize: 1000,
  teacher: 'resnet8',
  student: 'resnet8',
  teacherEpochs: 8,
  mcmiEpochs: 2,
  studentEpochs: 3,
  batchSize: 64,
  teacherLearningRate: 0.1,
  mcmiLearningRate: 0.01,
  studentLearningRate: 0.05,
  lambda: 0.3,
  seed: 1,
  camImages: 8,
};

export const PRESETS: Record<PresetName, { label: string; config: RunConfig }> = {
  smoke: {
    label: 'smoke (a few steps, for tests)',
    // The smallest conv teacher, an MLP student (cheap), small batches so that a few images make enough steps.
    // lr 0.05 and λ 0.25: a two-epoch teacher on 192 images is too far from trained for lr 0.1 and λ 0.3.
    config: {
      ...FULL,
      trainSize: 192,
      testSize: 128,
      teacher: 'resnet8',
      student: 'mlp',
      teacherEpochs: 2,
      mcmiEpochs: 2,
      studentEpochs: 2,
      batchSize: 16,
      camImages: 6,
      teacherLearningRate: 0.05,
      lambda: 0.25,
    },
  },
  minute: {
    label: 'about a minute (wasm, 2 cores)',
    config: {
      ...FULL,
      trainSize: 600,
      testSize: 300,
      teacherEpochs: 2,
      mcmiEpochs: 2,
      studentEpochs: 2,
      teacherLearningRate: 0.05,
      lambda: 0.25,
    },
  },
  'five-minutes': {
    label: 'about five minutes',
    config: {
      ...FULL,
      trainSize: 1500,
      testSize: 500,
      teacherEpochs: 3,
      mcmiEpochs: 2,
      studentEpochs: 2,
      teacherLearningRate: 0.05,
      lambda: 0.25,
    },
  },
  full: { label: "the quick start's teachers (3000 images)", config: FULL },
};

/** Throws unless `name` is a preset, listing the known ones. */
export function presetConfig(name: string): RunConfig {
  if (!(PRESET_NAMES as readonly string[]).includes(name)) {
    throw new Error(`presetConfig: unknown preset '${name}' (known: ${PRESET_NAMES.join(', ')})`);
  }
  return { ...PRESETS[name as PresetName].config };
}

const NUMBER_FIELDS = [
  'trainSize',
  'testSize',
  'teacherEpochs',
  'mcmiEpochs',
  'studentEpochs',
  'batchSize',
  'teacherLearningRate',
  'mcmiLearningRate',
  'studentLearningRate',
  'lambda',
  'seed',
  'camImages',
] as const satisfies ReadonlyArray<keyof RunConfig>;
const MODEL_FIELDS = ['teacher', 'student'] as const satisfies ReadonlyArray<keyof RunConfig>;
const INTEGER_FIELDS: ReadonlySet<string> = new Set([
  'trainSize',
  'testSize',
  'teacherEpochs',
  'mcmiEpochs',
  'studentEpochs',
  'batchSize',
  'seed',
  'camImages',
]);

/**
 * A preset with fields replaced from URL parameters (`?preset=smoke&trainSize=32&lambda=0.5`). Parameters that
 * are not config fields (`preset`, `backend`, `autostart`) are ignored; a bad value is an error naming it.
 */
export function configFromQuery(query: URLSearchParams): RunConfig {
  const config = presetConfig(query.get('preset') ?? 'minute');
  for (const field of NUMBER_FIELDS) {
    const text = query.get(field);
    if (text === null) continue;
    const value = Number(text);
    const ok =
      Number.isFinite(value) &&
      (field === 'lambda' || field === 'seed' ? value >= 0 : value > 0) &&
      (!INTEGER_FIELDS.has(field) || Number.isInteger(value));
    if (!ok)
      throw new Error(
        `configFromQuery: ${field} must be a ${INTEGER_FIELDS.has(field) ? 'positive integer' : 'positive number'}, got '${text}'`,
      );
    config[field] = value;
  }
  for (const field of MODEL_FIELDS) {
    const text = query.get(field);
    if (text !== null) config[field] = text;
  }
  if (config.trainSize > 3000 || config.testSize > 1000) {
    throw new Error(
      `configFromQuery: the bundle holds 3000 training and 1000 test images, got trainSize ${config.trainSize}, testSize ${config.testSize}`,
    );
  }
  if (config.camImages > config.testSize)
    throw new Error(`configFromQuery: camImages (${config.camImages}) must be <= testSize (${config.testSize})`);
  return config;
}
