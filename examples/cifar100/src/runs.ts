/**
 * Run directories: `<out-dir>/<run-name>/` holds the trainer's files (checkpoint, metrics.jsonl, run.json,
 * curves.png) and, once the run has finished, the final weights in `model/` (model.json + weights.bin).
 * Other commands refer to a run by its name (looked up in `--out-dir`) or by its directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { createModel, type KdModel } from '@kd/models';
import { crc32 } from '@kd/internal';
import {
  loadTorchCheckpoint,
  loadWeightsFromDirectory,
  saveWeightsToDirectory,
  type WeightsModelJson,
} from '@kd/models/node';
import type { RunRecord } from '@kd/trainer';

export const RUN_RECORD_FILE = 'run.json';
export const MODEL_DIRECTORY = 'model';

/** The directory of a run given by name (inside `outDir`) or by a path (contains a separator, or exists). */
export function resolveRunDirectory(outDir: string, reference: string): string {
  if (isAbsolute(reference) || reference.includes('/') || reference.includes(sep) || reference.startsWith('.'))
    return resolve(reference);
  return resolve(outDir, reference);
}

/** `run.json` of a run directory, or undefined when there is none. A corrupt file is an error naming it. */
export function readRunRecord(directory: string): RunRecord | undefined {
  const path = join(directory, RUN_RECORD_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${(error as Error).message}); delete it to start the run again`);
  }
}

/**
 * A run is finished when its run record says so and its final weights load (every check of
 * `loadWeightsFromDirectory`: a truncated or corrupt `model/` is not a finished run).
 */
export function isFinished(directory: string, { needsModel = true }: { needsModel?: boolean } = {}): boolean {
  const record = readRunRecord(directory);
  if (record?.status !== 'finished') return false;
  return !needsModel || unusableRunModel(directory) === undefined;
}

/**
 * Why the final weights in `<run>/model/` cannot be used, or undefined when they can: `model.json` must parse,
 * each weight file must hold exactly the bytes its specs describe, and their CRC-32 must match the one
 * `model.json` records. Works for any saved model (zoo or linear probe) without building it.
 */
export function unusableRunModel(directory: string): string | undefined {
  const modelDirectory = join(directory, MODEL_DIRECTORY);
  const jsonPath = join(modelDirectory, 'model.json');
  if (!existsSync(jsonPath)) return `${jsonPath} is missing`;
  let parsed: WeightsModelJson;
  try {
    parsed = JSON.parse(readFileSync(jsonPath, 'utf8')) as WeightsModelJson;
  } catch (error) {
    return `${jsonPath} is not valid JSON (${(error as Error).message})`;
  }
  const groups = Array.isArray(parsed.weightsManifest) ? parsed.weightsManifest : [];
  if (groups.length === 0) return `${jsonPath} has no weightsManifest`;
  let crc = 0;
  for (const group of groups) {
    const expected = (group.weights ?? []).reduce(
      (total, spec) => total + 4 * spec.shape.reduce((product, size) => product * size, 1),
      0,
    );
    let bytes = 0;
    for (const path of group.paths ?? []) {
      const file = join(modelDirectory, path);
      if (!existsSync(file)) return `${file} is missing`;
      const data = readFileSync(file);
      bytes += data.length;
      crc = crc32(data, crc);
    }
    if (bytes !== expected)
      return `${join(modelDirectory, (group.paths ?? []).join(', '))} holds ${bytes} bytes, model.json describes ${expected} (truncated or corrupt)`;
  }
  const recorded = parsed.userDefinedMetadata?.kdModels?.crc32;
  if (typeof recorded === 'number' && recorded !== crc)
    return `the weights' CRC-32 is ${crc}, model.json records ${recorded} (corrupt)`;
  return undefined;
}

/** Reads the architecture from a saved `model/model.json`, builds it and loads the weights. */
export function loadRunModel(directory: string, role: string, hint: string): KdModel {
  const modelDirectory = join(directory, MODEL_DIRECTORY);
  const jsonPath = join(modelDirectory, 'model.json');
  if (!existsSync(jsonPath)) {
    const record = readRunRecord(directory);
    const state = record === undefined ? 'does not exist' : `has status '${record.status}' and no final weights`;
    throw new Error(`${role}: the run ${directory} ${state} (${jsonPath} is missing). ${hint}`);
  }
  let metadata: { model?: unknown; numClasses?: unknown };
  try {
    const parsed = JSON.parse(readFileSync(jsonPath, 'utf8')) as {
      userDefinedMetadata?: { kdModels?: { model?: unknown; numClasses?: unknown } };
    };
    metadata = parsed.userDefinedMetadata?.kdModels ?? {};
  } catch (error) {
    throw new Error(`${role}: ${jsonPath} is not valid JSON (${(error as Error).message})`);
  }
  if (typeof metadata.model !== 'string' || typeof metadata.numClasses !== 'number') {
    throw new Error(`${role}: ${jsonPath} does not name its model and class count (userDefinedMetadata.kdModels)`);
  }
  const model = createModel(metadata.model, { numClasses: metadata.numClasses });
  try {
    loadWeightsFromDirectory(model, modelDirectory);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/** A PyTorch checkpoint file instead of a run: `.pth`, `.pt`, `.pth.tar` (torch.save) or `.safetensors`. */
export function isTorchCheckpoint(reference: string): boolean {
  return /\.(pth|pt|tar|safetensors)$/i.test(reference);
}

/**
 * The teacher of a command: a PyTorch checkpoint file (RepDistiller's published teachers, `--teacher
 * path.pth`) loaded into a fresh `architecture` (`--teacher-model`, default the preset's teacher), or a run
 * directory as {@link loadRunModel} reads it.
 */
export function loadTeacher(
  reference: string,
  { architecture, numClasses, role, hint }: { architecture: string; numClasses: number; role: string; hint: string },
): KdModel {
  if (!isTorchCheckpoint(reference)) return loadRunModel(reference, role, hint);
  const model = createModel(architecture, { numClasses });
  try {
    loadTorchCheckpoint(model, reference);
  } catch (error) {
    model.dispose();
    throw new Error(`${role}: ${(error as Error).message} (pass --teacher-model with the checkpoint's architecture)`);
  }
  return model;
}

/** Writes the final weights of a finished run to `<run>/model/`. */
export async function saveRunModel(directory: string, model: KdModel): Promise<void> {
  await saveWeightsToDirectory(model, join(directory, MODEL_DIRECTORY));
}
