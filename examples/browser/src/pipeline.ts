/**
 * The quick start's protocol (examples/quickstart) for the browser, one stage after the other, each with its
 * own checkpoints in the run store so that a reload resumes where the last checkpoint left off:
 *   1. a teacher trained by cross-entropy (MLL), its CMI measured after every epoch;
 *   2. a copy fine-tuned with MCMI, L = CE − λ·CMI;
 *   3. a Hinton KD student (0.1·CE + 0.9·KD, T = 4) from each teacher;
 *   4. Eigen-CAM of both teachers on the same test images, the table, the students' weights.
 * Nothing here touches the DOM: the worker runs it, and it runs in Node as well.
 */
import * as tf from '@tensorflow/tfjs-core';
import { camOverlay, eigenCam } from '@kd/cam';
import { encodePng, heatMapsFromTensor, imageFromTensor, renderGrid, type RasterImage } from '@kd/plot';
import {
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_NORMALIZATION,
  createLoader,
  decodeIdxDataset,
  type Dataset,
} from '@kd/data';
import { createModel, loadWeights, saveSafetensors, saveWeights, type KdModel } from '@kd/models';
import {
  distillStudent,
  fineTuneTeacherMcmi,
  measureClassConditionalStatistics,
  prefixedStore,
  trainSupervised,
  type EpochRecord,
  type LoaderFactory,
  type RunStore,
  type StepInfo,
  type TrainingResult,
} from '@kd/trainer';
import type { RunConfig } from './presets';
import { runFiles, type EpochEntry, type ResultRow, type RunResult, type Stage } from './protocol';

/** The four IDX files of the bundled slice (gzipped bytes). */
export interface BundledFiles {
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages: Uint8Array;
  testLabels: Uint8Array;
}

export interface PipelineHooks {
  onStage(stage: Stage): void | Promise<void>;
  onStep(stage: Stage, info: StepInfo): void | Promise<void>;
  /** Called once per finished epoch (again for an epoch redone after a reload: replace by stage and epoch). */
  onEpoch(entry: EpochEntry): void | Promise<void>;
  /** The Eigen-CAM grid, once both teachers are trained. */
  onCam(image: RasterImage, png: Uint8Array): void | Promise<void>;
}

export interface PipelineOptions {
  runId: string;
  config: RunConfig;
  files: BundledFiles;
  store: RunStore;
  hooks: PipelineHooks;
  signal?: AbortSignal;
}

function firstImages(full: Dataset, count: number, split: string): Dataset {
  if (count > full.labels.length)
    throw new Error(`runPipeline: asked for ${count} ${split} images, the bundle holds ${full.labels.length}`);
  const pixels = full.height * full.width * full.channels;
  return {
    ...full,
    images: full.images.slice(0, count * pixels),
    labels: full.labels.slice(0, count),
    indices: full.indices.slice(0, count),
  };
}

/** Decodes the bundled slice and keeps the first `trainSize` / `testSize` images. */
export function decodeBundledSlice(
  files: BundledFiles,
  config: Pick<RunConfig, 'trainSize' | 'testSize'>,
): { train: Dataset; test: Dataset } {
  const decode = (images: Uint8Array, labels: Uint8Array, prefix: string) =>
    decodeIdxDataset({
      images: { name: `${prefix}-images-idx3-ubyte.gz`, bytes: images },
      labels: { name: `${prefix}-labels-idx1-ubyte.gz`, bytes: labels },
      classNames: FASHION_MNIST_CLASS_NAMES,
    });
  return {
    train: firstImages(decode(files.trainImages, files.trainLabels, 'train'), config.trainSize, 'training'),
    test: firstImages(decode(files.testImages, files.testLabels, 't10k'), config.testSize, 'test'),
  };
}

/** The teachers' training augmentation (the quick start's). */
const TEACHER_AUGMENTATION = { horizontalFlip: true };

/** The loader the trainer builds by default, without augmentation: for the evaluation passes here. */
const evaluationLoader: LoaderFactory = (dataset, options) =>
  createLoader(dataset, {
    batchSize: options.batchSize,
    shuffle: options.shuffle,
    seed: options.seed,
    dropLast: options.dropLast,
    epoch: options.epoch,
    normalize: FASHION_MNIST_NORMALIZATION,
  });

function entryOf(stage: Stage, record: EpochRecord, teacherCmi: number | undefined): EpochEntry {
  return {
    stage,
    epoch: record.epoch,
    losses: { ...record.train.losses },
    trainAccuracy: record.train.accuracy,
    testAccuracy: record.test?.top1 ?? Number.NaN,
    ...(teacherCmi === undefined ? {} : { teacherCmi }),
    imagesPerSecond: record.imagesPerSecond,
    seconds: record.seconds,
  };
}

/** Normalised float images `[N, 28, 28, 1]` of the first `count` test images. */
function normalisedTestImages(test: Dataset, count: number): tf.Tensor4D {
  return tf.tidy(() => {
    const pixels = test.height * test.width * test.channels;
    const raw = tf.tensor4d(
      test.images.slice(0, count * pixels),
      [count, test.height, test.width, test.channels],
      'int32',
    );
    const { mean, std } = FASHION_MNIST_NORMALIZATION;
    return tf.div(
      tf.sub(tf.div(tf.cast(raw, 'float32'), 255), tf.tensor1d([...mean])),
      tf.tensor1d([...std]),
    ) as tf.Tensor4D;
  });
}

/** Eigen-CAM of the last convolutional stage (features[-2]) over each image, overlaid on the pictures. */
function camRow(model: KdModel, images: tf.Tensor4D, pictures: RasterImage[]): RasterImage[] {
  const maps = tf.tidy(() => {
    const { features } = model.apply(images, { training: false });
    const lastStage = features[features.length - 2];
    if (lastStage === undefined) throw new Error(`runPipeline: ${model.name} exposes no convolutional stage`);
    return eigenCam(lastStage);
  });
  const heatMaps = heatMapsFromTensor(maps);
  maps.dispose();
  return heatMaps.map((map, index) =>
    camOverlay(pictures[index] as RasterImage, map, { colorMap: 'jet', alpha: 0.45 }),
  );
}

/** The Eigen-CAM grid of both teachers on the first test images (pictures at 3× so the labels are readable). */
export function renderCamGrid(config: RunConfig, test: Dataset, mll: KdModel, mcmi: KdModel): RasterImage {
  const count = config.camImages;
  const images = normalisedTestImages(test, count);
  try {
    const pictures = Array.from({ length: count }, (_, index) => {
      const image = tf.tidy(() => {
        const one = tf.slice(images, [index, 0, 0, 0], [1, -1, -1, -1]);
        return tf.squeeze(tf.image.resizeNearestNeighbor(one, [3 * test.height, 3 * test.width]), [0]);
      });
      const picture = imageFromTensor(image);
      image.dispose();
      return picture;
    });
    return renderGrid({
      rows: [
        { label: 'input', images: pictures },
        { label: 'MLL teacher', images: camRow(mll, images, pictures) },
        { label: 'MCMI teacher', images: camRow(mcmi, images, pictures) },
      ],
      columnLabels: Array.from(
        test.labels.slice(0, count),
        (label) => FASHION_MNIST_CLASS_NAMES[label] ?? String(label),
      ),
      title: `Eigen-CAM, last conv stage of ${config.teacher}`,
      textScale: 1,
    });
  } finally {
    images.dispose();
  }
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes.slice().buffer as ArrayBuffer);
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Saves a student in the zoo's format (`model.json` + `weights.bin`, as `saveWeightsToDirectory` writes) and as
 * PyTorch safetensors (`saveSafetensors`); returns the SHA-256 of `weights.bin`.
 */
async function exportWeights(
  store: RunStore,
  runId: string,
  which: 'from-mll' | 'from-mcmi',
  model: KdModel,
): Promise<string> {
  const artifacts = await saveWeights(model);
  const weights = new Uint8Array(artifacts.weightData);
  const manifest = {
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    userDefinedMetadata: artifacts.userDefinedMetadata,
  };
  await store.writeAtomic(runFiles.weights(runId, which, 'weights.bin'), weights);
  await store.writeAtomic(runFiles.weights(runId, which, 'model.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  await store.writeAtomic(runFiles.weights(runId, which, 'model.safetensors'), await saveSafetensors(model));
  return sha256Hex(weights);
}

/**
 * Runs (or resumes) the whole playground run `runId` in `store`. Finished stages are read back from their
 * checkpoints, an interrupted one continues from its last checkpoint.
 */
export async function runPipeline({ runId, config, files, store, hooks, signal }: PipelineOptions): Promise<RunResult> {
  const { train, test } = decodeBundledSlice(files, config);
  const common = {
    data: { train, test },
    batchSize: config.batchSize,
    normalization: FASHION_MNIST_NORMALIZATION,
    seed: config.seed,
    resume: 'auto' as const,
    progress: false as const,
    ...(signal === undefined ? {} : { signal }),
  };
  // A stage's history is the truth (it comes from its checkpoint): report it all once the stage is done, so
  // an epoch whose live report was lost to a reload between its checkpoint and the report still shows.
  const reportHistory = async (
    stage: Stage,
    result: TrainingResult,
    cmiOf: (record: EpochRecord) => number | undefined,
  ) => {
    for (const record of result.history) await hooks.onEpoch(entryOf(stage, record, cmiOf(record)));
  };
  const stageStore = (stage: Stage) => prefixedStore(store, runFiles.stagePrefix(runId, stage));
  // The zoo's mlp takes one input size (the convolutional models take any): give it the native 28×28.
  const model = (name: string, seed: number) =>
    createModel(name, {
      numClasses: 10,
      seed,
      inputChannels: 1,
      ...(name === 'mlp' ? { inputShape: [train.height, train.width, 1] as const } : {}),
    });
  const mllTeacher = model(config.teacher, config.seed);
  const mcmiTeacher = model(config.teacher, config.seed);
  const students: KdModel[] = [];
  try {
    // 1. MLL teacher. trainSupervised measures no CMI, so measure it at the end of each epoch's last step: the
    // weights are final for the epoch there, and the value is saved before the epoch's checkpoint.
    await hooks.onStage('teacher-mll');
    const mllCmiStore = stageStore('teacher-mll');
    const mllCmi = new Map<number, number>(
      Object.entries(
        JSON.parse(
          new TextDecoder().decode((await mllCmiStore.read('cmi.json')) ?? new TextEncoder().encode('{}')),
        ) as Record<string, number>,
      ).map(([epoch, cmi]) => [Number(epoch), cmi]),
    );
    const mll = await trainSupervised({
      ...common,
      model: mllTeacher,
      epochs: config.teacherEpochs,
      learningRate: config.teacherLearningRate,
      schedule: { kind: 'cosine' },
      // Flips only, as the quick start's teachers: the CIFAR crop of 4 pixels is a lot for 28×28 items.
      augmentation: TEACHER_AUGMENTATION,
      store: mllCmiStore,
      onStepEnd: async (info) => {
        await hooks.onStep('teacher-mll', info);
        if (info.step === info.stepsPerEpoch) {
          const { cmi } = await measureClassConditionalStatistics({
            model: mllTeacher,
            dataset: train,
            loader: evaluationLoader,
            batchSize: 64,
          });
          mllCmi.set(info.epoch, cmi);
          await mllCmiStore.writeAtomic('cmi.json', JSON.stringify(Object.fromEntries(mllCmi)));
        }
      },
      onEpochEnd: (record) => hooks.onEpoch(entryOf('teacher-mll', record, mllCmi.get(record.epoch))),
    });

    await reportHistory('teacher-mll', mll, (record) => mllCmi.get(record.epoch));

    // 2. MCMI fine-tune of a copy (the trainer measures the teacher's CMI after each epoch).
    await hooks.onStage('teacher-mcmi');
    loadWeights(mcmiTeacher, await saveWeights(mllTeacher));
    const mcmi = await fineTuneTeacherMcmi({
      ...common,
      model: mcmiTeacher,
      lambda: config.lambda,
      epochs: config.mcmiEpochs,
      learningRate: config.mcmiLearningRate,
      augmentation: TEACHER_AUGMENTATION,
      store: stageStore('teacher-mcmi'),
      onStepEnd: (info) => hooks.onStep('teacher-mcmi', info),
      onEpochEnd: (record) => hooks.onEpoch(entryOf('teacher-mcmi', record, record.extra.teacherCmi)),
    });

    await reportHistory('teacher-mcmi', mcmi, (record) => record.extra.teacherCmi);

    const grid = renderCamGrid(config, test, mllTeacher, mcmiTeacher);
    const png = encodePng(grid);
    await store.writeAtomic(runFiles.cam(runId), png);
    await hooks.onCam(grid, png);

    // 3. A KD student from each teacher.
    const rows: ResultRow[] = [];
    const sha: Partial<RunResult['studentWeightsSha256']> = {};
    for (const [which, stage, label, teacher, teacherResult] of [
      ['from-mll', 'student-from-mll', 'MLL (cross-entropy)', mllTeacher, mll],
      ['from-mcmi', 'student-from-mcmi', `MCMI (λ = ${config.lambda})`, mcmiTeacher, mcmi],
    ] as const) {
      await hooks.onStage(stage);
      const student = model(config.student, config.seed + 1);
      students.push(student);
      const result: TrainingResult = await distillStudent({
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
        store: stageStore(stage),
        onStepEnd: (info) => hooks.onStep(stage, info),
        onEpochEnd: (record) => hooks.onEpoch(entryOf(stage, record, undefined)),
      });
      await reportHistory(stage, result, () => undefined);
      rows.push({
        teacher: label,
        teacherAccuracy: teacherResult.last.test?.top1 ?? Number.NaN,
        // Measured by distillStudent before training (eval mode, training set), as the quick start reports it.
        teacherCmi: result.last.extra.teacherCmi ?? Number.NaN,
        studentAccuracy: result.last.test?.top1 ?? Number.NaN,
        studentBestAccuracy: result.best.test?.top1 ?? Number.NaN,
      });
      sha[which] = await exportWeights(store, runId, which, student);
    }
    return {
      rows,
      studentWeightsSha256: sha as RunResult['studentWeightsSha256'],
      parameters: { teacher: mllTeacher.countParams(), student: (students[0] as KdModel).countParams() },
    };
  } finally {
    for (const each of [mllTeacher, mcmiTeacher, ...students]) each.dispose();
  }
}
