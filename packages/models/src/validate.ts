/**
 * Input validation for @kd/models (the pattern of @kd/losses): every check throws an Error that starts with
 * the public function's name and names the offending argument.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertTensor } from '@kd/internal';

export { assertInteger, assertTensor } from '@kd/internal';

/** Reads `apply`'s `checkValues` option: a boolean, default true. */
export function assertCheckValues(fn: string, value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') {
    const shown = typeof value === 'string' ? `'${value}'` : String(value);
    throw new Error(`${fn}: options.checkValues must be a boolean, got ${shown}`);
  }
  return value;
}

/**
 * Throws unless `images` is a float32 `[N, H, W, channels]` tensor with N ≥ 1 and, when `checkValues`, holds no
 * NaN or ±Infinity (one device-to-host read of two flags).
 */
export function assertImages(
  fn: string,
  arg: string,
  images: unknown,
  channels: number,
  checkValues: boolean,
): tf.Tensor4D {
  assertTensor(fn, arg, images);
  if (images.rank !== 4) {
    throw new Error(
      `${fn}: ${arg} must be rank 4 [N, H, W, ${channels}], got rank ${images.rank} [${images.shape.join(',')}]`,
    );
  }
  if (images.dtype !== 'float32') throw new Error(`${fn}: ${arg} must be float32, got ${images.dtype}`);
  const [batch, height, width, depth] = images.shape as [number, number, number, number];
  if (depth !== channels) {
    throw new Error(`${fn}: ${arg} must have ${channels} channels (NHWC), got shape [${images.shape.join(',')}]`);
  }
  if (batch < 1 || height < 1 || width < 1)
    throw new Error(`${fn}: ${arg} is empty: shape [${images.shape.join(',')}]`);
  if (checkValues) {
    const flags = tf.tidy(() => tf.stack([tf.any(tf.isNaN(images)), tf.any(tf.isInf(images))]));
    const [hasNaN, hasInfinity] = flags.dataSync();
    flags.dispose();
    if (hasNaN || hasInfinity) {
      throw new Error(
        `${fn}: ${arg} contains ${hasNaN ? 'NaN' : '±Infinity'}; images must be finite ` +
          "(apply's checkValues: false skips this scan)",
      );
    }
  }
  return images as tf.Tensor4D;
}
