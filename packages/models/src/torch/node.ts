/**
 * The file side of the PyTorch interchange (`@kd/models/node`): read a checkpoint file into a model, write a
 * model as a safetensors file (atomically).
 */
import { readFileSync } from 'node:fs';
import type { KdModel } from '../types';
import { writeFileAtomicSync } from '@kd/internal/node';
import { errorContext } from './errors';
import { loadTorchStateDictAs, type TorchLoadOptions, type TorchLoadResult } from './load';
import { saveSafetensors } from './save';

/**
 * Reads the PyTorch checkpoint at `path` (`.pth`/`.pt` in either `torch.save` format, or `.safetensors`)
 * into `model`, as `loadTorchStateDict` does; errors name the file.
 *
 * @example
 * const teacher = createModel('resnet32x4', { numClasses: 100 });
 * loadTorchCheckpoint(teacher, 'save/models/resnet32x4_vanilla/ckpt_epoch_240.pth');
 */
export function loadTorchCheckpoint(model: KdModel, path: string, options?: TorchLoadOptions): TorchLoadResult {
  const fn = 'loadTorchCheckpoint';
  if (typeof path !== 'string' || path === '')
    throw new Error(`${fn}: path must be a non-empty string, got ${JSON.stringify(path)}`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new Error(`${fn}: cannot read ${path}: ${(error as Error).message}`);
  }
  return loadTorchStateDictAs(errorContext(fn, path), model, bytes, options);
}

/**
 * Writes `model` to `path` as safetensors (see `saveSafetensors`), atomically: a temporary file beside it,
 * fsync, rename, fsync of the directory, so an interrupted write never leaves a partial file under `path`.
 *
 * @example
 * await saveSafetensorsFile(student, 'student.safetensors');
 * // Python: model.load_state_dict(safetensors.torch.load_file('student.safetensors'))
 */
export async function saveSafetensorsFile(model: KdModel, path: string): Promise<void> {
  const fn = 'saveSafetensorsFile';
  if (typeof path !== 'string' || path === '')
    throw new Error(`${fn}: path must be a non-empty string, got ${JSON.stringify(path)}`);
  const bytes = await saveSafetensors(model);
  try {
    writeFileAtomicSync(path, bytes);
  } catch (error) {
    throw new Error(`${fn}: cannot write ${path}: ${(error as Error).message}`);
  }
}
