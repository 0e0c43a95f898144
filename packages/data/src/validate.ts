/**
 * Argument checks shared by every public function of @kd/data (the pattern of @kd/losses' validate.ts).
 * Each check throws an Error that starts with the public function's name and names the argument, e.g.
 * `createLoader: options.batchSize must be > 0, got 0`.
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

/** Throws unless `options` is undefined or a plain object. */
export function assertOptions(fn: string, options: unknown): void {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new Error(`${fn}: options must be an object, got ${Array.isArray(options) ? 'an array' : String(options)}`);
  }
}

/** Throws unless `value` is a boolean (or undefined when optional). */
export function assertBoolean(fn: string, arg: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new Error(`${fn}: ${arg} must be a boolean, got ${String(value)}`);
  return value;
}

/** Throws unless `value` is one of `allowed`, listing the valid values. */
export function assertOneOf<T extends string>(fn: string, arg: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new Error(`${fn}: ${arg} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${String(value)}`);
  }
  return value as T;
}

/** Throws unless `value` is a Uint8Array. */
export function assertBytes(fn: string, arg: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new Error(`${fn}: ${arg} must be a Uint8Array, got ${value === null ? 'null' : typeof value}`);
  }
  return value;
}
