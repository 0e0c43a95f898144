/** Option checks shared by the adapters: every message starts with the public function's name. */
import * as tf from '@tensorflow/tfjs-core';
import { assertKnownOptions, describeValue } from '@kd/internal';

export { describeValue } from '@kd/internal';

/** Checks `options` is an object with only `known` keys (`fn: unknown option 'x', did you mean 'y'?`). */
export function assertOptions(fn: string, value: unknown, known: readonly string[]): Record<string, unknown> {
  if (value === undefined) return {};
  assertKnownOptions(fn, value, known);
  return value as Record<string, unknown>;
}

/** Throws unless `value` is an array of distinct non-empty strings. */
export function assertNameList(fn: string, arg: string, value: unknown): string[] {
  if (!Array.isArray(value))
    throw new Error(`${fn}: ${arg} must be an array of layer names, got ${describeValue(value)}`);
  const seen = new Set<string>();
  value.forEach((entry, index) => {
    if (typeof entry !== 'string' || entry.length === 0) {
      throw new Error(`${fn}: ${arg}[${index}] must be a non-empty string, got ${describeValue(entry)}`);
    }
    if (seen.has(entry)) throw new Error(`${fn}: ${arg}[${index}] '${entry}' is listed twice`);
    seen.add(entry);
  });
  return value as string[];
}

/** Throws unless `value` is a non-empty string. */
export function assertName(fn: string, arg: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new Error(`${fn}: ${arg} must be a non-empty string, got ${describeValue(value)}`);
  return value;
}

/** `[N, H, W, C]` with unknown sizes as `?`, for messages. */
export function formatShape(shape: readonly (number | null | undefined)[]): string {
  return `[${shape.map((size) => (size === null || size === undefined || size < 0 ? '?' : String(size))).join(',')}]`;
}

/**
 * Checks the arguments of `KdModel.apply`: float32 NHWC images whose sizes match the model's input shape
 * (`null` = any size), a boolean `training`, an optional hook function, and an optional boolean `checkValues`
 * (default true): then the images must hold no NaN or ±Infinity (one device-to-host read of two flags).
 */
export function assertApplyArguments(
  fn: string,
  images: unknown,
  options: unknown,
  inputShape: readonly (number | null)[],
): { images: tf.Tensor4D; training: boolean } {
  const tensor = images as tf.Tensor | null | undefined;
  if (
    tensor === null ||
    typeof tensor !== 'object' ||
    !Array.isArray(tensor.shape) ||
    typeof tensor.dtype !== 'string'
  ) {
    throw new Error(`${fn}: images must be a tf.Tensor4D [N, H, W, C], got ${describeValue(images)}`);
  }
  if (tensor.dtype !== 'float32') throw new Error(`${fn}: images must be float32, got ${tensor.dtype}`);
  const fits =
    tensor.rank === 4 && inputShape.every((size, axis) => axis === 0 || size === null || size === tensor.shape[axis]);
  if (!fits) {
    throw new Error(
      `${fn}: images ${formatShape(tensor.shape)} do not fit the model's input ${formatShape(inputShape)} (NHWC)`,
    );
  }
  const opts = options as { training?: unknown; featureHook?: unknown; checkValues?: unknown } | null | undefined;
  if (opts === null || typeof opts !== 'object' || typeof opts.training !== 'boolean') {
    throw new Error(`${fn}: options.training must be a boolean, got ${describeValue(opts?.training)}`);
  }
  if (opts.featureHook !== undefined && typeof opts.featureHook !== 'function') {
    throw new Error(
      `${fn}: options.featureHook must be a function (index, feature) => tensor, got ${describeValue(opts.featureHook)}`,
    );
  }
  const checkValues = opts.checkValues ?? true;
  if (typeof checkValues !== 'boolean') {
    throw new Error(`${fn}: options.checkValues must be a boolean, got ${describeValue(checkValues)}`);
  }
  if (checkValues) assertFiniteImages(fn, tensor as tf.Tensor4D);
  return { images: tensor as tf.Tensor4D, training: opts.training };
}

/** Throws when the images hold NaN or ±Infinity (the scan `apply`'s `checkValues: false` skips). */
function assertFiniteImages(fn: string, images: tf.Tensor4D): void {
  const flags = tf.tidy(() => tf.stack([tf.any(tf.isNaN(images)), tf.any(tf.isInf(images))]));
  const [hasNaN, hasInfinity] = flags.dataSync();
  flags.dispose();
  if (hasNaN || hasInfinity) {
    throw new Error(
      `${fn}: images contains ${hasNaN ? 'NaN' : '±Infinity'}; images must be finite ` +
        "(apply's checkValues: false skips this scan)",
    );
  }
}

/** Layer (or graph node) names per named feature role: `features: { stem, stages, pooled, preactivations }`. */
export interface FeatureLayerNames {
  /** The layer whose output is `stem`. */
  stem?: string;
  /** The layers whose outputs are `stages`, in order. */
  stages?: string[];
  /** The layer whose output is `pooled`, the `[N, D]` penultimate vector. */
  pooled?: string;
  /** The layers whose outputs are `preactivations` (each stage before its last ReLU), in order. */
  preactivations?: string[];
}

/** Names of the roles, read from `features` (an array in the reference layout, or {@link FeatureLayerNames}). */
export interface FeatureNamePlan {
  /** The positional list: `[stem, ...stages, pooled]` for the object form, the array itself otherwise. */
  list: string[];
  /** Positions of stem, stages and pooled in `list`, or undefined for an array (read from the ranks). */
  roles: { stem: number | undefined; stages: number[]; pooled: number | undefined } | undefined;
  preactivations: string[];
}

/**
 * Reads `features`: an array of names (the positional list; the roles follow from the ranks, see
 * `featureRoles` of `@kd/models`), or an object naming each role. Every name is listed once.
 */
export function assertFeatureNames(fn: string, value: unknown, what: string): FeatureNamePlan {
  if (Array.isArray(value))
    return { list: assertNameList(fn, 'features', value), roles: undefined, preactivations: [] };
  if (value === null || typeof value !== 'object') {
    throw new Error(
      `${fn}: features must be an array of ${what} names or { stem, stages, pooled, preactivations }, got ${describeValue(value)}`,
    );
  }
  assertKnownOptions(fn, value, ['stem', 'stages', 'pooled', 'preactivations'], 'features');
  const named = value as Record<string, unknown>;
  const stem = named.stem === undefined ? undefined : assertName(fn, 'features.stem', named.stem);
  const stages = named.stages === undefined ? [] : assertNameList(fn, 'features.stages', named.stages);
  const pooled = named.pooled === undefined ? undefined : assertName(fn, 'features.pooled', named.pooled);
  const preactivations =
    named.preactivations === undefined ? [] : assertNameList(fn, 'features.preactivations', named.preactivations);
  const list = [...(stem === undefined ? [] : [stem]), ...stages, ...(pooled === undefined ? [] : [pooled])];
  assertNameList(fn, 'features (stem, ...stages, pooled)', list);
  const offset = stem === undefined ? 0 : 1;
  return {
    list,
    roles: {
      stem: stem === undefined ? undefined : 0,
      stages: stages.map((_, index) => offset + index),
      pooled: pooled === undefined ? undefined : list.length - 1,
    },
    preactivations,
  };
}
