/**
 * Input validation for @kd/cam, following the @kd/losses pattern: every check throws an Error that starts with
 * the public function's name and names the offending argument, e.g.
 * `eigenCam: activations must be rank 3 or 4 [H, W, C] or [N, H, W, C], got rank 2 [3,4]`.
 */
import * as tf from '@tensorflow/tfjs-core';

function describeShape(tensor: tf.Tensor): string {
  return `rank ${tensor.rank} [${tensor.shape.join(',')}]`;
}

/** Throws unless `value` is a live tf.Tensor. */
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

/** Throws unless the tensor is float32. */
export function assertFloat(fn: string, arg: string, tensor: tf.Tensor): void {
  if (tensor.dtype !== 'float32') throw new Error(`${fn}: ${arg} must be float32, got ${tensor.dtype}`);
}

/** Throws when any dimension is zero. */
export function assertNonEmpty(fn: string, arg: string, tensor: tf.Tensor): void {
  if (tensor.size === 0) throw new Error(`${fn}: ${arg} is empty [${tensor.shape.join(',')}]`);
}

export interface NumberConstraints {
  positive?: boolean;
  nonNegative?: boolean;
  integer?: boolean;
  min?: number;
  max?: number;
}

/** Throws unless `value` is a finite number meeting the constraints. */
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

/** Throws unless `value` is a boolean. */
export function assertBoolean(fn: string, arg: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new Error(`${fn}: ${arg} must be a boolean, got ${String(value)}`);
  return value;
}

/** Throws unless `value` is one of `allowed`, listing the valid values. */
export function assertOneOf<T extends string>(fn: string, arg: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new Error(`${fn}: unknown ${arg} '${String(value)}'; valid values: ${allowed.join(', ')}`);
  }
  return value as T;
}

/**
 * Throws when gradients are not registered. tfjs-core alone registers none; this turns tfjs's cryptic
 * "gradient function not found" into a message that says which import fixes it.
 */
export function assertGradientsRegistered(fn: string): void {
  if (tf.getGradient('Multiply') === undefined) {
    throw new Error(
      `${fn}: tfjs gradients are not registered. @tensorflow/tfjs-core alone registers none: import ` +
        `'@tensorflow/tfjs' (or '@tensorflow/tfjs-node') once in your entry point.`,
    );
  }
}
