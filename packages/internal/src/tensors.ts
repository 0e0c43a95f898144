/** Tensor argument checks shared by the packages: the same message format as ./validate. */
import * as tf from '@tensorflow/tfjs-core';

/** `rank 3 [2,3,4]`, for messages. */
export function describeShape(tensor: tf.Tensor): string {
  return `rank ${tensor.rank} [${tensor.shape.join(',')}]`;
}

/** Throws unless `value` is a live (not disposed) tf.Tensor. */
export function assertTensor(fn: string, arg: string, value: unknown): asserts value is tf.Tensor {
  if (!(value instanceof tf.Tensor)) {
    throw new Error(`${fn}: ${arg} must be a tf.Tensor, got ${value === null ? 'null' : typeof value}`);
  }
  if (value.isDisposed) throw new Error(`${fn}: ${arg} has been disposed`);
}

/**
 * Throws unless `value` is a tensor of one of `ranks`; `layout` documents the expected shape:
 * `kdLoss: studentLogits must be rank 2 [N, C], got rank 3 [2,3,4]`.
 */
export function assertRank(
  fn: string,
  arg: string,
  value: unknown,
  ranks: number | readonly number[],
  layout: string,
): tf.Tensor {
  assertTensor(fn, arg, value);
  const allowed: readonly number[] = typeof ranks === 'number' ? [ranks] : ranks;
  if (!allowed.includes(value.rank)) {
    throw new Error(`${fn}: ${arg} must be rank ${allowed.join(' or ')} ${layout}, got ${describeShape(value)}`);
  }
  return value;
}

/** Throws unless `tensor` is float32. */
export function assertFloat(fn: string, arg: string, tensor: tf.Tensor): void {
  if (tensor.dtype !== 'float32') throw new Error(`${fn}: ${arg} must be float32, got ${tensor.dtype}`);
}
