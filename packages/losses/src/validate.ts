/**
 * Input validation shared by every loss and regularizer. Each check throws an Error that starts with the
 * public function's name and names the offending argument, e.g.
 * `kdLoss: studentLogits must be rank 2 [N, C], got rank 3 [2,3,4]`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertFloat, assertRank, assertKnownOptions as rejectUnknownOptions } from '@kd/internal';

export { assertFloat, assertNumber, assertRank } from '@kd/internal';

/**
 * When the value checks of one call run (the `checkValues` option, see {@link ValueCheckOption}):
 * - `'auto'` (default): synchronously on backends whose tensors live in host memory (`cpu`, `wasm`,
 *   `tensorflow`), deferred on the others (`webgl`, `webgpu`, …), where a synchronous read would stall the
 *   device pipeline on every call;
 * - `true`: synchronously everywhere (the error is thrown by the call that received the bad input);
 * - `'deferred'`: everywhere through an asynchronous read; a failure is thrown by the next checked call of any
 *   @kd/losses function, or by {@link flushValueChecks};
 * - `false`: never (the call reads no values and leaves pending deferred failures for a later checked call).
 */
export type ValueCheckMode = boolean | 'auto' | 'deferred';

/**
 * The option every @kd/losses function that scans tensor values accepts (in its options object; a
 * regularizer takes it in its constructor options, for every call of the instance). Value checks cover
 * labels in range and no NaN or ±Infinity in inputs; each reads one small reduced tensor or the labels back
 * to the host. Shapes, ranks, dtypes and options are always checked.
 *
 * @example
 * kdLoss(studentLogits, teacherLogits, { checkValues: false }); // inputs known good: no device read
 * kdLoss(studentLogits, teacherLogits, { checkValues: true }); // synchronous, even on webgl / webgpu
 */
export interface ValueCheckOption {
  /** When this call checks tensor values, see {@link ValueCheckMode}. Default `'auto'`. */
  checkValues?: ValueCheckMode;
}

/** How one call runs its value checks: synchronously, deferred (an asynchronous read), or not at all. */
export type ValueCheckTiming = 'sync' | 'deferred' | 'off';

/** Options of {@link valueCheckTiming}. */
export interface ValueCheckTimingOptions extends ValueCheckOption {
  /** The backend name. Default: the active backend (`tf.getBackend()`). */
  backend?: string;
}

const VALUE_CHECK_MODES: readonly ValueCheckMode[] = [true, false, 'auto', 'deferred'];

/** Backends whose tensor data is in host memory, so a synchronous read costs a copy, not a pipeline stall. */
const HOST_MEMORY_BACKENDS: readonly string[] = ['cpu', 'wasm', 'tensorflow'];

function timingOf(mode: ValueCheckMode, backend: string): ValueCheckTiming {
  if (mode === false) return 'off';
  if (mode === true) return 'sync';
  if (mode === 'deferred') return 'deferred';
  return HOST_MEMORY_BACKENDS.includes(backend) ? 'sync' : 'deferred';
}

/**
 * Throws unless `value` is a {@link ValueCheckMode} (or undefined, read as `'auto'`); returns the mode. `fn` names
 * the function (or constructor) that received it.
 */
export function assertValueCheckMode(fn: string, value: unknown): ValueCheckMode {
  if (value === undefined) return 'auto';
  if (!VALUE_CHECK_MODES.includes(value as ValueCheckMode)) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    throw new Error(`${fn}: checkValues must be true, false, 'auto' or 'deferred', got ${shown}`);
  }
  return value as ValueCheckMode;
}

/**
 * How the value checks of a call run: its `checkValues` mode (default `'auto'`) resolved on `backend`
 * (default the active one): `'sync'`, `'deferred'` or `'off'`.
 *
 * @example
 * valueCheckTiming({ backend: 'webgl' }); // 'deferred'
 * valueCheckTiming({ checkValues: true, backend: 'webgl' }); // 'sync'
 */
export function valueCheckTiming(options: ValueCheckTimingOptions = {}): ValueCheckTiming {
  const fn = 'valueCheckTiming';
  assertKnownOptions(fn, options, ['checkValues', 'backend']);
  const mode = assertValueCheckMode(fn, options.checkValues);
  const backend = options.backend ?? tf.getBackend();
  if (typeof backend !== 'string') throw new Error(`${fn}: backend must be a string, got ${typeof backend}`);
  return timingOf(mode, backend);
}

/**
 * The value checks of one call from its `checkValues` option (validated; the error names `fn`), resolved on
 * the active backend. Every public function passes the result to the checks below.
 */
export function valueChecks(fn: string, checkValues: unknown): ValueCheckTiming {
  return timingOf(assertValueCheckMode(fn, checkValues), tf.getBackend());
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
 * `verify` turns its host values into an error message or undefined. Synchronous, deferred or skipped per
 * `timing` (the call's {@link valueChecks}); a deferred check keeps its tensor until the read completes, so the
 * caller may dispose its inputs at once. A call with checks off neither reads nor reports earlier failures.
 */
function runValueCheck(
  timing: ValueCheckTiming,
  compute: () => tf.Tensor,
  verify: (values: HostValues) => string | undefined,
): void {
  if (timing === 'off') return;
  throwDeferredFailure();
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
    throw new Error(
      `${fn}: ${argA} [${a.shape.join(',')}] and ${argB} [${b.shape.join(',')}] must have the same shape`,
    );
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

/** Throws when the tensor holds NaN or ±Infinity (unless `checks` is `'off'`; see {@link ValueCheckMode}). */
export function assertFiniteValues(fn: string, arg: string, tensor: tf.Tensor, checks: ValueCheckTiming): void {
  runValueCheck(
    checks,
    () => tf.all(tf.isFinite(tensor)),
    (values) => (values[0] === 1 ? undefined : `${fn}: ${arg} contains NaN or Infinity`),
  );
}

/**
 * Runs `verify` on the host values of a small tensor computed from the inputs (a reduction such as a row sum
 * or a minimum), as the other value checks do: synchronously, deferred or not at all per `checks`.
 */
export function checkReducedValues(
  compute: () => tf.Tensor,
  verify: (values: HostValues) => string | undefined,
  checks: ValueCheckTiming,
): void {
  runValueCheck(checks, compute, verify);
}

/**
 * Throws unless `labels` is an int32 `[batchSize]` tensor with every value in `[0, numClasses)` (the range is
 * checked unless `checks` is `'off'`; see {@link ValueCheckMode}).
 */
export function assertLabels(
  fn: string,
  arg: string,
  labels: unknown,
  numClasses: number,
  batchSize: number,
  checks: ValueCheckTiming,
): tf.Tensor1D {
  const tensor = assertRank(fn, arg, labels, 1, '[N]');
  if (tensor.dtype !== 'int32') throw new Error(`${fn}: ${arg} must be int32, got ${tensor.dtype}`);
  if (tensor.shape[0] !== batchSize) {
    throw new Error(`${fn}: batch sizes differ: ${arg} has ${tensor.shape[0]}, expected ${batchSize}`);
  }
  runValueCheck(
    checks,
    () => tf.clone(tensor),
    (values) => {
      for (let index = 0; index < values.length; index++) {
        const label = values[index] as number;
        if (!(label >= 0 && label < numClasses))
          return `${fn}: ${arg}[${index}] = ${label} is out of range [0, ${numClasses})`;
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
export function assertKnownOptions(
  fn: string,
  options: unknown,
  known: readonly string[],
  { required = false } = {},
): void {
  if (options === undefined && required) throw new Error(`${fn}: options are required`);
  rejectUnknownOptions(fn, options, known);
}

/**
 * Checks one float input: a tensor of an allowed rank, float32, a non-empty batch and (unless `checks` is
 * `'off'`) no NaN or ±Infinity.
 */
export function assertFloatInput(
  fn: string,
  arg: string,
  value: unknown,
  ranks: number | number[],
  layout: string,
  checks: ValueCheckTiming,
): tf.Tensor {
  const tensor = assertRank(fn, arg, value, ranks, layout);
  assertFloat(fn, arg, tensor);
  assertNonEmptyBatch(fn, arg, tensor);
  assertFiniteValues(fn, arg, tensor, checks);
  return tensor;
}
