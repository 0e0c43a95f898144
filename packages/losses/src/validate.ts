/**
 * Input validation shared by every loss and regularizer. Each check throws an Error that starts with the
 * public function's name and names the offending argument, e.g.
 * `kdLoss: studentLogits must be rank 2 [N, C], got rank 3 [2,3,4]`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertFloat, assertObject, assertRank, assertKnownOptions as rejectUnknownOptions } from '@kd/internal';

export { assertFloat, assertNumber, assertRank } from '@kd/internal';

/**
 * When value checks run:
 * - `'auto'` (default): synchronously on backends whose tensors live in host memory (`cpu`, `wasm`,
 *   `tensorflow`), deferred on the others (`webgl`, `webgpu`, …), where a synchronous read would stall the
 *   device pipeline on every call;
 * - `true`: synchronously everywhere (the error is thrown by the call that received the bad input);
 * - `'deferred'`: everywhere through an asynchronous read; a failure is thrown by the next checked call of any
 *   @kd/losses function, or by {@link flushValueChecks};
 * - `false`: never.
 */
export type ValueCheckMode = boolean | 'auto' | 'deferred';

const VALUE_CHECK_MODES: readonly ValueCheckMode[] = [true, false, 'auto', 'deferred'];

/** Backends whose tensor data is in host memory, so a synchronous read costs a copy, not a pipeline stall. */
const HOST_MEMORY_BACKENDS: readonly string[] = ['cpu', 'wasm', 'tensorflow'];

export interface ValidationConfig {
  /**
   * Also check tensor values: labels in range, no NaN or ±Infinity in inputs (see {@link ValueCheckMode}).
   * Each check reads one small reduced tensor or the labels back to the host. Default `'auto'`.
   */
  checkValues: ValueCheckMode;
}

const validationConfig: ValidationConfig = { checkValues: 'auto' };

/**
 * Sets how thoroughly @kd/losses validates inputs. Shapes, ranks, dtypes and options are always checked.
 *
 * @example
 * configureValidation({ checkValues: false }); // skip value scans in a hot loop
 * configureValidation({ checkValues: true }); // synchronous checks even on webgl / webgpu
 */
export function configureValidation(options: Partial<ValidationConfig>): void {
  rejectUnknownOptions('configureValidation', options, ['checkValues']);
  if (options.checkValues !== undefined) {
    if (!VALUE_CHECK_MODES.includes(options.checkValues)) {
      throw new Error(
        `configureValidation: checkValues must be true, false, 'auto' or 'deferred', got ${JSON.stringify(options.checkValues)}`,
      );
    }
    validationConfig.checkValues = options.checkValues;
  }
}

/** The current validation settings (a copy). */
export function getValidationConfig(): ValidationConfig {
  return { ...validationConfig };
}

/** How value checks run right now on `backend` (default: the active backend): `'sync'`, `'deferred'` or `'off'`. */
export function valueCheckTiming(backend: string = tf.getBackend()): 'sync' | 'deferred' | 'off' {
  const mode = validationConfig.checkValues;
  if (mode === false) return 'off';
  if (mode === true) return 'sync';
  if (mode === 'deferred') return 'deferred';
  return HOST_MEMORY_BACKENDS.includes(backend) ? 'sync' : 'deferred';
}

type HostValues = Float32Array | Int32Array | Uint8Array;

/** Deferred checks still reading back, and the first failure one of them found (thrown by the next check). */
const pendingChecks = new Set<Promise<void>>();
let deferredFailure: Error | undefined;

function throwDeferredFailure(): void {
  if (deferredFailure === undefined) return;
  const failure = deferredFailure;
  deferredFailure = undefined;
  throw failure;
}

/**
 * Runs one value check: `compute` builds a small tensor on the device (a reduction, or a clone of the labels),
 * `verify` turns its host values into an error message or undefined. Synchronous or deferred per
 * {@link valueCheckTiming}; a deferred check keeps its tensor until the read completes, so the caller may
 * dispose its inputs at once.
 */
function runValueCheck(compute: () => tf.Tensor, verify: (values: HostValues) => string | undefined): void {
  throwDeferredFailure();
  const timing = valueCheckTiming();
  if (timing === 'off') return;
  const tensor = tf.keep(tf.tidy(compute));
  if (timing === 'sync') {
    let message: string | undefined;
    try {
      message = verify(tensor.dataSync() as HostValues);
    } finally {
      tensor.dispose();
    }
    if (message !== undefined) throw new Error(message);
    return;
  }
  const check: Promise<void> = tensor
    .data()
    .then((values) => {
      const message = verify(values as HostValues);
      if (message !== undefined && deferredFailure === undefined) {
        deferredFailure = new Error(`${message} (found by a deferred value check after the call returned)`);
      }
    })
    .catch((error: unknown) => {
      deferredFailure ??= error instanceof Error ? error : new Error(String(error));
    })
    .finally(() => {
      tensor.dispose();
      pendingChecks.delete(check);
    });
  pendingChecks.add(check);
}

/**
 * Waits for every deferred value check (see {@link ValueCheckMode}) and throws the first failure one of them
 * found. Call it at the end of an epoch, or in a test, to learn about bad input the last call received.
 *
 * @example
 * const loss = kdLoss(studentLogits, teacherLogits); // on webgl: no synchronous read
 * await flushValueChecks(); // throws `kdLoss: studentLogits contains NaN or Infinity (...)` if it did
 */
export async function flushValueChecks(): Promise<void> {
  while (pendingChecks.size > 0) await Promise.all([...pendingChecks]);
  throwDeferredFailure();
}

/** Throws unless both tensors have exactly the same shape. */
export function assertSameShape(fn: string, argA: string, a: tf.Tensor, argB: string, b: tf.Tensor): void {
  if (a.rank !== b.rank || a.shape.some((size, axis) => size !== b.shape[axis])) {
    throw new Error(`${fn}: ${argA} [${a.shape.join(',')}] and ${argB} [${b.shape.join(',')}] must have the same shape`);
  }
}

/** Throws unless both tensors have the same size along axis 0 (the batch). */
export function assertSameBatch(fn: string, argA: string, a: tf.Tensor, argB: string, b: tf.Tensor): void {
  if (a.shape[0] !== b.shape[0]) {
    throw new Error(`${fn}: batch sizes differ: ${argA} has ${a.shape[0]}, ${argB} has ${b.shape[0]}`);
  }
}

/** Throws when the batch is empty. */
export function assertNonEmptyBatch(fn: string, arg: string, tensor: tf.Tensor): void {
  if ((tensor.shape[0] ?? 0) < 1) throw new Error(`${fn}: ${arg} has an empty batch`);
}

/** Throws when the tensor holds NaN or ±Infinity (when value checks are on; see {@link ValueCheckMode}). */
export function assertFiniteValues(fn: string, arg: string, tensor: tf.Tensor): void {
  runValueCheck(
    () => tf.all(tf.isFinite(tensor)),
    (values) => (values[0] === 1 ? undefined : `${fn}: ${arg} contains NaN or Infinity`),
  );
}

/**
 * Runs `verify` on the host values of a small tensor computed from the inputs (a reduction such as a row sum
 * or a minimum), as the other value checks do: synchronously or deferred per {@link valueCheckTiming}.
 */
export function checkReducedValues(compute: () => tf.Tensor, verify: (values: HostValues) => string | undefined): void {
  runValueCheck(compute, verify);
}

/**
 * Throws unless `labels` is an int32 `[batchSize]` tensor with every value in `[0, numClasses)` (the range is
 * checked when value checks are on; see {@link ValueCheckMode}).
 */
export function assertLabels(fn: string, arg: string, labels: unknown, numClasses: number, batchSize: number): tf.Tensor1D {
  const tensor = assertRank(fn, arg, labels, 1, '[N]');
  if (tensor.dtype !== 'int32') throw new Error(`${fn}: ${arg} must be int32, got ${tensor.dtype}`);
  if (tensor.shape[0] !== batchSize) {
    throw new Error(`${fn}: batch sizes differ: ${arg} has ${tensor.shape[0]}, expected ${batchSize}`);
  }
  runValueCheck(
    () => tf.clone(tensor),
    (values) => {
      for (let index = 0; index < values.length; index++) {
        const label = values[index] as number;
        if (!(label >= 0 && label < numClasses)) return `${fn}: ${arg}[${index}] = ${label} is out of range [0, ${numClasses})`;
      }
      return undefined;
    },
  );
  return tensor as tf.Tensor1D;
}

/**
 * Throws on option keys the function does not know: a misspelt option (`temprature`) would otherwise be
 * ignored silently and the default used. With `required`, missing options are an error too.
 */
export function assertKnownOptions(fn: string, options: unknown, known: readonly string[], { required = false } = {}): void {
  assertOptions(fn, options);
  if (options === undefined) {
    if (required) throw new Error(`${fn}: options are required`);
    return;
  }
  rejectUnknownOptions(fn, options, known);
}

/**
 * Checks one float input: a tensor of an allowed rank, float32, a non-empty batch and (when value checks are
 * on) no NaN or ±Infinity.
 */
export function assertFloatInput(fn: string, arg: string, value: unknown, ranks: number | number[], layout: string): tf.Tensor {
  const tensor = assertRank(fn, arg, value, ranks, layout);
  assertFloat(fn, arg, tensor);
  assertNonEmptyBatch(fn, arg, tensor);
  assertFiniteValues(fn, arg, tensor);
  return tensor;
}

/** Throws unless `options` is undefined or a plain object. */
export function assertOptions(fn: string, options: unknown): void {
  if (options !== undefined) assertObject(fn, 'options', options);
}
