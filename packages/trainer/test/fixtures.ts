/**
 * Tiny models and data for the trainer's tests: a KdModel-conforming two-conv net with batch norm (so running
 * statistics must be checkpointed) and a 4-class synthetic image problem that such a net solves in a few epochs.
 */
import type { KdModel } from '@kd/models';

export { tinyModel } from './tiny-model';
export { syntheticDataset } from './synthetic-data';

/** Copies of every variable value (to compare runs bit for bit). */
export function snapshot(model: KdModel): Float32Array[] {
  return [...model.trainableVariables, ...model.nonTrainableVariables].map((variable) =>
    (variable.dataSync() as Float32Array).slice(),
  );
}
