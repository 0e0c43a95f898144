/**
 * Input validation for @kd/models (the pattern of @kd/losses): every check throws an Error that starts with
 * the public function's name and names the offending argument.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertTensor } from '@kd/internal';

export { assertInteger, assertTensor } from '@kd/internal';

export interface ValidationConfig {
  /**
   * Also check image values in `apply`: no NaN or ±Infinity. Reading them costs one device-to-host copy per
   * call; a training loop whose images are known good (decoded from uint8) turns it off. Default true.
   */
  checkValues: boolean;
}

const validationConfig: ValidationConfig = { checkValues: true };

/**
 * Sets how thoroughly @kd/models validates `apply` inputs. Shapes, ranks, dtypes and sizes are always checked.
 *
 * @example
 * configureValidation({ checkValues: false }); // skip the value scan of every apply in a hot loop
 */
export function configureValidation(options: Partial<ValidationConfig>): void {
  if (options.checkValues !== undefined) {
    if (typeof options.checkValues !== 'boolean') {
      throw new Error(`configureValidation: checkValues must be a boolean, got ${String(options.checkValues)}`);
    }
    validationConfig.checkValues = options.checkValues;
  }
}

/** The current validation settings (a copy). */
export function getValidationConfig(): ValidationConfig {
  return { ...validationConfig };
}

/** Throws unless `images` is a float32 `[N, H, W, channels]` tensor with N ≥ 1. */
export function assertImages(fn: string, arg: string, images: unknown, channels: number): tf.Tensor4D {
  assertTensor(fn, arg, images);
  if (images.rank !== 4) {
    throw new Error(`${fn}: ${arg} must be rank 4 [N, H, W, ${channels}], got rank ${images.rank} [${images.shape.join(',')}]`);
  }
  if (images.dtype !== 'float32') throw new Error(`${fn}: ${arg} must be float32, got ${images.dtype}`);
  const [batch, height, width, depth] = images.shape as [number, number, number, number];
  if (depth !== channels) {
    throw new Error(`${fn}: ${arg} must have ${channels} channels (NHWC), got shape [${images.shape.join(',')}]`);
  }
  if (batch < 1 || height < 1 || width < 1) throw new Error(`${fn}: ${arg} is empty: shape [${images.shape.join(',')}]`);
  if (validationConfig.checkValues) {
    const flags = tf.tidy(() => tf.stack([tf.any(tf.isNaN(images)), tf.any(tf.isInf(images))]));
    const [hasNaN, hasInfinity] = flags.dataSync();
    flags.dispose();
    if (hasNaN || hasInfinity) {
      throw new Error(`${fn}: ${arg} contains ${hasNaN ? 'NaN' : '±Infinity'}; images must be finite (configureValidation({ checkValues: false }) skips this scan)`);
    }
  }
  return images as tf.Tensor4D;
}
