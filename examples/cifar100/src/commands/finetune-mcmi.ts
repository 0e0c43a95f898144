import { fineTuneTeacherMCMI } from '@kd/trainer';
import type { RunConfig } from '../cli';
import { loadSourceDataset } from '../datasets';
import { loadTeacher, resolveRunDirectory } from '../runs';
import { mcmiRunName, runInDirectory, skipIfFinished, teacherRunName, type CommandContext, type CommandOutcome } from './shared';

/**
 * `finetune-mcmi`: loads the cross-entropy teacher (`--teacher`, default the preset's `teacher-…` run) and
 * fine-tunes it with CE − λ·Î (class centroids from one pass of the pretrained teacher, then fixed), 20 epochs,
 * cosine lr 0.05. Run name `mcmi-<dataset>-<model>-lambda<λ>`.
 */
export async function finetuneMcmiCommand(config: RunConfig, { log, signal }: CommandContext): Promise<CommandOutcome> {
  const runDirectory = resolveRunDirectory(config.outDir, config.runName ?? mcmiRunName(config));
  const teacherDirectory = resolveRunDirectory(config.outDir, config.teacherRef ?? teacherRunName(config));
  const finished = skipIfFinished(runDirectory, log);
  if (finished !== undefined) return finished;
  const { train, test, normalization } = await loadSourceDataset(config);
  const model = loadTeacher(teacherDirectory, {
    architecture: config.teacher,
    numClasses: train.numClasses,
    role: 'finetune-mcmi',
    hint: `Train it first: kd-cifar100 train-teacher --preset ${config.name} --out-dir ${config.outDir}, or pass --teacher <run, directory or .pth/.safetensors file>.`,
  });
  try {
    if (model.numClasses !== train.numClasses) {
      throw new Error(`finetune-mcmi: the teacher in ${teacherDirectory} has ${model.numClasses} classes, ${config.dataset} has ${train.numClasses}`);
    }
    return await runInDirectory({
      runDirectory,
      config,
      log,
      signal,
      model,
      train: (run) =>
        fineTuneTeacherMCMI({
          model,
          data: { train, test },
          lambda: config.mcmiLambda,
          epochs: config.mcmiEpochs,
          batchSize: config.batchSize,
          learningRate: config.mcmiLearningRate,
          momentum: config.momentum,
          weightDecay: config.weightDecay,
          schedule: { kind: 'cosine' },
          seed: config.seed,
          normalization,
          ...(config.allowCollapse ? { collapseGuard: false as const } : {}),
          ...run,
        }),
    });
  } finally {
    model.dispose();
  }
}
