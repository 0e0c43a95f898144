import { createModel } from '@kd/models';
import { trainSupervised } from '@kd/trainer';
import type { RunConfig } from '../cli';
import { loadSourceDataset } from '../datasets';
import { runPlan } from '../run-plan';
import { runInDirectory, skipIfFinished, type CommandContext, type CommandOutcome } from './shared';

/**
 * `train-teacher`: the preset's teacher by cross-entropy with RepDistiller's recipe (240 epochs, SGD 0.9,
 * lr 0.05 ×0.1 at 150/180/210, batch 64, wd 5e-4, crop + flip). Run name `teacher-<dataset>-<model>`.
 */
export async function trainTeacherCommand(config: RunConfig, { log, signal }: CommandContext): Promise<CommandOutcome> {
  const plan = runPlan('train-teacher', config);
  const { runDirectory } = plan;
  const finished = skipIfFinished(runDirectory, log);
  if (finished !== undefined) return finished;
  const { train, test } = await loadSourceDataset(config);
  const model = createModel(config.teacher, { numClasses: train.numClasses, seed: config.seed });
  try {
    return await runInDirectory({
      runDirectory,
      config,
      log,
      signal,
      model,
      train: (run) =>
        trainSupervised({
          model,
          data: { train, test },
          ...plan.trainer,
          ...run,
        }),
    });
  } finally {
    model.dispose();
  }
}
