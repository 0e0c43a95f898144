import * as tf from '@tensorflow/tfjs-core';
import { version as dataVersion } from '@kd/data/package.json';
import { version as lossesVersion } from '@kd/losses/package.json';
import { version as modelsVersion } from '@kd/models/package.json';
import { version as trainerVersion } from '../../package.json';
import type { JsonValue } from '../io/checkpoint';
import type { EpochRecord } from './epoch-record';

/** `run.json`: what was run, where, and how it ended. */
export interface RunRecord {
  /** `trainTeacher`, `fineTuneTeacherMcmi` or `distillStudent`. */
  functionName: string;
  /** The resolved config (models and datasets by name and size). */
  config: { [key: string]: JsonValue };
  seed: number;
  /** `tf.getBackend()` when the run started. */
  backend: string;
  /** `tf.version_core`. */
  tfjsVersion: string;
  /** Versions of the @kd packages the run used (inlined when @kd/trainer was built) and of tfjs-core. */
  packageVersions: Record<string, string>;
  startedAt: string;
  finishedAt?: string;
  status: 'running' | 'finished' | 'failed' | 'aborted';
  error?: string;
  /** Epochs after which this run was resumed from a checkpoint. */
  resumedFromEpochs: number[];
  epochsCompleted: number;
  best?: EpochRecord;
  last?: EpochRecord;
}

/** A fresh run record for the current process. */
export function buildRunRecord({ functionName, config, seed }: {
  functionName: string;
  config: { [key: string]: JsonValue };
  seed: number;
}): RunRecord {
  return {
    functionName,
    config,
    seed,
    backend: tf.getBackend(),
    tfjsVersion: tf.version_core,
    packageVersions: {
      '@kd/trainer': trainerVersion,
      '@kd/losses': lossesVersion,
      '@kd/models': modelsVersion,
      '@kd/data': dataVersion,
      '@tensorflow/tfjs-core': tf.version_core,
    },
    startedAt: new Date().toISOString(),
    status: 'running',
    resumedFromEpochs: [],
    epochsCompleted: 0,
  };
}
