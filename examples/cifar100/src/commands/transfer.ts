import { basename } from 'node:path';
import { CIFAR100_NORMALIZATION, CIFAR10_NORMALIZATION } from '@kd/data';
import { trainTeacher } from '@kd/trainer';
import type { RunConfig } from '../cli';
import { loadTransferDataset } from '../datasets';
import { createLinearProbe } from '../linear-probe';
import { loadRunModel, resolveRunDirectory } from '../runs';
import { runInDirectory, skipIfFinished, stepSchedule, studentRunName, type CommandContext, type CommandOutcome } from './shared';

/**
 * `transfer`: ICD's linear probe. Loads a distilled student (`--student`, default the preset's `distill-…` run),
 * replaces its classifier with a new linear layer (N(0, 0.01²), bias 0), freezes the rest and trains the layer
 * on STL-10 or Tiny ImageNet resized to 32×32 with crop + flip: SGD momentum 0.9, lr 0.05 ×0.1 at 30/60/90 of
 * 120 epochs, batch 64, wd 5e-4. Images are normalised with the source data set's statistics, as the student saw.
 */
export async function transferCommand(config: RunConfig, { log, signal }: CommandContext): Promise<CommandOutcome> {
  const studentDirectory = resolveRunDirectory(config.outDir, config.studentRef ?? studentRunName(config, 'distill'));
  const runDirectory = resolveRunDirectory(config.outDir, config.runName ?? `transfer-${config.transferDataset}-from-${basename(studentDirectory)}`);
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
    log(`transfer: ${backbone.name} from ${studentDirectory} → ${config.transferDataset} (${train.labels.length} training images, ${train.numClasses} classes)`);
    return await runInDirectory({
      runDirectory,
      config,
      log,
      signal,
      model: probe,
      train: (run) =>
        trainTeacher({
          model: probe,
          data: { train, test },
          epochs: config.transferEpochs,
          batchSize: config.batchSize,
          learningRate: config.transferLearningRate,
          momentum: config.momentum,
          weightDecay: config.transferWeightDecay,
          schedule: stepSchedule(config.transferMilestones),
          seed: config.seed,
          normalization: config.dataset === 'cifar100' ? CIFAR100_NORMALIZATION : CIFAR10_NORMALIZATION,
          ...run,
        }),
    });
  } finally {
    probe.dispose();
    backbone.dispose();
  }
}
