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

/**
 * Throws unless `value` is a non-empty float32 tensor of the given rank whose trailing dimensions equal
 * `trailing` (entries left undefined are free), with finite values (per `checks`). `layout` names the axes for
 * the message.
 */
export function assertInput(
  fn: string,
  arg: string,
  value: unknown,
  layout: string,
  trailing: Array<number | undefined>,
  checks: ValueCheckTiming,
): tf.Tensor {
  const rank = trailing.length + 1;
  const tensor = assertRank(fn, arg, value, rank, layout);
  assertFloat(fn, arg, tensor);
  assertNonEmptyBatch(fn, arg, tensor);
  trailing.forEach((size, index) => {
    if (size !== undefined && tensor.shape[index + 1] !== size) {
      throw new Error(`${fn}: ${arg} must have shape ${layout} with ${layout.split(',')[index + 1]?.replace(/[\]\s]/g, '')} = ${size}, got [${tensor.shape.join(',')}]`);
    }
  });
  assertFiniteValues(fn, arg, tensor, checks);
  return tensor;
}
