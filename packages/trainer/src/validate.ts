/**
 * Config validation for the trainer, in the style of `@kd/losses`: every check throws an Error that starts
 * with the public function's name and names the offending option, e.g.
 * `distillStudent: objectives[1].method 'kdd' is unknown; known methods: ce, kd, ...`.
 */

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

/** Throws unless `value` is a finite number meeting the constraints. */
export function assertNumber(fn: string, arg: string, value: unknown, constraints: NumberConstraints = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${fn}: ${arg} must be a finite number, got ${describeValue(value)}`);
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
  if (typeof value !== 'boolean') throw new Error(`${fn}: ${arg} must be a boolean, got ${describeValue(value)}`);
  return value;
}

/** Throws unless `value` is one of `allowed` (the message lists them). */
export function assertOneOf<T extends string>(fn: string, arg: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new Error(`${fn}: ${arg} must be one of ${allowed.join(', ')}, got ${describeValue(value)}`);
  }
  return value as T;
}

/** Throws unless `value` is a plain object (not null, not an array). */
export function assertObject(fn: string, arg: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${fn}: ${arg} must be an object, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}

/** A short description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `'${value}' (a string)`;
  if (typeof value === 'number') return String(value);
  return typeof value;
}
