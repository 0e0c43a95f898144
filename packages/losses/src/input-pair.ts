/** The two-tensor input form shared by the losses: `{ studentArg: student, teacherArg: teacher }`. */
import type * as tf from '@tensorflow/tfjs-core';
import { assertSameBatch, assertSameShape } from './validate';

/**
 * Checks two tensor arguments given as an object of exactly two entries, `{ argA: a, argB: b }` (the keys name
 * the arguments in errors, so a call passes its own parameters: `{ studentLogits, teacherLogits }`): each
 * through `check`, then that they agree on the whole shape or on the batch size. Returns them in order.
 */
export function checkInputPair<T extends tf.Tensor>(
  fn: string,
  pair: Readonly<Record<string, unknown>>,
  check: (arg: string, value: unknown) => T,
  agree: 'shape' | 'batch',
): [T, T] {
  const entries = Object.entries(pair);
  if (entries.length !== 2) throw new Error(`${fn}: internal error: expected two arguments, got ${entries.length}`);
  const [[argA, a], [argB, b]] = entries as [[string, unknown], [string, unknown]];
  const first = check(argA, a);
  const second = check(argB, b);
  if (agree === 'shape') assertSameShape(fn, argA, first, argB, second);
  else assertSameBatch(fn, argA, first, argB, second);
  return [first, second];
}
