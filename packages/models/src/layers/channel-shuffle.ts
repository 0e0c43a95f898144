/**
 * ShuffleNet's channel shuffle on NHWC tensors.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Interleaves the channels of `groups` groups: input channel i·(C/g) + j (group i) moves to j·g + i, i.e. view the
 * channels as a [groups, C/groups] matrix and transpose it (PyTorch's view-permute-reshape). Done as one
 * rank-3 transpose of [N·H·W, groups, C/groups], no gather (whose gradient the wasm backend lacks).
 *
 * @example
 * channelShuffle(x, 2); // channels [a0 a1 b0 b1] → [a0 b0 a1 b1]
 */
export function channelShuffle(x: tf.Tensor4D, groups: number): tf.Tensor4D {
  const [batch, height, width, channels] = x.shape;
  if (channels % groups !== 0)
    throw new Error(`channelShuffle: ${channels} channels do not divide into ${groups} groups`);
  if (groups === 1) return x;
  const grid = tf.reshape(x, [batch * height * width, groups, channels / groups]);
  return tf.reshape(tf.transpose(grid, [0, 2, 1]), [batch, height, width, channels]);
}
