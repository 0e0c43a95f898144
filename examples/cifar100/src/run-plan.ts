/**
 * The fully resolved configuration of one training command: which models, which trainer options (objectives
 * with their weights and options, schedule, seed, normalisation), which data. The commands pass `trainer` to
 * their trainer call as it is, and `--print-config` prints the same object, so what is printed is what runs.
 */
import { basename } from 'node:path';
import { CIFAR_AUGMENTATION, type AugmentOptions, type Normalization } from '@kd/data';
import type { ObjectiveSpec } from '@kd/trainer';
import type { CommandName, RunConfig } from './cli';
import {
  mcmiRunName,
  stepSchedule,
  studentObjectives,
  studentRunName,
  teacherDirectory,
  teacherRunName,
} from './commands/shared';
import { resolveRunDirectory } from './runs';
import type { ZeroShotProtocol } from './presets';

/** The training commands (those that accept `--print-config`). */
export type TrainingCommand = Exclude<CommandName, 'eigencam' | 'sweep' | 'worker' | 'sweep-status'>;

/** Size of the training split of each source data set (both CIFARs have 50,000 training images). */
export const SOURCE_TRAIN_SIZE = { cifar100: 50_000, cifar10: 50_000 } as const;

type Schedule = { kind: 'step'; milestones: number[]; decayFactor: number } | { kind: 'cosine' };

/** The options every trainer call of the example shares, as the trainer receives them. */
export interface TrainerSettings {
  epochs: number;
  batchSize: number;
  learningRate: number;
  momentum: number;
  weightDecay: number;
  schedule: Schedule;
  seed: number;
  normalization: Normalization;
}

export interface RunPlan {
  command: TrainingCommand;
  preset: string;
  runDirectory: string;
  models: { teacher?: { architecture: string; run?: string }; student?: { architecture: string; run?: string } };
  /** The trainer call's options (besides data, models and the run store), exactly as passed. */
  trainer: TrainerSettings & {
    objectives?: ObjectiveSpec[];
    lambda?: number;
    collapseGuard?: false;
    epochLength?: number;
  };
  data: {
    dataset: string;
    dataDir: string;
    limitTrain: number | null;
    limitTest: number | null;
    augmentation: AugmentOptions;
    fewShot?: { fraction: number; mode: 'head'; trainSamples: number; epochLength: number };
    zeroShot?: { omittedClasses: number[]; protocol: ZeroShotProtocol };
  };
}

function common(config: RunConfig, overrides: Partial<TrainerSettings> = {}): TrainerSettings {
  return {
    epochs: config.epochs,
    batchSize: config.batchSize,
    learningRate: config.studentLearningRate,
    momentum: config.momentum,
    weightDecay: config.weightDecay,
    schedule: stepSchedule(config.milestones),
    seed: config.seed,
    normalization: config.normalization,
    ...overrides,
  };
}

/** The training samples the source split yields after `--limit-train`. */
function sourceTrainSize(config: RunConfig): number {
  return Math.min(config.limitTrain ?? Number.POSITIVE_INFINITY, SOURCE_TRAIN_SIZE[config.dataset]);
}

/**
 * The resolved configuration of `command` under `config`, computed without reading any file.
 *
 * @example
 * runPlan('distill', parseRunCommand(['distill', '--method', 'at']).config).trainer.objectives;
 * // [{ method: 'ce', weight: 1 }, { method: 'at', weight: 1000 }]
 */
export function runPlan(command: TrainingCommand, config: RunConfig): RunPlan {
  const data: RunPlan['data'] = {
    dataset: command === 'transfer' ? config.transferDataset : config.dataset,
    dataDir: config.dataDir,
    limitTrain: config.limitTrain ?? null,
    limitTest: config.limitTest ?? null,
    augmentation: CIFAR_AUGMENTATION,
  };
  const base = { command, preset: config.name, data };
  switch (command) {
    case 'train-teacher':
      return {
        ...base,
        runDirectory: resolveRunDirectory(config.outDir, config.runName ?? teacherRunName(config)),
        models: { teacher: { architecture: config.teacher } },
        trainer: common(config, { learningRate: config.teacherLearningRate }),
      };
    case 'finetune-mcmi':
      return {
        ...base,
        runDirectory: resolveRunDirectory(config.outDir, config.runName ?? mcmiRunName(config)),
        models: {
          teacher: {
            architecture: config.teacher,
            run: resolveRunDirectory(config.outDir, config.teacherRef ?? teacherRunName(config)),
          },
        },
        trainer: {
          ...common(config, {
            epochs: config.mcmiEpochs,
            learningRate: config.mcmiLearningRate,
            schedule: { kind: 'cosine' },
          }),
          lambda: config.mcmiLambda,
          ...(config.allowCollapse ? { collapseGuard: false as const } : {}),
        },
      };
    case 'transfer': {
      const student = resolveRunDirectory(config.outDir, config.studentRef ?? studentRunName(config, 'distill'));
      return {
        ...base,
        runDirectory: resolveRunDirectory(
          config.outDir,
          config.runName ?? `transfer-${config.transferDataset}-from-${basename(student)}`,
        ),
        models: { student: { architecture: config.student, run: student } },
        trainer: common(config, {
          epochs: config.transferEpochs,
          learningRate: config.transferLearningRate,
          weightDecay: config.transferWeightDecay,
          schedule: stepSchedule(config.transferMilestones),
        }),
      };
    }
    case 'distill':
    case 'few-shot':
    case 'zero-shot': {
      const fullSize = sourceTrainSize(config);
      const fraction = config.fewShotFraction ?? 1;
      if (command === 'few-shot') {
        // The MCMI repository keeps the first fraction·N images in file order ('head') and cycles them N times per epoch.
        data.fewShot = {
          fraction,
          mode: 'head',
          trainSamples: Math.max(1, Math.round(fraction * fullSize)),
          epochLength: fullSize,
        };
      }
      if (command === 'zero-shot')
        data.zeroShot = { omittedClasses: [...config.omittedClasses], protocol: config.zeroShotProtocol };
      return {
        ...base,
        runDirectory: resolveRunDirectory(config.outDir, config.runName ?? studentRunName(config, command)),
        models: {
          teacher: { architecture: config.teacher, run: teacherDirectory(config) },
          student: { architecture: config.student },
        },
        trainer: {
          ...common(config),
          objectives: studentObjectives(config),
          ...(command === 'few-shot' ? { epochLength: fullSize } : {}),
        },
      };
    }
  }
}
