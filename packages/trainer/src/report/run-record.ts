import * as tf from '@tensorflow/tfjs-core';
import type { JsonValue } from '../io/checkpoint';
import { installedKdVersions } from './package-versions';
import type { EpochRecord } from './epoch-record';

/** `run.json`: what was run, where, and how it ended. */
export interface RunRecord {
  /** `trainSupervised`, `fineTuneTeacherMcmi` or `distillStudent`. */
  functionName: string;
  /** The resolved config (models and datasets by name and size). */
  config: { [key: string]: JsonValue };
  seed: number;
  /** `tf.getBackend()` when the run started. */
  backend: string;
  /** `tf.version_core`. */
  tfjsVersion: string;
  /**
   * Versions the run executed with: @kd/trainer and each @kd package it depends on, read at run start from the
   * package.json Node resolves (`'unknown'` in a browser), and `@tensorflow/tfjs-core` (`tf.version_core`).
   */
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

/**
 * Where this module runs from (the CJS build gets `import.meta.url` from tsup's shim); the package versions are
 * resolved from there.
 */
function moduleLocation(): string {
  const url = (import.meta as { url?: unknown }).url;
  return typeof url === 'string' ? url : '';
}

// Reported as 'unknown' where no package.json can be read (browsers).
const BROWSER_PACKAGES = ['@kd/trainer', '@kd/data', '@kd/losses', '@kd/models', '@kd/plot'];

/** A fresh run record for the current process. */
export function buildRunRecord({
  functionName,
  config,
  seed,
}: {
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
      ...installedKdVersions({ self: '@kd/trainer', from: moduleLocation(), fallback: BROWSER_PACKAGES }),
      '@tensorflow/tfjs-core': tf.version_core,
    },
    startedAt: new Date().toISOString(),
    status: 'running',
    resumedFromEpochs: [],
    epochsCompleted: 0,
  };
}
