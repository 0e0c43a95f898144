import * as tf from '@tensorflow/tfjs-core';

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
