/**
 * Argument checks of @kd/data: the shared helpers of @kd/internal (one message format,
 * `fn: arg must be <expectation>, got <value>`, e.g. `createLoader: options.batchSize must be > 0, got 0`),
 * re-exported so the package's modules import one place, and the checks only this package needs.
 */
import { describeValue } from '@kd/internal';

export { assertBoolean, assertNumber, assertOneOf } from '@kd/internal';

/** Throws unless `value` is a Uint8Array. */
export function assertBytes(fn: string, arg: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array))
    throw new Error(`${fn}: ${arg} must be a Uint8Array, got ${describeValue(value)}`);
  return value;
}
