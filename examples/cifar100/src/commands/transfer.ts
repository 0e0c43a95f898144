import { trainSupervised } from '@kd/trainer';
import type { RunConfig } from '../cli';
import { loadTransferDataset } from '../datasets';
import { createLinearProbe } from '../linear-probe';
import { loadRunModel } from '../runs';
import { runPlan } from '../run-plan';
import { runInDirectory, skipIfFinished, type CommandContext, type CommandOutcome } from './shared';

/**
 * `transfer`: ICD's linear probe. Loads a distilled student (`--student`, default the preset's `distill-…` run),
 * replaces its classifier with a new linear layer (N(0, 0.01²), bias 0), freezes the rest and trains the layer
 * on STL-10 or Tiny ImageNet resized to 32×32 with crop + flip: SGD momentum 0.9, lr 0.05 ×0.1 at 30/60/90 of
 * 120 epochs, batch 64, wd 5e-4. Images are normalised with the source data set's statistics, as the student saw.
 */
export async function transferCommand(config: RunConfig, { log, signal }: CommandContext): Promise<CommandOutcome> {
  const plan = runPlan('transfer', config);
  const { runDirectory } = plan;
  const studentDirectory = plan.models.student!.run!;
  const finished = skipIfFinished(runDirectory, log);
  if (finished !== undefined) return finished;
  const { train, test } = await loadTransferDataset({
    dataset: config.transferDataset,
    dataDir: config.dataDir,
    download: config.download,
    limitTrain: config.limitTrain,
    limitTest: config.limitTest,
  });
  const backbone = loadRunModel(
    studentDirectory,
    'transfer',
    `Distill it first (kd-cifar100 distill --preset ${config.name}) or pass --student <run or directory>.`,
  );
  const probe = createLinearProbe({ backbone, numClasses: train.numClasses, seed: config.seed });
  try {
    log(
      `transfer: ${backbone.name} from ${studentDirectory} → ${config.transferDataset} (${train.labels.length} training images, ${train.numClasses} classes)`,
    );
    return await runInDirectory({
      runDirectory,
      config,
      log,
      signal,
      model: probe,
      train: (run) =>
        trainSupervised({
          model: probe,
          data: { train, test },
          ...plan.trainer,
          ...run,
        }),
    });
  } finally {
    probe.dispose();
    backbone.dispose();
  }
}
