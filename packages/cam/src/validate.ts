/**
 * Input validation for @kd/cam: the shared checks of @kd/internal (one message format, naming the public
 * function and the argument, e.g. `eigenCam: activations must be rank 3 or 4 [H, W, C] or [N, H, W, C], got
 * rank 2 [3,4]`), re-exported so the package's modules import one place, and the checks only this package needs.
 */
import type * as tf from '@tensorflow/tfjs-core';

export { assertBoolean, assertFloat, assertGradientsRegistered, assertNumber, assertRank } from '@kd/internal';

/** Throws when any dimension is zero. */
export function assertNonEmpty(fn: string, arg: string, tensor: tf.Tensor): void {
  if (tensor.size === 0) throw new Error(`${fn}: ${arg} is empty [${tensor.shape.join(',')}]`);
}
