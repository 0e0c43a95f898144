/**
 * Checks shared by the information-theoretic losses on top of `../validate`, and a re-export of the tensor
 * building blocks they use (`../tensor-utils`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkInputPair } from '../input-pair';
import { assertFloatInput, assertFiniteValues, checkReducedValues, type ValueCheckTiming } from '../validate';

export { assertKnownOptions, valueChecks, type ValueCheckOption, type ValueCheckTiming } from '../validate';
export { diagonalCrossEntropy, klDivergencePerRow, l2NormalizeRows, oneHotFloat, stopGradient } from '../tensor-utils';

/**
 * Throws unless `value` is a non-empty float32 rank-2 tensor (`layout`, e.g. `[N, C]`) of finite values (the
 * values per `checks`); returns it typed.
 */
export function assertMatrix(
  fn: string,
  arg: string,
  value: unknown,
  layout: string,
  checks: ValueCheckTiming,
): tf.Tensor2D {
  const tensor = assertFloatInput(fn, arg, value, 2, layout, checks) as tf.Tensor2D;
  if (tensor.shape[1] < 1)
    throw new Error(`${fn}: ${arg} must have at least one column, got [${tensor.shape.join(',')}]`);
  return tensor;
}

/**
 * {@link assertMatrix} on two arguments of one `layout`, given as `{ argA: a, argB: b }` (see
 * `checkInputPair`), that must also have the same shape.
 */
export function assertMatrixPair(
  fn: string,
  pair: Readonly<Record<string, unknown>>,
  layout: string,
  checks: ValueCheckTiming,
): [tf.Tensor2D, tf.Tensor2D] {
  return checkInputPair(fn, pair, (arg, value) => assertMatrix(fn, arg, value, layout, checks), 'shape');
}

/**
 * Throws unless `value` is a finite number or a finite float32 scalar tensor; `positive` also requires > 0 (a
 * tensor's value is checked per `checks`).
 */
export function assertNumberOrScalar(
  fn: string,
  arg: string,
  value: unknown,
  { positive = false, checks }: { positive?: boolean; checks: ValueCheckTiming },
): number | tf.Scalar {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${fn}: ${arg} must be a finite number, got ${value}`);
    if (positive && !(value > 0)) throw new Error(`${fn}: ${arg} must be > 0, got ${value}`);
    return value;
  }
  if (!(value instanceof tf.Tensor)) {
    throw new Error(
      `${fn}: ${arg} must be a number or a scalar tf.Tensor, got ${value === null ? 'null' : typeof value}`,
    );
  }
  if (value.isDisposed) throw new Error(`${fn}: ${arg} has been disposed`);
  if (value.rank !== 0)
    throw new Error(`${fn}: ${arg} must be a scalar (rank 0), got rank ${value.rank} [${value.shape.join(',')}]`);
  if (value.dtype !== 'float32') throw new Error(`${fn}: ${arg} must be float32, got ${value.dtype}`);
  assertFiniteValues(fn, arg, value, checks);
  if (positive) {
    const scalar = value;
    checkReducedValues(
      () => tf.clone(scalar),
      (values) => ((values[0] as number) > 0 ? undefined : `${fn}: ${arg} must be > 0, got ${values[0]}`),
      checks,
    );
  }
  return value as tf.Scalar;
}

/** Throws when a tensor holds a negative value (unless `checks` is `'off'`; see `ValueCheckMode`). */
export function assertNonNegativeValues(fn: string, arg: string, tensor: tf.Tensor, checks: ValueCheckTiming): void {
  checkReducedValues(
    () => tf.min(tensor),
    (values) => ((values[0] as number) < 0 ? `${fn}: ${arg} must be non-negative, found ${values[0]}` : undefined),
    checks,
  );
}
