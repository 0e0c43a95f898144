/**
 * Node-only helpers (`@kd/models/node`): save and load a model's weights as a directory holding `model.json`
 * (a tfjs weights manifest) and `weights.bin`, with node:fs only (no tfjs-node). Writes are atomic.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type { KdModel } from './types';
import { loadWeightsAs, saveWeights, type WeightArtifacts } from './weights';
import { writeFileAtomicSync } from '@kd/internal/node';

/** The `model.json` written by {@link saveWeightsToDirectory}: a tfjs model JSON with weights only. */
export interface WeightsModelJson {
  format: WeightArtifacts['format'];
  generatedBy: string;
  weightsManifest: tf.io.WeightsManifestConfig;
  userDefinedMetadata: WeightArtifacts['userDefinedMetadata'];
}

/**
 * Saves every variable of `model` to `directory` (created if needed) as `weights.bin` and `model.json`.
 * `weights.bin` is written first and `model.json` last; `model.json` carries the CRC-32 of `weights.bin`, so
 * a directory caught between the two renames is rejected on load instead of loading mixed weights.
 *
 * @example
 * await saveWeightsToDirectory(model, 'checkpoints/resnet20');
 */
export async function saveWeightsToDirectory(model: KdModel, directory: string): Promise<void> {
  if (typeof directory !== 'string' || directory === '') {
    throw new Error(`saveWeightsToDirectory: directory must be a non-empty string, got ${JSON.stringify(directory)}`);
  }
  const artifacts = await saveWeights(model);
  mkdirSync(directory, { recursive: true });
  const manifest: WeightsModelJson = {
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    userDefinedMetadata: artifacts.userDefinedMetadata,
  };
  writeFileAtomicSync(join(directory, 'weights.bin'), new Uint8Array(artifacts.weightData));
  writeFileAtomicSync(
    join(directory, 'model.json'),
    new TextEncoder().encode(`${JSON.stringify(manifest, null, 1)}\n`),
  );
}

/**
 * Loads the weights in `directory` (a `model.json` weights manifest and the binary files it lists) into
 * `model`, with every check of `loadWeights`. Errors name the file and what is wrong.
 *
 * @example
 * const model = createModel('resnet20', { numClasses: 100 });
 * loadWeightsFromDirectory(model, 'checkpoints/resnet20');
 */
export function loadWeightsFromDirectory(model: KdModel, directory: string): void {
  const fn = 'loadWeightsFromDirectory';
  if (typeof directory !== 'string' || directory === '') {
    throw new Error(`${fn}: directory must be a non-empty string, got ${JSON.stringify(directory)}`);
  }
  const jsonPath = join(directory, 'model.json');
  let text: string;
  try {
    text = readFileSync(jsonPath, 'utf8');
  } catch (error) {
    throw new Error(`${fn}: cannot read ${jsonPath}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${fn}: ${jsonPath} is not valid JSON (${(error as Error).message})`);
  }
  const manifest = (parsed as { weightsManifest?: unknown } | null)?.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length === 0) {
    throw new Error(`${fn}: ${jsonPath} has no weightsManifest array`);
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const weightData: ArrayBuffer[] = [];
  for (const [index, group] of manifest.entries()) {
    const { paths, weights } = (group ?? {}) as { paths?: unknown; weights?: unknown };
    if (!Array.isArray(paths) || !Array.isArray(weights)) {
      throw new Error(`${fn}: ${jsonPath}: weightsManifest[${index}] needs 'paths' and 'weights' arrays`);
    }
    weightSpecs.push(...(weights as tf.io.WeightsManifestEntry[]));
    for (const path of paths) {
      if (typeof path !== 'string' || isAbsolute(path) || normalize(path).startsWith('..')) {
        throw new Error(
          `${fn}: ${jsonPath}: weight file path ${JSON.stringify(path)} must be relative and inside the directory`,
        );
      }
      const file = join(directory, path);
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (error) {
        throw new Error(`${fn}: cannot read weight file ${file}: ${(error as Error).message}`);
      }
      weightData.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    }
  }
  const userDefinedMetadata = (parsed as Pick<tf.io.ModelArtifacts, 'userDefinedMetadata'>).userDefinedMetadata;
  try {
    loadWeightsAs(fn, model, { weightSpecs, weightData, userDefinedMetadata });
  } catch (error) {
    const message = (error as Error).message.replace(`${fn}: `, `${fn}: ${directory}: `);
    throw new Error(message);
  }
}

export { loadTorchCheckpoint, saveSafetensorsFile } from './torch/node';
export type { TorchLoadOptions, TorchLoadResult } from './torch/load';
