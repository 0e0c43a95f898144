import { fewShotSubset, omitClasses, type Dataset } from '@kd/data';
import { createModel } from '@kd/models';
import { distillStudent } from '@kd/trainer';
import type { RunConfig } from '../cli';
import { loadSourceDataset } from '../datasets';
import { loadTeacher, resolveRunDirectory } from '../runs';
import {
  mcmiRunName,
  runInDirectory,
  skipIfFinished,
  stepSchedule,
  studentObjectives,
  studentRunName,
  teacherDirectory,
  type CommandContext,
  type CommandOutcome,
} from './shared';

export type DistillTask = 'distill' | 'few-shot' | 'zero-shot';

/** The training set a task's student sees, and the epoch length (few-shot epochs are as long as the full set). */
function studentTrainingSet(task: DistillTask, config: RunConfig, train: Dataset): { train: Dataset; epochLength?: number } {
  if (task === 'few-shot') {
    // The MCMI repository keeps the first fraction·N images in file order ('head') and cycles them N times per epoch.
    const subset = fewShotSubset(train, { fraction: config.fewShotFraction ?? 1, mode: 'head' });
    return { train: subset, epochLength: train.labels.length };
  }
  if (task === 'zero-shot') return { train: omitClasses(train, { classes: config.omittedClasses }) };
  return { train };
}

/**
 * `distill`, `few-shot` and `zero-shot`: a student of the preset's architecture learns from a frozen teacher
 * (`--teacher`, default the preset's MCMI or MLL teacher run) with γ·CE + α·KD [+ β·method], RepDistiller's
 * recipe (240 epochs, lr 0.05 or 0.01 for MobileNetV2/ShuffleNets, ×0.1 at 150/180/210).
 */
export async function distillCommand(task: DistillTask, config: RunConfig, { log, signal }: CommandContext): Promise<CommandOutcome> {
  const runDirectory = resolveRunDirectory(config.outDir, config.runName ?? studentRunName(config, task));
  const teacherRun = teacherDirectory(config);
  const finished = skipIfFinished(runDirectory, log);
  if (finished !== undefined) return finished;
  const { train: fullTrain, test, normalization } = await loadSourceDataset(config);
  const { train, epochLength } = studentTrainingSet(task, config, fullTrain);
  const how =
    config.teacherKind === 'mcmi' && config.teacherRef === undefined
      ? `Make it with train-teacher then finetune-mcmi --preset ${config.name} (run ${mcmiRunName(config)}), use --teacher-kind mll, or pass --teacher <run, directory or .pth/.safetensors file>.`
      : `Make it with train-teacher --preset ${config.name}, or pass --teacher <run, directory or .pth/.safetensors file>.`;
  const teacher = loadTeacher(teacherRun, { architecture: config.teacher, numClasses: fullTrain.numClasses, role: task, hint: how });
  const student = createModel(config.student, { numClasses: fullTrain.numClasses, seed: config.seed });
  try {
    if (teacher.numClasses !== fullTrain.numClasses) {
      throw new Error(`${task}: the teacher in ${teacherRun} has ${teacher.numClasses} classes, ${config.dataset} has ${fullTrain.numClasses}`);
    }
    log(`${task}: ${train.labels.length} training samples${epochLength ? `, epochs of ${epochLength}` : ''}, teacher ${teacherRun}`);
    const outcome = await runInDirectory({
      runDirectory,
      config,
      log,
      signal,
      model: student,
      train: (run) =>
        distillStudent({
          student,
          teacher,
          data: { train, test },
          objectives: studentObjectives(config),
          epochs: config.epochs,
          batchSize: config.batchSize,
          learningRate: config.studentLearningRate,
          momentum: config.momentum,
          weightDecay: config.weightDecay,
          schedule: stepSchedule(config.milestones),
          seed: config.seed,
          normalization,
          ...(epochLength === undefined ? {} : { epochLength }),
          ...run,
        }),
    });
    const perClass = outcome.result?.last.test?.perClassAccuracy;
    if (task === 'zero-shot' && perClass !== undefined) {
      const names = fullTrain.classNames;
      log(
        `zero-shot: test accuracy on the omitted classes: ` +
          config.omittedClasses.map((label) => `${names[label] ?? label} ${(100 * (perClass[label] ?? Number.NaN)).toFixed(1)}%`).join(', '),
      );
    }
    return outcome;
  } finally {
    teacher.dispose();
    student.dispose();
  }
}
