/**
 * Argument checks shared by every published package. Each throws an `Error` in one format,
 * `fn: arg must be <expectation>, got <value>`, e.g. `createLoader: options.batchSize must be > 0, got 0`,
 * and returns the value typed, so a check and its use are one expression.
 */

/**
 * A short description of `value` for error messages: numbers, booleans and bigints as written, strings
 * quoted (`'abc' (a string)`), and `null`, `undefined`, `an array`, `a function` or `an object` otherwise.
 *
 * @example describeValue('4') // "'4' (a string)"
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `'${value}' (a string)`;
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value);
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      return 'an object';
  }
}

export interface NumberConstraints {
  /** Require an integer (a safe one: |value| ≤ 2^53 − 1). */
  integer?: boolean;
  /** Require > 0. */
  positive?: boolean;
  /** Require ≥ 0. */
  nonNegative?: boolean;
  /** Inclusive lower bound. */
  min?: number;
  /** Inclusive upper bound. */
  max?: number;
}

/**
 * Throws unless `value` is a finite number meeting every constraint; returns it.
 *
 * @example assertNumber('createLoader', 'options.batchSize', 0, { integer: true, positive: true })
 * // Error: createLoader: options.batchSize must be > 0, got 0
 */
export function assertNumber(fn: string, arg: string, value: unknown, constraints: NumberConstraints = {}): number {
  const fail = (expectation: string): never => {
    throw new Error(`${fn}: ${arg} must be ${expectation}, got ${describeValue(value)}`);
  };
  if (typeof value !== 'number' || !Number.isFinite(value))
    return fail(constraints.integer === true ? 'an integer' : 'a finite number');
  if (constraints.integer === true && !Number.isSafeInteger(value)) fail('an integer');
  if (constraints.positive === true && !(value > 0)) fail('> 0');
  if (constraints.nonNegative === true && !(value >= 0)) fail('>= 0');
  if (constraints.min !== undefined && value < constraints.min) fail(`>= ${constraints.min}`);
  if (constraints.max !== undefined && value > constraints.max) fail(`<= ${constraints.max}`);
  return value;
}

/** {@link assertNumber} with `integer: true`. */
export function assertInteger(
  fn: string,
  arg: string,
  value: unknown,
  constraints: Omit<NumberConstraints, 'integer'> = {},
): number {
  return assertNumber(fn, arg, value, { ...constraints, integer: true });
}

/** Throws unless `value` is a boolean; returns it. */
export function assertBoolean(fn: string, arg: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new Error(`${fn}: ${arg} must be a boolean, got ${describeValue(value)}`);
  return value;
}

/** Throws unless `value` is a plain object (not null, not an array); returns it. */
export function assertObject(fn: string, arg: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${fn}: ${arg} must be an object, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Throws unless `value` is one of `allowed`; the message lists them:
 * `renderHeatmap: options.colormap must be one of 'jet', 'gray', got 'red' (a string)`.
 */
export function assertOneOf<T extends string>(fn: string, arg: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const list = allowed.map((entry) => `'${entry}'`).join(', ');
    throw new Error(`${fn}: ${arg} must be one of ${list}, got ${describeValue(value)}`);
  }
  return value as T;
}

/** Seeds are integers in [0, 2^32): the range every seeded generator of the packages takes. */
export const SEED_LIMIT = 4294967296;

/**
 * The one seed policy: a seed is an integer in [0, 2^32) (callers default it to 0). Returns it.
 *
 * @example assertSeed('buildModel', 'options.seed', options.seed ?? 0)
 */
export function assertSeed(fn: string, arg: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= SEED_LIMIT) {
    throw new Error(`${fn}: ${arg} must be an integer in [0, 2^32), got ${describeValue(value)}`);
  }
  return value;
}
