/**
 * The quick start, top to bottom: on a bundled slice of Fashion-MNIST,
 *   1. train a teacher by cross-entropy (MLL),
 *   2. fine-tune a copy of it with MCMI: L = CE − λ·CMI with fixed full-pass centroids,
 *   3. distill one student from each teacher with Hinton KD (0.1·CE + 0.9·KD, T = 4),
 *   4. print a table, write Eigen-CAM maps of both teachers and the training curves.
 * Every run lives in its own directory with checkpoints, so an interrupted quick start resumes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { camOverlay, eigenCam, heatMapsFromTensor, imageFromTensor, renderGrid, renderLinePlot, type RasterImage } from '@kd/cam';
import { writePng } from '@kd/cam/node';
import { FASHION_MNIST_CLASS_NAMES, FASHION_MNIST_NORMALIZATION, decodeIdxDataset, type Dataset } from '@kd/data';
import { createModel, loadWeights, saveWeights, type KdModel } from '@kd/models';
import { distillStudent, fineTuneTeacherMCMI, trainTeacher, type TrainingResult } from '@kd/trainer';
import { directoryStore } from '@kd/trainer/node';

/** Everything the quick start does is set here (flags override it in main.ts). */
export interface QuickstartConfig {
  /** Folder with the four Fashion-MNIST IDX .gz files. */
  dataDir: string;
  /** Where runs, the table and the pictures go. */
  outDir: string;
  /** Use the first N training / test images (the bundle holds 3000 / 1000). */
  trainSize: number;
  testSize: number;
  teacher: string;
  student: string;
  teacherEpochs: number;
  mcmiEpochs: number;
  studentEpochs: number;
  batchSize: number;
  teacherLearningRate: number;
  mcmiLearningRate: number;
  studentLearningRate: number;
  /** λ of CE − λ·CMI. 10 classes collapse at λ ≈ 0.5 (research note §4); 0.25 is the paper's default. */
  lambda: number;
  seed: number;
  /** Test images in the Eigen-CAM grid. */
  camImages: number;
  /** Console progress bars. */
  progress: boolean;
}

export const defaultConfig: Omit<QuickstartConfig, 'dataDir' | 'outDir'> = {
  trainSize: 3000,
  testSize: 1000,
  teacher: 'resnet14',
  student: 'resnet8',
  teacherEpochs: 4,
  mcmiEpochs: 2,
  studentEpochs: 3,
  batchSize: 64,
  teacherLearningRate: 0.05,
  mcmiLearningRate: 0.01,
  studentLearningRate: 0.05,
  lambda: 0.25,
  seed: 1,
  camImages: 8,
  progress: true,
};

export interface QuickstartRow {
  teacher: string;
  teacherAccuracy: number;
  teacherCmi: number;
  studentAccuracy: number;
  studentBestAccuracy: number;
}

export interface QuickstartResult {
  rows: QuickstartRow[];
  table: string;
  files: string[];
  parameters: { teacher: number; student: number };
  seconds: number;
}

async function loadSplit(dataDir: string, prefix: 'train' | 't10k', count: number): Promise<Dataset> {
  const read = async (kind: 'images-idx3' | 'labels-idx1') => {
    const name = `${prefix}-${kind}-ubyte.gz`;
    return { name, bytes: new Uint8Array(await readFile(join(dataDir, name))) };
  };
  const full = decodeIdxDataset({ images: await read('images-idx3'), labels: await read('labels-idx1'), classNames: FASHION_MNIST_CLASS_NAMES });
  if (count > full.labels.length) {
    throw new Error(`quickstart: asked for ${count} ${prefix} images, ${dataDir} holds ${full.labels.length}`);
  }
  // Native 28×28: the zoo's ResNets end in a global average pool, so they take it as it is (7×7 last stage).
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
    const raw = tf.tensor4d(test.images.slice(0, count * pixels), [count, test.height, test.width, test.channels], 'int32');
    const scaled = tf.div(tf.cast(raw, 'float32'), 255);
    const { mean, std } = FASHION_MNIST_NORMALIZATION;
    return tf.div(tf.sub(scaled, tf.tensor1d([...mean])), tf.tensor1d([...std])) as tf.Tensor4D;
  });
}

/** Eigen-CAM of the last convolutional stage (features[-2]) over each image. */
function camRow(model: KdModel, images: tf.Tensor4D, pictures: RasterImage[]): RasterImage[] {
  const maps = tf.tidy(() => {
    const { features } = model.apply(images, { training: false });
    const lastStage = features[features.length - 2];
    if (lastStage === undefined) throw new Error(`quickstart: ${model.name} exposes no convolutional stage`);
    return eigenCam(lastStage);
  });
  const heatMaps = heatMapsFromTensor(maps);
  maps.dispose();
  return heatMaps.map((map, index) => camOverlay(pictures[index] as RasterImage, map, { colorMap: 'jet', alpha: 0.45 }));
}

function formatTable(rows: QuickstartRow[]): string {
  const percent = (value: number) => `${(100 * value).toFixed(2)}%`;
  const lines = [
    '| teacher | teacher test acc. | teacher CMI (nats, train) | KD student test acc. (last) | (best) |',
    '|---|---|---|---|---|',
    ...rows.map((row) => `| ${row.teacher} | ${percent(row.teacherAccuracy)} | ${row.teacherCmi.toFixed(4)} | ${percent(row.studentAccuracy)} | ${percent(row.studentBestAccuracy)} |`),
  ];
  return lines.join('\n');
}

function curve(result: TrainingResult, offset: number): Array<readonly [number, number]> {
  return result.history.map((epoch) => [offset + epoch.epoch, epoch.test?.top1 ?? Number.NaN] as const);
}

/**
 * Runs the whole quick start and returns the table. Reruns resume finished and interrupted runs from `outDir`.
 *
 * @example
 * const { table } = await trainAndEvaluate({ ...defaultConfig, dataDir: 'data', outDir: 'runs/quickstart' });
 */
export async function trainAndEvaluate(config: QuickstartConfig): Promise<QuickstartResult> {
  const started = Date.now();
  const train = await loadSplit(config.dataDir, 'train', config.trainSize);
  const test = await loadSplit(config.dataDir, 't10k', config.testSize);
  const data = { train, test };
  const common = {
    data,
    batchSize: config.batchSize,
    normalization: FASHION_MNIST_NORMALIZATION,
    seed: config.seed,
    resume: 'auto' as const,
    progress: config.progress,
  };
  const run = (name: string) => directoryStore(join(config.outDir, name));

  const mllTeacher = createModel(config.teacher, { numClasses: 10, seed: config.seed, inputChannels: 1 });
  const mcmiTeacher = createModel(config.teacher, { numClasses: 10, seed: config.seed, inputChannels: 1 });
  const students: KdModel[] = [];
  const cleanup: KdModel[] = [mllTeacher, mcmiTeacher];
  try {
    const mll = await trainTeacher({
      ...common,
      model: mllTeacher,
      epochs: config.teacherEpochs,
      learningRate: config.teacherLearningRate,
      schedule: { kind: 'cosine' },
      store: run('teacher-mll'),
    });
    loadWeights(mcmiTeacher, await saveWeights(mllTeacher));
    const mcmi = await fineTuneTeacherMCMI({
      ...common,
      model: mcmiTeacher,
      lambda: config.lambda,
      epochs: config.mcmiEpochs,
      learningRate: config.mcmiLearningRate,
      store: run(`teacher-mcmi-lambda${config.lambda}`),
    });

    const rows: QuickstartRow[] = [];
    const studentResults: Array<[string, TrainingResult]> = [];
    for (const [label, teacher, teacherResult] of [
      ['MLL (cross-entropy)', mllTeacher, mll],
      [`MCMI (λ = ${config.lambda})`, mcmiTeacher, mcmi],
    ] as const) {
      const student = createModel(config.student, { numClasses: 10, seed: config.seed + 1, inputChannels: 1 });
      students.push(student);
      const result = await distillStudent({
        ...common,
        student,
        teacher,
        epochs: config.studentEpochs,
        learningRate: config.studentLearningRate,
        schedule: { kind: 'cosine' },
        objectives: [
          { method: 'ce', weight: 0.1 },
          { method: 'kd', weight: 0.9, options: { temperature: 4 } },
        ],
        store: run(`student-kd-from-${teacherResult === mll ? 'mll' : 'mcmi'}`),
      });
      studentResults.push([label, result]);
      rows.push({
        teacher: label,
        teacherAccuracy: teacherResult.last.test?.top1 ?? Number.NaN,
        teacherCmi: result.last.extra.teacherCmi ?? Number.NaN,
        studentAccuracy: result.last.test?.top1 ?? Number.NaN,
        studentBestAccuracy: result.best.test?.top1 ?? Number.NaN,
      });
    }

    // Pictures: Eigen-CAM of both teachers on the same test images, and the accuracy curves.
    const files: string[] = [];
    const images = testImages(test, config.camImages);
    // Pictures at 3× so the maps and the column labels are readable.
    const pictures = Array.from({ length: config.camImages }, (_, index) => {
      const image = tf.tidy(() => {
        const one = tf.slice(images, [index, 0, 0, 0], [1, -1, -1, -1]);
        return tf.squeeze(tf.image.resizeNearestNeighbor(one, [3 * test.height, 3 * test.width]), [0]);
      });
      const picture = imageFromTensor(image);
      image.dispose();
      return picture;
    });
    const grid = renderGrid({
      rows: [
        { label: 'input', images: pictures },
        { label: 'MLL teacher', images: camRow(mllTeacher, images, pictures) },
        { label: 'MCMI teacher', images: camRow(mcmiTeacher, images, pictures) },
      ],
      columnLabels: Array.from(test.labels.slice(0, config.camImages), (label) => FASHION_MNIST_CLASS_NAMES[label] ?? String(label)),
      title: `Eigen-CAM, last conv stage of ${config.teacher}`,
      textScale: 1,
    });
    images.dispose();
    const camFile = join(config.outDir, 'eigencam-teachers.png');
    await writePng(camFile, grid);
    files.push(camFile);

    const teacherEpochs = config.teacherEpochs;
    const plot = renderLinePlot({
      series: [
        { name: 'MLL teacher', points: curve(mll, 0) },
        { name: 'MCMI teacher (fine-tune)', points: curve(mcmi, teacherEpochs) },
        ...studentResults.map(([label, result]) => ({ name: `KD student from ${label.split(' ')[0]}`, points: curve(result, 0) })),
      ],
      title: 'Fashion-MNIST quick start: test accuracy per epoch',
      yRange: [0, 1],
      xLabel: 'epoch',
      yLabel: 'test top-1',
    });
    const curvesFile = join(config.outDir, 'curves.png');
    await writePng(curvesFile, plot);
    files.push(curvesFile);

    return {
      rows,
      table: formatTable(rows),
      files,
      parameters: { teacher: mllTeacher.countParams(), student: (students[0] as KdModel).countParams() },
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    for (const model of [...cleanup, ...students]) model.dispose();
  }
}

