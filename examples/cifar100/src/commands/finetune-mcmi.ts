import { TrainingCollapsedError, fineTuneTeacherMcmi } from '@kd/trainer';
import type { RunConfig } from '../cli';
import { loadSourceDataset } from '../datasets';
import { loadTeacher } from '../runs';
import { runPlan } from '../run-plan';
import { runInDirectory, skipIfFinished, type CommandContext, type CommandOutcome } from './shared';

/**
 * `finetune-mcmi`: loads the cross-entropy teacher (`--teacher`, default the preset's `teacher-…` run) and
 * fine-tunes it with CE − λ·Î (class centroids from one pass of the pretrained teacher, then fixed), 20 epochs,
 * cosine lr 0.05. Run name `mcmi-<dataset>-<model>-lambda<λ>`.
 */
export async function finetuneMcmiCommand(config: RunConfig, { log, signal }: CommandContext): Promise<CommandOutcome> {
  const plan = runPlan('finetune-mcmi', config);
  const { runDirectory } = plan;
  const teacherDirectory = plan.models.teacher!.run!;
  const finished = skipIfFinished(runDirectory, log);
  if (finished !== undefined) return finished;
  const { train, test } = await loadSourceDataset(config);
  const model = loadTeacher(teacherDirectory, {
    architecture: config.teacher,
    numClasses: train.numClasses,
    role: 'finetune-mcmi',
    hint: `Train it first: kd-cifar100 train-teacher --preset ${config.name} --out-dir ${config.outDir}, or pass --teacher <run, directory or .pth/.safetensors file>.`,
  });
  try {
    if (model.numClasses !== train.numClasses) {
      throw new Error(
        `finetune-mcmi: the teacher in ${teacherDirectory} has ${model.numClasses} classes, ${config.dataset} has ${train.numClasses}`,
      );
    }
    return await runInDirectory({
      runDirectory,
      config,
      log,
      signal,
      model,
      train: async (run) => {
        try {
          return await fineTuneTeacherMcmi({ model, data: { train, test }, ...plan.trainer, ...run });
        } catch (error) {
          // The library's message names its option (collapseGuard: false); name this interface's flag instead.
          if (!(error instanceof TrainingCollapsedError)) throw error;
          throw new Error(
            `finetune-mcmi: training collapsed at epoch ${error.epoch}: ${error.reason} Lower --lambda, or pass --allow-collapse to train on regardless.` +
              (error.lastCheckpointEpoch === undefined
                ? ''
                : ` The last good checkpoint (epoch ${error.lastCheckpointEpoch}) is intact.`),
            { cause: error },
          );
        }
      },
    });
  } finally {
    model.dispose();
  }
}
