/**
 * `loadTorchStateDict`: a PyTorch checkpoint (torch.save zip or legacy, or safetensors) into a zoo model.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertKnownOptions } from '@kd/internal';
import type { KdModel, NamedVariable } from '../types';
import { describeShape, errorContext, type ErrorContext } from './errors';
import { readCheckpoint, type CheckpointFormat } from './formats';
import { identifyArchitecture, torchShape, zooAxesFromTorch } from './layout';
import type { PickleValue } from './pickle';
import { isFloating, readAsFloat32, TorchTensor } from './tensor';
import { namedVariablesOf } from '../weights';

/** Options of {@link loadTorchStateDict} and `loadTorchCheckpoint`. */
export interface TorchLoadOptions {
  /**
   * The entry of the checkpoint that holds the state dict. Default: the checkpoint itself when it is a
   * state dict, else its `'model'` entry (RepDistiller's `train_teacher.py`), else its `'state_dict'` entry.
   */
  key?: string;
  /**
   * As PyTorch's `load_state_dict(strict=...)`: when false, keys of the checkpoint the model lacks and
   * variables of the model the checkpoint lacks are reported in the result instead of refused (the
   * model's missing variables keep their values). Shapes must match either way. Default true.
   */
  strict?: boolean;
}

/** What {@link loadTorchStateDict} read. */
export interface TorchLoadResult {
  format: CheckpointFormat;
  /** The checkpoint entry the state dict came from (`'model'`, `'state_dict'`, …), `''` for a bare one. */
  entry: string;
  /** Model variables set from the checkpoint, by their PyTorch names. */
  loadedKeys: string[];
  /** Model variables the checkpoint lacks (empty unless `strict: false`). */
  missingKeys: string[];
  /** Checkpoint keys the model has no variable for (empty unless `strict: false`); `num_batches_tracked` is never one. */
  unexpectedKeys: string[];
}

const optionKeys: readonly (keyof TorchLoadOptions)[] = ['key', 'strict'];

/**
 * Reads a PyTorch checkpoint into `model`, whose variables carry the reference's `state_dict` names (every
 * model of the zoo). Formats: `torch.save`'s zip (PyTorch ≥ 1.6), its legacy format (PyTorch < 1.6, the
 * published RepDistiller teachers) and safetensors. Wrappers: a bare state dict, RepDistiller's
 * `{'model': sd, 'epoch', 'accuracy', 'optimizer'}` (the rest is skipped), `{'state_dict': sd}`, or the
 * entry named by `options.key`; the `module.` prefix of `nn.DataParallel` is removed.
 *
 * Layouts: conv weight `W_zoo[u, v, c, o] = W_torch[o, c, u, v]`, linear `W_zoo[i, o] = W_torch[o, i]`, BN
 * `weight/bias/running_mean/running_var` as they are; `num_batches_tracked` is ignored; float16, bfloat16
 * and float64 storages are converted to float32.
 *
 * The pickle reader refuses any global outside PyTorch's `weights_only` allow-list, so a checkpoint cannot
 * run code. Every mismatch is an error naming the key (missing and unexpected keys, shapes with both sides,
 * the checkpoint's architecture when it is another zoo model); nothing of the model changes unless the
 * whole load succeeds. Browser-safe: `bytes` can come from `fetch`.
 *
 * @example
 * const teacher = createModel('resnet32x4', { numClasses: 100 });
 * loadTorchStateDict(teacher, new Uint8Array(await (await fetch('resnet32x4.pth')).arrayBuffer()));
 */
export function loadTorchStateDict(
  model: KdModel,
  bytes: Uint8Array | ArrayBuffer,
  options?: TorchLoadOptions,
): TorchLoadResult {
  return loadTorchStateDictAs(errorContext('loadTorchStateDict'), model, bytes, options);
}

/** {@link loadTorchStateDict} with the function name and file path its errors carry. */
export function loadTorchStateDictAs(
  context: ErrorContext,
  model: KdModel,
  bytes: Uint8Array | ArrayBuffer,
  options?: TorchLoadOptions,
): TorchLoadResult {
  const { fn } = context;
  const entries = namedVariablesOf(fn, model);
  assertKnownOptions(fn, options, optionKeys);
  const { key, strict = true } = options ?? {};
  if (key !== undefined && typeof key !== 'string')
    throw new Error(`${fn}: options.key must be a string, got ${typeof key}`);
  if (typeof strict !== 'boolean') throw new Error(`${fn}: options.strict must be a boolean, got ${String(strict)}`);
  const data = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(data instanceof Uint8Array))
    throw new Error(`${fn}: bytes must be a Uint8Array or an ArrayBuffer, got ${describe(bytes)}`);

  const checkpoint = readCheckpoint(data, context);
  const { entry, stateDict: raw } = findStateDict(checkpoint.root, key, context);
  const stateDict = withoutDataParallelPrefix(raw);

  const byName = new Map(entries.map((variable) => [variable.name, variable]));
  const ignored = (name: string): boolean => name.endsWith('num_batches_tracked') && !byName.has(name);
  const mismatched: Array<{ rank: number; text: string }> = [];
  const missingKeys: string[] = [];
  for (const { name, variable } of entries) {
    const tensor = stateDict.get(name);
    if (tensor === undefined) {
      missingKeys.push(name);
      continue;
    }
    const wanted = torchShape(variable.shape);
    if (tensor.shape.length !== wanted.length || tensor.shape.some((size, axis) => size !== wanted[axis])) {
      mismatched.push({
        rank: wanted.length,
        text: `${name} is ${describeShape(tensor.shape)}, the model wants ${describeShape(wanted)}`,
      });
    }
  }
  const unexpectedKeys = [...stateDict.keys()].filter((name) => !byName.has(name) && !ignored(name));
  const into = (): string => {
    const relevant = new Map([...stateDict].filter(([name]) => !ignored(name)));
    const found = identifyArchitecture(relevant);
    if (found === undefined) return `checkpoint into ${model.name}`;
    if (found.name === model.name && found.numClasses !== model.numClasses) {
      return `${found.name} checkpoint (${found.numClasses} classes) into ${model.name} (${model.numClasses} classes)`;
    }
    return `${found.name} checkpoint into ${model.name}`;
  };
  if (mismatched.length > 0) {
    const more = mismatched.length > 3 ? `; … (${mismatched.length} shapes differ)` : '';
    // Weights first (stable order): their shapes tell the architectures apart, BN vectors only the widths.
    const shown = [...mismatched].sort((a, b) => Math.min(b.rank, 2) - Math.min(a.rank, 2)).slice(0, 3);
    context.fail(`${into()}: ${shown.map(({ text }) => text).join('; ')}${more}`);
  }
  if (strict && missingKeys.length > 0) {
    context.fail(`${into()}: the checkpoint lacks ${missingKeys.length} key(s) the model has: ${preview(missingKeys)}`);
  }
  if (strict && unexpectedKeys.length > 0) {
    context.fail(
      `${into()}: the checkpoint holds ${unexpectedKeys.length} key(s) the model does not have: ${preview(unexpectedKeys)} (strict: false ignores them)`,
    );
  }

  // Decode everything first: a failure here leaves the model untouched.
  const decoded: Array<{ target: NamedVariable; values: Float32Array }> = [];
  for (const target of entries) {
    const tensor = stateDict.get(target.name);
    if (tensor === undefined) continue;
    if (!isFloating(tensor.dtype))
      context.fail(`tensor '${target.name}' is ${tensor.dtype}; the model's variables need floating-point values`);
    const values = readAsFloat32(tensor, zooAxesFromTorch(tensor.shape.length));
    for (let index = 0; index < values.length; index++) {
      if (!Number.isFinite(values[index] as number))
        context.fail(`tensor '${target.name}' holds ${values[index]} at element ${index}`);
    }
    decoded.push({ target, values });
  }
  for (const { target, values } of decoded) {
    tf.tidy(() => target.variable.assign(tf.tensor(values, target.variable.shape, 'float32')));
  }
  return {
    format: checkpoint.format,
    entry,
    loadedKeys: decoded.map(({ target }) => target.name),
    missingKeys,
    unexpectedKeys,
  };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return typeof value;
}

function isStateDict(value: PickleValue | undefined): value is Map<string, TorchTensor> {
  if (!(value instanceof Map) || value.size === 0) return false;
  for (const [name, entry] of value) if (typeof name !== 'string' || !(entry instanceof TorchTensor)) return false;
  return true;
}

function findStateDict(
  root: PickleValue,
  key: string | undefined,
  context: ErrorContext,
): { entry: string; stateDict: Map<string, TorchTensor> } {
  const topKeys = root instanceof Map ? [...root.keys()].map(String) : [];
  if (key !== undefined) {
    if (!(root instanceof Map) || !root.has(key)) {
      context.fail(
        `options.key '${key}' is not in the checkpoint; its entries are: ${topKeys.join(', ') || '(none: it is not a dict)'}`,
      );
    }
    const value = (root as Map<PickleValue, PickleValue>).get(key);
    if (!isStateDict(value)) context.fail(`checkpoint entry '${key}' is not a state dict (a dict of tensors)`);
    return { entry: key, stateDict: value as Map<string, TorchTensor> };
  }
  if (isStateDict(root)) return { entry: '', stateDict: root };
  if (root instanceof Map) {
    for (const candidate of ['model', 'state_dict']) {
      const value = root.get(candidate);
      if (isStateDict(value)) return { entry: candidate, stateDict: value };
    }
  }
  return context.fail(
    root instanceof Map
      ? `no state dict in the checkpoint: it is a dict with entries ${topKeys.join(', ')} and none of 'model', 'state_dict' holds one; pass options.key`
      : 'no state dict in the checkpoint: it is not a dict of tensors',
  );
}

/** `nn.DataParallel` saves every key as `module.<key>`. */
function withoutDataParallelPrefix(stateDict: Map<string, TorchTensor>): Map<string, TorchTensor> {
  const prefix = 'module.';
  if (![...stateDict.keys()].every((name) => name.startsWith(prefix))) return stateDict;
  return new Map([...stateDict].map(([name, tensor]) => [name.slice(prefix.length), tensor]));
}

function preview(names: string[]): string {
  return names.length <= 8 ? names.join(', ') : `${names.slice(0, 8).join(', ')}, …`;
}
