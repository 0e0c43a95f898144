/**
 * Argument checks of the trainer: the shared helpers of @kd/internal (one message format,
 * `fn: arg must be <expectation>, got <value>`), re-exported so the trainer's modules import one place.
 */
export { assertBoolean, assertNumber, assertObject, assertOneOf, describeValue } from '@kd/internal';
export type { NumberConstraints } from '@kd/internal';
