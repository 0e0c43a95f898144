/**
 * Input validation shared by every loss and regularizer. Each check throws an Error that starts with the
 * public function's name and names the offending argument, e.g.
 * `kdLoss: studentLogits must be rank 2 [N, C], got rank 3 [2,3,4]`.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface ValidationConfig {
  /**
   * Also check tensor values: labels in range, no NaN or ±Infinity in inputs. Reading values costs one
   * device-to-host copy per check; turn it off in a tuned training loop once inputs are known good.
   * Default true.
   */
  checkValues: boolean;
}

const validationConfig: ValidationConfig = { checkValues: true };

/**
 * Sets how thoroughly @kd/losses validates inputs. Shapes, ranks, dtypes and options are always checked.
 *
 * @example
 * configureValidation({ checkValues: false }); // skip value scans in a hot loop
 */
export function configureValidation(options: Partial<ValidationConfig>): void {
  if (options.checkValues !== undefined) {
    if (typeof options.checkValues !== 'boolean') {
      throw new Error(`configureValidation: checkValues must be a boolean, got ${String(options.checkValues)}`);
    }
    validationConfig.checkValues = options.checkValues;
  }
}

/** The current validation settings (a copy). */
export function getValidationConfig(): ValidationConfig {
  return { ...validationConfig };
}

function describeShape(tensor: tf.Tensor): string {
  return `rank ${tensor.rank} [${tensor.shape.join(',')}]`;
}

/** Throws unless `value` is a tf.Tensor. */
export function assertTensor(fn: string, arg: string, value: unknown): asserts value is tf.Tensor {
  if (!(value instanceof tf.Tensor)) {
    throw new Error(`${fn}: ${arg} must be a tf.Tensor, got ${value === null ? 'null' : typeof value}`);
  }
  if (value.isDisposed) throw new Error(`${fn}: ${arg} has been disposed`);
}

/** Throws unless `value` is a tensor of one of the given ranks; `layout` documents the expected shape. */
export function assertRank(fn: string, arg: string, value: unknown, ranks: number | number[], layout: string): tf.Tensor {
  assertTensor(fn, arg, value);
  const allowed = Array.isArray(ranks) ? ranks : [ranks];
  if (!allowed.includes(value.rank)) {
    throw new Error(`${fn}: ${arg} must be rank ${allowed.join(' or ')} ${layout}, got ${describeShape(value)}`);
  }
  return value;
}

/** Throws unless the tensor is floating point. */
export function assertFloat(fn: string, arg: string, tensor: tf.Tensor): void {
  if (tensor.dtype !== 'float32') {
    throw new Error(`${fn}: ${arg} must be float32, got ${tensor.dtype}`);
  }
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

export interface NumberConstraints {
  /** Require > 0. */
  positive?: boolean;
  /** Require ≥ 0. */
  nonNegative?: boolean;
  /** Require an integer. */
  integer?: boolean;
  /** Inclusive lower bound. */
  min?: number;
  /** Inclusive upper bound. */
  max?: number;
}

/** Throws unless `value` is a finite number meeting the constraints. Returns it typed as number. */
export function assertNumber(fn: string, arg: string, value: unknown, constraints: NumberConstraints = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${fn}: ${arg} must be a finite number, got ${typeof value === 'number' ? value : typeof value}`);
  }
  if (constraints.integer && !Number.isInteger(value)) throw new Error(`${fn}: ${arg} must be an integer, got ${value}`);
  if (constraints.positive && !(value > 0)) throw new Error(`${fn}: ${arg} must be > 0, got ${value}`);
  if (constraints.nonNegative && !(value >= 0)) throw new Error(`${fn}: ${arg} must be >= 0, got ${value}`);
  if (constraints.min !== undefined && value < constraints.min) {
    throw new Error(`${fn}: ${arg} must be >= ${constraints.min}, got ${value}`);
  }
  if (constraints.max !== undefined && value > constraints.max) {
    throw new Error(`${fn}: ${arg} must be <= ${constraints.max}, got ${value}`);
  }
  return value;
}

/** Throws when the tensor holds NaN or ±Infinity (only when value checks are on). */
export function assertFiniteValues(fn: string, arg: string, tensor: tf.Tensor): void {
  if (!validationConfig.checkValues) return;
  const allFinite = tf.tidy(() => tf.all(tf.isFinite(tensor)));
  const ok = allFinite.dataSync()[0] === 1;
  allFinite.dispose();
  if (!ok) throw new Error(`${fn}: ${arg} contains NaN or Infinity`);
}

/**
 * Throws unless `labels` is an int32 `[batchSize]` tensor with every value in `[0, numClasses)` (the range is
 * checked only when value checks are on).
 */
export function assertLabels(fn: string, arg: string, labels: unknown, numClasses: number, batchSize: number): tf.Tensor1D {
  const tensor = assertRank(fn, arg, labels, 1, '[N]');
  if (tensor.dtype !== 'int32') throw new Error(`${fn}: ${arg} must be int32, got ${tensor.dtype}`);
  if (tensor.shape[0] !== batchSize) {
    throw new Error(`${fn}: batch sizes differ: ${arg} has ${tensor.shape[0]}, expected ${batchSize}`);
  }
  if (validationConfig.checkValues) {
    const values = tensor.dataSync();
    for (let index = 0; index < values.length; index++) {
      const label = values[index] as number;
      if (!(label >= 0 && label < numClasses)) {
        throw new Error(`${fn}: ${arg}[${index}] = ${label} is out of range [0, ${numClasses})`);
      }
    }
  }
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
  for (const key of Object.keys(options as object)) {
    if (!known.includes(key)) throw new Error(`${fn}: unknown option '${key}' (known options: ${known.join(', ')})`);
  }
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
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new Error(`${fn}: options must be an object, got ${Array.isArray(options) ? 'an array' : String(options)}`);
  }
}

/**
 * Throws when gradients are not registered. tfjs-core alone registers none; this turns tfjs's cryptic
 * "gradient function not found for Multiply" into a message that says which import fixes it.
 */
export function assertGradientsRegistered(fn: string): void {
  if (tf.getGradient('Multiply') === undefined) {
    throw new Error(
      `${fn}: tfjs gradients are not registered. @tensorflow/tfjs-core alone registers none: import ` +
        `'@tensorflow/tfjs' (or '@tensorflow/tfjs-node') once in your entry point before training.`,
    );
  }
}

/** The most values one tensor or typed array may hold here: tfjs indexes tensors with int32. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** `30.7 GB`: a byte count for messages. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toPrecision(3)} ${units[unit]}`;
}

/**
 * Throws before allocating `elements` values of `bytesPerElement` bytes (what = "the fc layer [256, 2e9]")
 * when they exceed {@link MAX_ELEMENTS}, saying how much memory they would need.
 */
export function assertAllocatable(fn: string, what: string, elements: number, bytesPerElement: number, copies = 1): void {
  if (elements <= MAX_ELEMENTS) return;
  const total = copies > 1 ? ` (${formatBytes(copies * elements * bytesPerElement)} in all)` : '';
  throw new Error(
    `${fn}: ${what} would need ${elements.toExponential(3)} values, ${formatBytes(elements * bytesPerElement)}${total}; ` +
      `one tensor holds at most ${MAX_ELEMENTS} values (${formatBytes(MAX_ELEMENTS * bytesPerElement)})`,
  );
}
