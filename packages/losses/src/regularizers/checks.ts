/** Option and input checks the regularizers share on top of `../validate`. */
import type * as tf from '@tensorflow/tfjs-core';
import {
  assertFiniteValues,
  assertFloat,
  assertKnownOptions as assertKnownOptionsOf,
  assertNonEmptyBatch,
  assertNumber,
  assertRank,
  type ValueCheckTiming,
} from '../validate';

/**
 * Constructor options are required and may only hold known keys: `known` and `checkValues`, which every
 * regularizer takes (see `ValueCheckOption`; the base class reads it).
 */
export function assertKnownOptions(fn: string, options: unknown, known: readonly string[]): void {
  assertKnownOptionsOf(fn, options, [...known, 'checkValues'], { required: true });
}

/** A required positive integer size option. */
export function assertSize(fn: string, arg: string, value: unknown): number {
  if (value === undefined) throw new Error(`${fn}: ${arg} is required`);
  return assertNumber(fn, arg, value, { integer: true, positive: true });
}

/** An optional positive integer size option: undefined means "infer it from the first call". */
export function optionalSize(fn: string, arg: string, value: unknown): number | undefined {
  return value === undefined ? undefined : assertSize(fn, arg, value);
}

/** The trailing sizes of an NHWC map for `assertInput` / `assertShape`: only C fixed (or nothing). */
export function nhwc(channels?: number): Array<number | undefined> {
  return [undefined, undefined, channels];
}

/** The options every regularizer accepts besides its own (see `RegularizerOptions`). */
export const REGULARIZER_OPTION_KEYS = ['warnIfUntrained'] as const;

/**
 * Throws unless `shape` (an input's full shape, batch axis included) has the rank of `layout` and the given
 * trailing sizes (entries left undefined are free); `origin` is appended to a size mismatch.
 */
export function assertShape(
  fn: string,
  arg: string,
  shape: readonly number[],
  layout: string,
  trailing: Array<number | undefined>,
  origin = '',
): void {
  if (shape.length !== trailing.length + 1) {
    throw new Error(`${fn}: ${arg} must have rank ${trailing.length + 1} ${layout}, got shape [${shape.join(',')}]`);
  }
  trailing.forEach((size, index) => {
    if (size !== undefined && shape[index + 1] !== size) {
      const axis = axisName(layout, index + 1);
      const got = `got [${shape.join(',')}]`;
      throw new Error(`${fn}: ${arg} must have shape ${layout} with ${axis} = ${size}${origin}, ${got}`);
    }
  });
}

function axisName(layout: string, axis: number): string | undefined {
  return layout.split(',')[axis]?.replace(/[\]\s]/g, '');
}

/**
 * Throws unless `value` is a non-empty float32 tensor of the given rank whose trailing dimensions equal
 * `trailing` (entries left undefined are free), with finite values (per `checks`). `layout` names the axes for
 * the message; `origin` is appended to a size mismatch (where the expected size came from).
 */
export function assertInput(
  fn: string,
  arg: string,
  value: unknown,
  layout: string,
  trailing: Array<number | undefined>,
  checks: ValueCheckTiming,
  origin = '',
): tf.Tensor {
  const rank = trailing.length + 1;
  const tensor = assertRank(fn, arg, value, rank, layout);
  assertFloat(fn, arg, tensor);
  assertNonEmptyBatch(fn, arg, tensor);
  assertShape(fn, arg, tensor.shape, layout, trailing, origin);
  assertFiniteValues(fn, arg, tensor, checks);
  return tensor;
}
