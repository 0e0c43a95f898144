import { fewShotSubset, omitClasses, type Dataset } from '@kd/data';
import { createModel } from '@kd/models';
import { distillStudent, type LoaderFactory } from '@kd/trainer';
import type { RunConfig } from '../cli';
import { loadSourceDataset } from '../datasets';
import { runPlan, type RunPlan } from '../run-plan';
import { maskingLoader } from '../zero-shot';
import { loadTeacher } from '../runs';
import {
  mcmiRunName,
  runInDirectory,
  skipIfFinished,
  teacherDirectory,
  type CommandContext,
  type CommandOutcome,
} from './shared';

export type DistillTask = 'distill' | 'few-shot' | 'zero-shot';

/**
 * The training set a task's student sees, and its loader: few-shot cycles the head subset (epochs as long as
 * the full set, `plan.trainer.epochLength`); zero-shot keeps the full set and drops the omitted classes inside
 * each batch ('mask-batches', see zero-shot.ts) or removes them from the set ('omit-samples').
 */
function studentTrainingSet(plan: RunPlan, train: Dataset): { train: Dataset; loader?: LoaderFactory } {
  if (plan.data.fewShot !== undefined)
    return { train: fewShotSubset(train, { fraction: plan.data.fewShot.fraction, mode: 'head' }) };
  const zeroShot = plan.data.zeroShot;
  if (zeroShot === undefined) return { train };
  if (zeroShot.protocol === 'omit-samples') return { train: omitClasses(train, { classes: zeroShot.omittedClasses }) };
  return {
    train,
    loader: maskingLoader({ omitted: zeroShot.omittedClasses, normalization: plan.trainer.normalization }),
  };
}

/**
 * `distill`, `few-shot` and `zero-shot`: a student of the preset's architecture learns from a frozen teacher
 * (`--teacher`, default the preset's MCMI or MLL teacher run) with γ·CE + α·KD [+ β·method], RepDistiller's
 * recipe (240 epochs, lr 0.05 or 0.01 for MobileNetV2/ShuffleNets, ×0.1 at 150/180/210).
 */
export async function distillCommand(
  task: DistillTask,
  config: RunConfig,
  { log, signal }: CommandContext,
): Promise<CommandOutcome> {
  const plan = runPlan(task, config);
  const { runDirectory } = plan;
  const teacherRun = teacherDirectory(config);
  const finished = skipIfFinished(runDirectory, log);
  if (finished !== undefined) return finished;
  const { train: fullTrain, test } = await loadSourceDataset(config);
  const { train, loader } = studentTrainingSet(plan, fullTrain);
  const epochLength = plan.trainer.epochLength;
  const how =
    config.teacherKind === 'mcmi' && config.teacherRef === undefined
      ? `Make it with train-teacher then finetune-mcmi --preset ${config.name} (run ${mcmiRunName(config)}), use --teacher-kind mll, or pass --teacher <run, directory or .pth/.safetensors file>.`
      : `Make it with train-teacher --preset ${config.name}, or pass --teacher <run, directory or .pth/.safetensors file>.`;
  const teacher = loadTeacher(teacherRun, {
    architecture: config.teacher,
    numClasses: fullTrain.numClasses,
    role: task,
    hint: how,
  });
  const student = createModel(config.student, { numClasses: fullTrain.numClasses, seed: config.seed });
  try {
    if (teacher.numClasses !== fullTrain.numClasses) {
      throw new Error(
        `${task}: the teacher in ${teacherRun} has ${teacher.numClasses} classes, ${config.dataset} has ${fullTrain.numClasses}`,
      );
    }
    log(
      `${task}: ${train.labels.length} training samples${epochLength ? `, epochs of ${epochLength}` : ''}, teacher ${teacherRun}`,
    );
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
          ...plan.trainer,
          ...(loader === undefined ? {} : { loader }),
          ...run,
        }),
    });
    const perClass = outcome.result?.last.test?.perClassAccuracy;
    if (task === 'zero-shot' && perClass !== undefined) {
      const names = fullTrain.classNames;
      log(
        `zero-shot: test accuracy on the omitted classes: ` +
          config.omittedClasses
            .map((label) => `${names[label] ?? label} ${(100 * (perClass[label] ?? Number.NaN)).toFixed(1)}%`)
            .join(', '),
      );
    }
    return outcome;
  } finally {
    teacher.dispose();
    student.dispose();
  }
}
