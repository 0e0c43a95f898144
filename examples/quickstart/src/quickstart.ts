/**
 * The quick start: what distillation does, with a baseline for every claim. On the bundled slice of Fashion-MNIST:
 *   1. train a teacher by cross-entropy (MLL) on the whole slice,
 *   2. fine-tune two copies of it with the same schedule: MCMI (L = CE − λ·CMI) and the λ = 0 control,
 *   3. train small students on a few-shot subset, each over several seeds: without a teacher, and by Hinton KD
 *      (0.1·CE + 0.9·KD, T = 2) from each of the three teachers,
 *   4. print a table and one line per question (does a teacher help? what does MCMI do to the teacher? does the
 *      MCMI teacher make a better student?), write Eigen-CAM maps of the teachers and the accuracy curves.
 * Every run lives in its own directory with checkpoints, so an interrupted quick start resumes where it stopped.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { camOverlay, eigenCam } from '@kd/cam';
import { heatMapsFromTensor, imageFromTensor, renderGrid, renderLinePlot, type RasterImage } from '@kd/plot';
import { writePng } from '@kd/plot/node';
import {
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_NORMALIZATION,
  decodeIdxDataset,
  fewShotSubset,
  type AugmentOptions,
  type Dataset,
} from '@kd/data';
import { createModel, loadWeights, saveWeights, type KdModel } from '@kd/models';
import { distillStudent, fineTuneTeacherMcmi, trainSupervised, type TrainingResult } from '@kd/trainer';
import { directoryStore } from '@kd/trainer/node';
import { mean, pairedDifference, sampleStd, tCritical95, type PairedDifference } from '@kd-example/common';

/** Everything the quick start does is set here (flags override parts of it in main.ts). */
export interface QuickstartConfig {
  /** Folder with the four Fashion-MNIST IDX .gz files. */
  dataDir: string;
  /** Where runs, the table and the pictures go. */
  outDir: string;
  /** Use the first N training / test images (the bundle holds 3000 / 1000). */
  trainSize: number;
  testSize: number;
  /** The teacher's architecture (a zoo name) and its cross-entropy training. */
  teacher: string;
  teacherEpochs: number;
  teacherLearningRate: number;
  /** Training augmentation of the teacher and its fine-tunes. */
  teacherAugmentation: AugmentOptions | false;
  /** Both fine-tunes of the teacher (MCMI and the λ = 0 control) use this schedule. */
  fineTuneEpochs: number;
  fineTuneLearningRate: number;
  /**
   * λ of CE − λ·CMI. On 10 classes the objective collapses between λ = 0.4 and 0.5 for a well-trained teacher
   * (the teacher learns to predict a class its true class's centroid gives almost no mass); 0.3 stays below.
   */
  lambda: number;
  /** The student's architecture (a zoo name); `studentHiddenSizes` are the hidden widths when it is `mlp`. */
  student: string;
  studentHiddenSizes: readonly number[];
  /** Few-shot: the fraction of the training slice each student sees (class-stratified, drawn per seed). */
  studentFraction: number;
  studentEpochs: number;
  /** Student samples per epoch: the few-shot subset is cycled to this length so every student takes as many steps. */
  studentEpochLength: number;
  studentLearningRate: number;
  /**
   * Training augmentation of the students: on a few-shot subset every augmented view gets the teacher's soft label,
   * which is where a teacher has the most to add.
   */
  studentAugmentation: AugmentOptions | false;
  /** The KD students' loss, L = ceWeight·CE + kdWeight·T²·KL(softmax(t/T) ‖ softmax(s/T)) (Hinton et al., 2015). */
  distillation: { ceWeight: number; kdWeight: number; temperature: number };
  /** One student per seed and arm; the same seed gives every arm the same subset, initial weights and order. */
  studentSeeds: readonly number[];
  batchSize: number;
  /** Seed of the teacher's weights and data order. */
  seed: number;
  /** Test images in the Eigen-CAM grid. */
  camImages: number;
  /** Where the progress lines go (one per stage, with the ETA of the whole quick start); none when undefined. */
  log?: (line: string) => void;
}

export const defaultConfig: Omit<QuickstartConfig, 'dataDir' | 'outDir'> = {
  trainSize: 3000,
  testSize: 1000,
  teacher: 'resnet8',
  teacherEpochs: 8,
  teacherLearningRate: 0.1,
  teacherAugmentation: { horizontalFlip: true },
  fineTuneEpochs: 2,
  fineTuneLearningRate: 0.01,
  lambda: 0.3,
  student: 'mlp',
  studentHiddenSizes: [64],
  studentFraction: 0.05,
  studentEpochs: 4,
  studentEpochLength: 1500,
  studentLearningRate: 0.05,
  studentAugmentation: { randomCrop: { padding: 2 }, horizontalFlip: true },
  // RepDistiller's weights; T = 2 rather than its CIFAR-100 T = 4: with 10 classes T = 4 flattens the teacher's
  // distribution more, and measured here the KD students gained about 3 points at T = 4 and 5 at T = 2.
  distillation: { ceWeight: 0.1, kdWeight: 0.9, temperature: 2 },
  studentSeeds: [1, 2, 3],
  batchSize: 64,
  seed: 1,
  camImages: 8,
};

/** Test accuracy, fraction in [0, 1]. */
export interface TeacherRow {
  role: TeacherRole;
  label: string;
  testAccuracy: number;
  /** The teacher's CMI on the training slice, eval mode, nats. */
  cmi: number;
}

export type TeacherRole = 'mll' | 'control' | 'mcmi';
export type StudentArm = 'none' | TeacherRole;

export interface StudentRow {
  arm: StudentArm;
  label: string;
  /** Last-epoch test accuracy per seed. */
  accuracyBySeed: Map<number, number>;
  mean: number;
  std: number;
}

export interface QuickstartResult {
  teachers: TeacherRow[];
  students: StudentRow[];
  /** The three answers, one line each: does a teacher help, what MCMI does to the teacher, better student? */
  summary: [string, string, string];
  /** The table (markdown) and the summary lines, as printed. */
  table: string;
  /** The files written: results.md, results.json, the Eigen-CAM grid and the curves. */
  files: { results: string; json: string; camGrid: string; curves: string };
  parameters: { teacher: number; student: number };
  studentTrainSize: number;
  seconds: number;
}

async function loadSplit(dataDir: string, prefix: 'train' | 't10k', count: number): Promise<Dataset> {
  const read = async (kind: 'images-idx3' | 'labels-idx1') => {
    const name = `${prefix}-${kind}-ubyte.gz`;
    return { name, bytes: new Uint8Array(await readFile(join(dataDir, name))) };
  };
  const full = decodeIdxDataset({
    images: await read('images-idx3'),
    labels: await read('labels-idx1'),
    classNames: FASHION_MNIST_CLASS_NAMES,
  });
  if (count > full.labels.length) {
    throw new Error(`quickstart: asked for ${count} ${prefix} images, ${dataDir} holds ${full.labels.length}`);
  }
  const pixels = full.height * full.width;
  return {
    ...full,
    images: full.images.slice(0, count * pixels),
    labels: full.labels.slice(0, count),
    indices: full.indices.slice(0, count),
  };
}

/** Normalised float images `[N, 28, 28, 1]` of the first `count` test images, for the CAM pictures. */
function testImages(test: Dataset, count: number): tf.Tensor4D {
  return tf.tidy(() => {
    const pixels = test.height * test.width * test.channels;
    const raw = tf.tensor4d(
      test.images.slice(0, count * pixels),
      [count, test.height, test.width, test.channels],
      'int32',
    );
    const scaled = tf.div(tf.cast(raw, 'float32'), 255);
    const { mean: center, std } = FASHION_MNIST_NORMALIZATION;
    return tf.div(tf.sub(scaled, tf.tensor1d([...center])), tf.tensor1d([...std])) as tf.Tensor4D;
  });
}

/** Eigen-CAM of the last convolutional stage (the feature before the pooled vector) over each image. */
function camRow(model: KdModel, images: tf.Tensor4D, pictures: RasterImage[]): RasterImage[] {
  const maps = tf.tidy(() => {
    const { features } = model.apply(images, { training: false });
    const lastStage = features[features.length - 2];
    if (lastStage === undefined) throw new Error(`quickstart: ${model.name} exposes no convolutional stage`);
    return eigenCam(lastStage);
  });
  const heatMaps = heatMapsFromTensor(maps);
  maps.dispose();
  return heatMaps.map((map, index) =>
    camOverlay(pictures[index] as RasterImage, map, { colorMap: 'jet', alpha: 0.45 }),
  );
}

const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
/** Percentage points with their sign, rounded to 0.1 first so a rounding residue never prints as −0.0. */
const points = (value: number) => {
  const rounded = Math.round(1000 * value) / 10;
  return `${rounded >= 0 ? '+' : '−'}${Math.abs(rounded).toFixed(1)}`;
};

/**
 * One sentence on a paired difference: how large it is, and whether it stands out of the seed-to-seed spread. With n
 * seeds, "clearly" needs the paired t above Student's 95 % critical value; a gap larger than the spread but below
 * that is reported as a hint only.
 */
export function describeDifference(difference: PairedDifference): string {
  const n = difference.differences.length;
  const gap = `${points(difference.mean)} ± ${(100 * difference.std).toFixed(1)} points (paired over ${n} seeds, t = ${difference.t.toFixed(1).replace('-', '−')})`;
  if (difference.significant)
    return `${gap}: larger than the seed-to-seed spread (|t| > ${tCritical95(n - 1).toFixed(2)}, 95 % two-sided)`;
  if (difference.exceedsSpread)
    return `${gap}: larger than its spread but not significant with ${n} seeds (|t| ≤ ${tCritical95(n - 1).toFixed(2)}): a hint, not a finding`;
  return `${gap}: within the seed-to-seed spread, so no difference is shown at this scale`;
}

/** The three summary lines, from the table's numbers (the only place they are worded). */
export function summarise(teachers: readonly TeacherRow[], students: readonly StudentRow[]): [string, string, string] {
  const teacher = (role: TeacherRole) => teachers.find((row) => row.role === role) as TeacherRow;
  const arm = (name: StudentArm) => (students.find((row) => row.arm === name) as StudentRow).accuracyBySeed;
  const [mll, control, mcmi] = [teacher('mll'), teacher('control'), teacher('mcmi')];
  const cmiChange = (mcmi.cmi - control.cmi) / control.cmi;
  const accuracyChange = mcmi.testAccuracy - control.testAccuracy;
  return [
    `1. Does a teacher help? KD from the MLL teacher vs the same student without a teacher: ${describeDifference(pairedDifference(arm('mll'), arm('none')))}.`,
    `2. What does MCMI do to the teacher? CMI ${control.cmi.toFixed(4)} → ${mcmi.cmi.toFixed(4)} nats (${cmiChange >= 0 ? '+' : '−'}${Math.abs(100 * cmiChange).toFixed(1)} % ` +
      `over the λ = 0 control of the same length; the MLL teacher: ${mll.cmi.toFixed(4)}), test accuracy ${percent(control.testAccuracy)} → ${percent(mcmi.testAccuracy)} ` +
      `(${points(accuracyChange)} points); one teacher each, so there is no spread to compare with.`,
    `3. Does the MCMI teacher make a better student? KD from MCMI vs KD from the control: ${describeDifference(pairedDifference(arm('mcmi'), arm('control')))}; ` +
      `vs KD from MLL: ${points(pairedDifference(arm('mcmi'), arm('mll')).mean)} points.`,
  ];
}

export function formatTable(
  result: Pick<QuickstartResult, 'teachers' | 'students' | 'summary' | 'studentTrainSize'>,
  config: QuickstartConfig,
): string {
  const seeds = config.studentSeeds.length;
  return [
    `| teacher (${config.teacher}, ${config.trainSize.toLocaleString('en')} training images) | test acc. | CMI (nats, train) |`,
    '|---|---|---|',
    ...result.teachers.map((row) => `| ${row.label} | ${percent(row.testAccuracy)} | ${row.cmi.toFixed(4)} |`),
    '',
    `| student (${config.student === 'mlp' ? `mlp ${config.studentHiddenSizes.join('-')}` : config.student}, ${result.studentTrainSize} training images, ${seeds} seeds) | test acc., mean ± std |`,
    '|---|---|',
    ...result.students.map((row) => `| ${row.label} | ${percent(row.mean)} ± ${(100 * row.std).toFixed(1)} |`),
    '',
    ...result.summary,
  ].join('\n');
}

/** A stage of the quick start, with its cost predicted from measured step times, for the ETA. */
interface Stage {
  label: string;
  predictedSeconds: number;
  run: () => Promise<string>;
}

function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

/** Seconds of one training step (forward and gradients) and of one inference batch, after an untimed warm-up. */
function measureStepSeconds(model: KdModel, batch: tf.Tensor4D): { train: number; infer: number } {
  const labels = tf.tidy(() => tf.oneHot(tf.zeros([batch.shape[0]], 'int32') as tf.Tensor1D, model.numClasses));
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(labels, model.apply(batch, { training: true }).logits) as tf.Scalar,
        model.trainableVariables,
      );
      tf.dispose(grads);
      return value.dataSync();
    });
  const infer = () => tf.tidy(() => model.apply(batch, { training: false }).logits.dataSync());
  // Training mode updates BN running statistics: keep them so the probe leaves the model as it was.
  const saved = model.nonTrainableVariables.map((variable) => tf.clone(variable));
  try {
    step();
    infer();
    // The fastest of three: a single timing is at the mercy of whatever else the machine does.
    const fastest = (run: () => unknown) => {
      let best = Number.POSITIVE_INFINITY;
      for (let repeat = 0; repeat < 3; repeat++) {
        const start = performance.now();
        run();
        best = Math.min(best, (performance.now() - start) / 1000);
      }
      return best;
    };
    return { train: fastest(step), infer: fastest(infer) };
  } finally {
    model.nonTrainableVariables.forEach((variable, index) => variable.assign(saved[index] as tf.Tensor));
    tf.dispose([...saved, labels]);
  }
}

function lastTestAccuracy(result: TrainingResult): number {
  const value = result.last.test?.top1;
  if (value === undefined) throw new Error('quickstart: a run finished without a test evaluation');
  return value;
}

function requireExtra(result: TrainingResult, key: string, run: string): number {
  const value = result.last.extra[key];
  if (value === undefined) throw new Error(`quickstart: ${run} did not record ${key}`);
  return value;
}

/**
 * Runs the whole quick start and returns the table. Reruns resume finished and interrupted runs from `outDir`.
 *
 * @example
 * const { table } = await trainAndEvaluate({ ...defaultConfig, dataDir: 'data', outDir: 'runs/quickstart', log: console.log });
 */
export async function trainAndEvaluate(config: QuickstartConfig): Promise<QuickstartResult> {
  const started = Date.now();
  const log = config.log ?? (() => undefined);
  const train = await loadSplit(config.dataDir, 'train', config.trainSize);
  const test = await loadSplit(config.dataDir, 't10k', config.testSize);
  const common = {
    batchSize: config.batchSize,
    normalization: FASHION_MNIST_NORMALIZATION,
    resume: 'auto' as const,
    progress: false,
  };
  const store = (name: string) => directoryStore(join(config.outDir, name));
  const inputShape = [train.height, train.width, train.channels] as const;
  const newTeacher = () =>
    createModel(config.teacher, { numClasses: train.numClasses, seed: config.seed, inputChannels: train.channels });
  const newStudent = (seed: number) =>
    createModel(config.student, {
      numClasses: train.numClasses,
      seed,
      inputChannels: train.channels,
      ...(config.student === 'mlp' ? { inputShape, hiddenSizes: config.studentHiddenSizes } : {}),
    });
  const studentSets = new Map(
    config.studentSeeds.map((seed) => [
      seed,
      fewShotSubset(train, { fraction: config.studentFraction, mode: 'stratified', seed }),
    ]),
  );
  const studentTrainSize = (studentSets.get(config.studentSeeds[0] as number) as Dataset).labels.length;

  const teachers = new Map<TeacherRole, KdModel>();
  const live: KdModel[] = [];
  try {
    for (const role of ['mll', 'control', 'mcmi'] as const) {
      const model = newTeacher();
      live.push(model);
      teachers.set(role, model);
    }
    const mllTeacher = teachers.get('mll') as KdModel;

    // Predicted seconds per stage from one measured step of each model: the ETA of the whole quick start.
    const probe = tf.zeros([config.batchSize, train.height, train.width, train.channels]) as tf.Tensor4D;
    const probeStudent = newStudent(0);
    const teacherCost = measureStepSeconds(mllTeacher, probe);
    const studentCost = measureStepSeconds(probeStudent, probe);
    const studentParameters = probeStudent.countParams();
    probeStudent.dispose();
    probe.dispose();
    const batches = (count: number) => Math.ceil(count / config.batchSize);
    const testPass = batches(config.testSize) * teacherCost.infer;
    const trainPass = batches(config.trainSize) * teacherCost.infer;
    const studentSteps = config.studentEpochs * batches(config.studentEpochLength);

    const results = new Map<string, TrainingResult>();
    const stages: Stage[] = [];
    stages.push({
      label: `MLL teacher: ${config.teacher}, cross-entropy, ${config.teacherEpochs} epochs on ${config.trainSize} images`,
      predictedSeconds: config.teacherEpochs * (batches(config.trainSize) * teacherCost.train + testPass),
      run: async () => {
        const result = await trainSupervised({
          ...common,
          model: mllTeacher,
          data: { train, test },
          seed: config.seed,
          epochs: config.teacherEpochs,
          learningRate: config.teacherLearningRate,
          schedule: { kind: 'cosine' },
          augmentation: config.teacherAugmentation,
          store: store('teacher-mll'),
        });
        results.set('teacher-mll', result);
        return `test ${percent(lastTestAccuracy(result))}`;
      },
    });
    for (const role of ['control', 'mcmi'] as const) {
      const lambda = role === 'mcmi' ? config.lambda : 0;
      stages.push({
        label: `${role === 'mcmi' ? 'MCMI teacher' : 'control teacher'}: fine-tune with λ = ${lambda}, ${config.fineTuneEpochs} epochs`,
        // Training steps, the centroid pass and one CMI pass before and after each epoch, test passes.
        predictedSeconds:
          config.fineTuneEpochs * (batches(config.trainSize) * teacherCost.train + testPass + trainPass) +
          2 * trainPass * 2,
        run: async () => {
          const model = teachers.get(role) as KdModel;
          loadWeights(model, await saveWeights(mllTeacher));
          const result = await fineTuneTeacherMcmi({
            ...common,
            model,
            data: { train, test },
            seed: config.seed,
            lambda,
            epochs: config.fineTuneEpochs,
            learningRate: config.fineTuneLearningRate,
            augmentation: config.teacherAugmentation,
            store: store(`teacher-${role}-lambda${lambda}`),
          });
          results.set(`teacher-${role}`, result);
          return `test ${percent(lastTestAccuracy(result))}, CMI ${requireExtra(result, 'teacherCmi', role).toFixed(4)} nats`;
        },
      });
    }
    const studentArms: StudentArm[] = ['none', 'mll', 'control', 'mcmi'];
    for (const seed of config.studentSeeds) {
      for (const arm of studentArms) {
        const name = `student-${arm === 'none' ? 'no-teacher' : `kd-from-${arm}`}-seed${seed}`;
        stages.push({
          label: `student ${arm === 'none' ? 'without a teacher' : `by KD from the ${arm === 'mll' ? 'MLL' : arm === 'mcmi' ? 'MCMI' : 'control'} teacher`}, seed ${seed}`,
          predictedSeconds:
            studentSteps * (studentCost.train + (arm === 'none' ? 0 : teacherCost.infer)) +
            (config.studentEpochs * testPass) / 4,
          run: async () => {
            const student = newStudent(seed);
            try {
              const data = { train: studentSets.get(seed) as Dataset, test };
              const schedule = { kind: 'cosine' as const };
              const options = {
                ...common,
                data,
                seed,
                epochs: config.studentEpochs,
                epochLength: config.studentEpochLength,
                learningRate: config.studentLearningRate,
                schedule,
                augmentation: config.studentAugmentation,
                store: store(name),
              };
              const result =
                arm === 'none'
                  ? await trainSupervised({ ...options, model: student })
                  : await distillStudent({
                      ...options,
                      student,
                      teacher: teachers.get(arm) as KdModel,
                      measureTeacherCmi: false,
                      objectives: [
                        { method: 'ce', weight: config.distillation.ceWeight },
                        {
                          method: 'kd',
                          weight: config.distillation.kdWeight,
                          options: { temperature: config.distillation.temperature },
                        },
                      ],
                    });
              results.set(name, result);
              return `test ${percent(lastTestAccuracy(result))}`;
            } finally {
              student.dispose();
            }
          },
        });
      }
    }

    let predictedLeft = stages.reduce((sum, stage) => sum + stage.predictedSeconds, 0);
    log(
      `quickstart: ${stages.length} stages, predicted ${formatDuration(predictedLeft)} (from measured steps of each model)`,
    );
    // Scale the prediction of what is left by how the stages that trained ran against theirs. A stage that took
    // under a tenth of its prediction was resumed from a finished checkpoint and says nothing about speed.
    let predictedTrained = 0;
    let actualTrained = 0;
    for (const [index, stage] of stages.entries()) {
      const stageStart = Date.now();
      const outcome = await stage.run();
      const seconds = (Date.now() - stageStart) / 1000;
      predictedLeft -= stage.predictedSeconds;
      if (seconds >= 0.1 * stage.predictedSeconds) {
        predictedTrained += stage.predictedSeconds;
        actualTrained += seconds;
      }
      const elapsed = (Date.now() - started) / 1000;
      const remaining = predictedLeft * (predictedTrained > 0 ? actualTrained / predictedTrained : 1);
      log(
        `[${String(index + 1).padStart(2)}/${stages.length}] ${stage.label}: ${outcome} ` +
          `(${seconds.toFixed(1)} s) · elapsed ${formatDuration(elapsed)} · ETA ${formatDuration(remaining)}`,
      );
    }

    const teacherRun = (role: TeacherRole) =>
      results.get(role === 'mll' ? 'teacher-mll' : `teacher-${role}`) as TrainingResult;
    const control = teacherRun('control');
    const teacherRows: TeacherRow[] = [
      // The MLL teacher's CMI is what the fine-tunes measured before their first step (eval mode, training slice).
      {
        role: 'mll',
        label: 'MLL (cross-entropy)',
        testAccuracy: lastTestAccuracy(teacherRun('mll')),
        cmi: requireExtra(control, 'initialTeacherCmi', 'control'),
      },
      {
        role: 'control',
        label: `control (fine-tune, λ = 0)`,
        testAccuracy: lastTestAccuracy(control),
        cmi: requireExtra(control, 'teacherCmi', 'control'),
      },
      {
        role: 'mcmi',
        label: `MCMI (fine-tune, λ = ${config.lambda})`,
        testAccuracy: lastTestAccuracy(teacherRun('mcmi')),
        cmi: requireExtra(teacherRun('mcmi'), 'teacherCmi', 'mcmi'),
      },
    ];
    const armLabels: Record<StudentArm, string> = {
      none: 'no teacher',
      mll: 'KD ← MLL teacher',
      control: 'KD ← control teacher',
      mcmi: 'KD ← MCMI teacher',
    };
    const studentRuns = (arm: StudentArm) =>
      config.studentSeeds.map(
        (seed) =>
          [
            seed,
            results.get(`student-${arm === 'none' ? 'no-teacher' : `kd-from-${arm}`}-seed${seed}`) as TrainingResult,
          ] as const,
      );
    const studentRows: StudentRow[] = studentArms.map((arm) => {
      const accuracyBySeed = new Map(studentRuns(arm).map(([seed, result]) => [seed, lastTestAccuracy(result)]));
      const values = [...accuracyBySeed.values()];
      return { arm, label: armLabels[arm], accuracyBySeed, mean: mean(values), std: sampleStd(values) };
    });
    const summary = summarise(teacherRows, studentRows);
    const table = formatTable({ teachers: teacherRows, students: studentRows, summary, studentTrainSize }, config);

    // Pictures: Eigen-CAM of the MLL and MCMI teachers on the same test images, and the accuracy curves.
    const camImages = testImages(test, config.camImages);
    const pictures = Array.from({ length: config.camImages }, (_, index) => {
      const image = tf.tidy(() => {
        const one = tf.slice(camImages, [index, 0, 0, 0], [1, -1, -1, -1]);
        // 3× so the maps and the column labels are readable.
        return tf.squeeze(tf.image.resizeNearestNeighbor(one, [3 * test.height, 3 * test.width]), [0]);
      });
      const picture = imageFromTensor(image);
      image.dispose();
      return picture;
    });
    const grid = renderGrid({
      rows: [
        { label: 'input', images: pictures },
        { label: 'MLL teacher', images: camRow(mllTeacher, camImages, pictures) },
        { label: 'MCMI teacher', images: camRow(teachers.get('mcmi') as KdModel, camImages, pictures) },
      ],
      columnLabels: Array.from(
        test.labels.slice(0, config.camImages),
        (label) => FASHION_MNIST_CLASS_NAMES[label] ?? String(label),
      ),
      title: `Eigen-CAM, last conv stage of ${config.teacher}`,
      textScale: 1,
    });
    camImages.dispose();
    const files = {
      results: join(config.outDir, 'results.md'),
      json: join(config.outDir, 'results.json'),
      camGrid: join(config.outDir, 'eigencam-teachers.png'),
      curves: join(config.outDir, 'curves.png'),
    };
    await writePng(files.camGrid, grid);

    const testCurve = (result: TrainingResult, offset: number) =>
      result.history.map((epoch) => [offset + epoch.epoch, epoch.test?.top1 ?? Number.NaN] as const);
    const meanStudentCurve = (arm: StudentArm) =>
      Array.from(
        { length: config.studentEpochs },
        (_, index) =>
          [
            index + 1,
            mean(studentRuns(arm).map(([, result]) => result.history[index]?.test?.top1 ?? Number.NaN)),
          ] as const,
      );
    // Two panels: the teachers over their epochs (the fine-tunes continue from the MLL teacher's last epoch), and
    // the students' mean over seeds.
    const teacherPlot = renderLinePlot({
      series: [
        { name: 'MLL teacher', points: testCurve(teacherRun('mll'), 0) },
        {
          name: 'control teacher (lambda = 0)',
          points: [...testCurve(teacherRun('mll'), 0).slice(-1), ...testCurve(control, config.teacherEpochs)],
        },
        {
          name: `MCMI teacher (lambda = ${config.lambda})`,
          points: [
            ...testCurve(teacherRun('mll'), 0).slice(-1),
            ...testCurve(teacherRun('mcmi'), config.teacherEpochs),
          ],
        },
      ],
      title: `teachers (${config.teacher}, ${config.trainSize} images)`,
      yRange: [0, 1],
      xLabel: 'epoch',
      yLabel: 'test top-1',
    });
    const studentPlot = renderLinePlot({
      series: studentArms.map((arm) => ({
        name:
          arm === 'none'
            ? 'no teacher'
            : `KD from ${arm === 'mll' ? 'MLL' : arm === 'mcmi' ? 'MCMI' : 'control'} teacher`,
        points: meanStudentCurve(arm),
      })),
      title: `students (${studentTrainSize} images, mean of ${config.studentSeeds.length} seeds)`,
      yRange: [0, 1],
      xLabel: 'epoch',
      yLabel: 'test top-1',
    });
    const plot = renderGrid({
      rows: [{ label: '', images: [teacherPlot, studentPlot] }],
      title: 'Fashion-MNIST quick start: test accuracy per epoch',
    });
    await writePng(files.curves, plot);

    const seconds = (Date.now() - started) / 1000;
    await writeFile(files.results, `# Quick start results\n\n${table}\n`);
    await writeFile(
      files.json,
      `${JSON.stringify(
        {
          config: { ...config, log: undefined },
          teachers: teacherRows,
          students: studentRows.map((row) => ({ ...row, accuracyBySeed: Object.fromEntries(row.accuracyBySeed) })),
          summary,
          seconds,
        },
        null,
        2,
      )}\n`,
    );
    return {
      teachers: teacherRows,
      students: studentRows,
      summary,
      table,
      files,
      parameters: { teacher: mllTeacher.countParams(), student: studentParameters },
      studentTrainSize,
      seconds,
    };
  } finally {
    for (const model of live) model.dispose();
  }
}
