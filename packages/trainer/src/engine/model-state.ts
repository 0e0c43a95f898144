import type * as tf from '@tensorflow/tfjs-core';
import type { KdModel } from '@kd/models';
import { assignVariables, collectVariables } from './loop';
import { crc32 } from '@kd/internal';

/** Adds a model's trainable and non-trainable (BN running statistics) variables under `prefix`. */
export function collectModel(map: Map<string, tf.Tensor>, prefix: string, model: KdModel): void {
  collectVariables(map, `${prefix}/trainable`, model.trainableVariables);
  collectVariables(map, `${prefix}/nonTrainable`, model.nonTrainableVariables);
}

/** Restores what {@link collectModel} saved, checking shapes. */
export function restoreModel(fn: string, map: Map<string, tf.Tensor>, prefix: string, model: KdModel): void {
  assignVariables(fn, `${prefix}/trainable`, model.trainableVariables, map);
  assignVariables(fn, `${prefix}/nonTrainable`, model.nonTrainableVariables, map);
}

/** Shapes of a model's variables: part of the resume fingerprint. */
export function describeModel(model: KdModel): { name: string; numClasses: number; variableShapes: number[][] } {
  return {
    name: model.name,
    numClasses: model.numClasses,
    variableShapes: [...model.trainableVariables, ...model.nonTrainableVariables].map((variable) => [
      ...variable.shape,
    ]),
  };
}

/** CRC-32 of every variable's values in order (the teacher's weights: part of the resume fingerprint). */
export function hashVariables(model: KdModel): string {
  let crc = 0;
  for (const variable of [...model.trainableVariables, ...model.nonTrainableVariables]) {
    const values = variable.dataSync();
    crc = crc32(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), crc);
  }
  return crc.toString(16).padStart(8, '0');
}
