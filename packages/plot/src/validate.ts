/**
 * Input validation for @kd/plot: every check throws an Error that starts with the public function's name and
 * names the offending argument, e.g. `createImage: width must be > 0, got 0`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Throws unless `value` is a live tf.Tensor of one of the given ranks; `layout` documents the expected shape. */
export function assertRank(
  fn: string,
  arg: string,
  value: unknown,
  ranks: number | number[],
  layout: string,
): tf.Tensor {
  if (!(value instanceof tf.Tensor)) {
    throw new Error(`${fn}: ${arg} must be a tf.Tensor, got ${value === null ? 'null' : typeof value}`);
  }
  if (value.isDisposed) throw new Error(`${fn}: ${arg} has been disposed`);
  const allowed = Array.isArray(ranks) ? ranks : [ranks];
  if (!allowed.includes(value.rank)) {
    const got = `rank ${value.rank} [${value.shape.join(',')}]`;
    throw new Error(`${fn}: ${arg} must be rank ${allowed.join(' or ')} ${layout}, got ${got}`);
  }
  return value;
}

export interface NumberConstraints {
  positive?: boolean;
  nonNegative?: boolean;
  integer?: boolean;
  min?: number;
  max?: number;
}

/** Throws unless `value` is a finite number meeting the constraints. */
export function assertNumber(
  fn: string,
  arg: string,
  value: unknown,
  constraints: NumberConstraints = {},
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    const got = typeof value === 'number' ? value : typeof value;
    throw new Error(`${fn}: ${arg} must be a finite number, got ${got}`);
  }
  if (constraints.integer && !Number.isInteger(value)) {
    throw new Error(`${fn}: ${arg} must be an integer, got ${value}`);
  }
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

/** Throws unless `value` is one of `allowed`, listing the valid values. */
export function assertOneOf<T extends string>(fn: string, arg: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new Error(`${fn}: unknown ${arg} '${String(value)}'; valid values: ${allowed.join(', ')}`);
  }
  return value as T;
}
