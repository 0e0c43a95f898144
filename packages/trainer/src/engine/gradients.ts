import * as tf from '@tensorflow/tfjs-core';

/**
 * Throws when gradients are not registered. tfjs-core alone registers none; this turns tfjs's cryptic
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

/**
 * Frees the tensors a failed `tf.variableGrads` left on tfjs's gradient tape. Each recorded kernel keeps
 * copies of its inputs for the backward pass; tfjs frees them only after a successful backward pass, so a
 * loss (or gradient) that throws would leak them on every failed step. Only the outermost tape is released
 * (a nested gradient computation still owns its tape).
 */
export function releaseGradientTape(): void {
  const state = tf.engine().state;
  if (state.gradientDepth !== 0 || state.activeTape == null) return;
  for (const node of state.activeTape) for (const tensor of node.saved ?? []) tensor.dispose();
  state.activeTape = null as unknown as typeof state.activeTape;
}
