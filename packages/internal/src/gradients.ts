import * as tf from '@tensorflow/tfjs-core';

/**
 * Throws when tfjs's gradients are not registered. tfjs-core alone registers none; this turns tfjs's cryptic
 * "gradient function not found for Multiply" into a message that says which import fixes it.
 */
export function assertGradientsRegistered(fn: string): void {
  if (tf.getGradient('Multiply') === undefined) {
    throw new Error(
      `${fn}: tfjs gradients are not registered. @tensorflow/tfjs-core alone registers none: import ` +
        `'@tensorflow/tfjs' (or '@tensorflow/tfjs-node') once in your entry point before training.`,
    );
  }
}
