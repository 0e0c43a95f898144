/**
 * Bring your own model, top to bottom: on a bundled slice of Fashion-MNIST,
 *   1. train the user's `tf.sequential` conv teacher (softmax head) with `trainSupervised`,
 *   2. distill a smaller `tf.sequential` student from it with KD plus a FitNet hint on layers named by the user,
 *   3. train the same student (same initial weights) without a teacher,
 *   4. save the distilled student with `model.save('file://…')`, reload it with `tf.loadLayersModel` in a fresh
 *      process, and print its test accuracy next to the student trained alone.
 * Every run has a directory with checkpoints, so an interrupted run resumes (into the Keras models).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs-core';
import { FASHION_MNIST_NORMALIZATION } from '@kd/data';
import { fromLayersModel } from '@kd/layers';
import { registerFileSystemRouter } from '@kd/layers/node';
import { distillStudent, trainSupervised } from '@kd/trainer';
import { directoryStore } from '@kd/trainer/node';
import { loadSplit, predictDataset } from './data';
import { buildStudent, buildTeacher } from './models';

export interface ByomConfig {
  /** Folder with the four Fashion-MNIST IDX .gz files (the quick start's bundle). */
  dataDir: string;
  /** Where runs and the saved student go. */
  outDir: string;
  trainSize: number;
  testSize: number;
  /** Filters of the first conv block (the second has twice as many). */
  teacherWidth: number;
  studentWidth: number;
  teacherEpochs: number;
  studentEpochs: number;
  batchSize: number;
  /** The teacher's: its dense head has 7·7·32 = 1568 inputs, on which lr 0.05 with momentum 0.9 overshoots. */
  teacherLearningRate: number;
  /** Both students' (the same recipe with and without the teacher); at 0.05 the distilled one's ReLUs died here. */
  studentLearningRate: number;
  seed: number;
  /** Backend the fresh evaluation process uses (the parent's). */
  backend: 'wasm' | 'cpu' | 'tensorflow';
  progress: boolean;
}

export const defaultConfig: Omit<ByomConfig, 'dataDir' | 'outDir' | 'backend'> = {
  trainSize: 3000,
  testSize: 1000,
  teacherWidth: 16,
  studentWidth: 4,
  teacherEpochs: 6,
  studentEpochs: 6,
  batchSize: 64,
  teacherLearningRate: 0.01,
  studentLearningRate: 0.01,
  seed: 1,
  progress: true,
};

/** What the fresh process prints: accuracy and the first outputs of the reloaded model. */
export interface EvaluationReport {
  accuracy: number;
  firstOutputs: number[][];
}

export interface ByomResult {
  teacherAccuracy: number;
  aloneAccuracy: number;
  distilledAccuracy: number;
  /** The reloaded student's accuracy, measured in a fresh process. */
  reloadedAccuracy: number;
  /** max |reloaded − trained| over the first test images' logits (0: the same numbers). */
  reloadDifference: number;
  parameters: { teacher: number; student: number };
  savedTo: string;
  table: string;
}

const here = dirname(fileURLToPath(import.meta.url));

/** Runs `evaluate.ts` in a new Node process (tsx), which loads the saved model with tf.loadLayersModel. */
async function evaluateInFreshProcess(config: ByomConfig, modelJson: string): Promise<EvaluationReport> {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const args = [
    tsx,
    '--conditions=@kd/source',
    join(here, 'evaluate.ts'),
    '--model',
    modelJson,
    '--data-dir',
    config.dataDir,
    '--test-size',
    String(config.testSize),
    '--backend',
    config.backend,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`bring-your-own-model: the evaluation process exited with ${code}: ${stderr.trim()}`);
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as EvaluationReport;
}

function formatTable(rows: Array<[string, number, number]>): string {
  return [
    '| model | trainable parameters | test accuracy |',
    '|---|---|---|',
    ...rows.map(
      ([label, parameters, accuracy]) =>
        `| ${label} | ${parameters.toLocaleString('en')} | ${(100 * accuracy).toFixed(2)}% |`,
    ),
  ].join('\n');
}

/**
 * Runs the whole example and returns the accuracies. Reruns resume finished and interrupted runs from `outDir`.
 *
 * @example
 * const { table } = await bringYourOwnModel({ ...defaultConfig, dataDir: '../quickstart/data', outDir: 'runs/byom', backend: 'wasm' });
 */
export async function bringYourOwnModel(config: ByomConfig): Promise<ByomResult> {
  registerFileSystemRouter(); // model.save('file://…') and tf.loadLayersModel('file://…') without tfjs-node
  const train = await loadSplit(config.dataDir, 'train', config.trainSize);
  const test = await loadSplit(config.dataDir, 't10k', config.testSize);
  const common = {
    data: { train, test },
    batchSize: config.batchSize,
    normalization: FASHION_MNIST_NORMALIZATION,
    schedule: { kind: 'cosine' as const },
    seed: config.seed,
    resume: 'auto' as const,
    progress: config.progress,
  };
  const store = (name: string) => directoryStore(join(config.outDir, name));

  const teacherKeras = buildTeacher(config.teacherWidth, config.seed);
  const studentKeras = buildStudent('student', config.studentWidth, config.seed + 1);
  const aloneKeras = buildStudent('student', config.studentWidth, config.seed + 1);
  try {
    aloneKeras.setWeights(studentKeras.getWeights()); // the same initial weights for both students

    // The softmax head is detected: the teacher's logits are read before its softmax.
    const teacher = fromLayersModel(teacherKeras, {
      features: ['teacher_block1', 'teacher_block2', 'teacher_flatten'],
    });
    const teacherResult = await trainSupervised({
      ...common,
      model: teacher,
      epochs: config.teacherEpochs,
      learningRate: config.teacherLearningRate,
      store: store('teacher'),
    });

    const studentFeatures = ['student_block1', 'student_block2', 'student_flatten'];
    const student = fromLayersModel(studentKeras, { features: studentFeatures, name: 'student' });
    const distilled = await distillStudent({
      ...common,
      student,
      teacher,
      epochs: config.studentEpochs,
      learningRate: config.studentLearningRate,
      objectives: [
        { method: 'ce', weight: 0.1 },
        { method: 'kd', weight: 0.9, options: { temperature: 4 } },
        // FitNet's hint on features[1]: 'student_block2' regressed onto 'teacher_block2' (both 14×14). β = 1, not
        // RepDistiller's 100: larger weights let the hint's gradient swamp CE and KD for a student this small.
        { method: 'fitnet', weight: 1, options: { hintLayer: 1 } },
      ],
      store: store('student-kd-fitnet'),
    });

    const alone = fromLayersModel(aloneKeras, { name: 'student' });
    const aloneResult = await trainSupervised({
      ...common,
      model: alone,
      epochs: config.studentEpochs,
      learningRate: config.studentLearningRate,
      store: store('student-alone'),
    });

    // The distilled student is the user's Keras model, trained in place: save it in the standard format.
    const savedTo = join(config.outDir, 'student-distilled');
    await studentKeras.save(`file://${savedTo}`);
    const inProcess = await predictDataset(test, (images) => studentKeras.predict(images) as tf.Tensor2D);
    const reloaded = await evaluateInFreshProcess(config, join(savedTo, 'model.json'));
    let reloadDifference = 0;
    inProcess.firstOutputs.forEach((row, index) =>
      row.forEach(
        (value, column) =>
          (reloadDifference = Math.max(
            reloadDifference,
            Math.abs(value - (reloaded.firstOutputs[index]?.[column] ?? Number.NaN)),
          )),
      ),
    );

    const parameters = { teacher: teacher.countParams(), student: student.countParams() };
    const teacherAccuracy = teacherResult.last.test?.top1 ?? Number.NaN;
    const aloneAccuracy = aloneResult.last.test?.top1 ?? Number.NaN;
    const distilledAccuracy = distilled.last.test?.top1 ?? Number.NaN;
    const table = formatTable([
      ['teacher (tf.sequential, softmax head)', parameters.teacher, teacherAccuracy],
      ['student trained alone (cross-entropy)', parameters.student, aloneAccuracy],
      [
        'student distilled (KD + FitNet on student_block2), reloaded in a fresh process',
        parameters.student,
        reloaded.accuracy,
      ],
    ]);
    return {
      teacherAccuracy,
      aloneAccuracy,
      distilledAccuracy,
      reloadedAccuracy: reloaded.accuracy,
      reloadDifference,
      parameters,
      savedTo,
      table,
    };
  } finally {
    teacherKeras.dispose();
    studentKeras.dispose();
    aloneKeras.dispose();
  }
}
