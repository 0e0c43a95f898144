import type * as tf from '@tensorflow/tfjs-core';
import type { ModelOutput } from '@kd/models';
import type { OutputShapes } from './types';

/**
 * Which feature a method reads, in RepDistiller's terms (`features` = stem, stage outputs…, pooled vector):
 * - `stages`: `feat[1:-1]`, every stage output (AT, NST, VID);
 * - `lastMap`: `feat[-2]`, the last conv map (SP, FT, MIMKD's teacher side);
 * - `pooled`: `feat[-1]`, the penultimate vector (RKD, PKT, CC, CRD, ICD);
 * - `allMaps`: `feat[:-1]` (FSP).
 */
export type FeatureSelection = 'stages' | 'lastMap' | 'pooled' | 'allMaps';

/**
 * Indices of `features` a selection covers (validated against the probe shapes). `allowVectors` also accepts
 * `[N, D]` entries where maps are expected (VID's non-spatial students: an MLP's hidden vectors).
 */
export function selectFeatureIndices(
  where: string,
  who: 'student' | 'teacher',
  shapes: OutputShapes,
  selection: FeatureSelection,
  { allowVectors = false }: { allowVectors?: boolean } = {},
): number[] {
  const count = shapes.features.length;
  const need = (minimum: number, what: string) => {
    if (count < minimum) {
      throw new Error(
        `${where} needs the ${who}'s ${what}, but ${who}.apply returned ${count} feature tensor(s); it must return ` +
          `[stem, ...stage outputs, pooled vector] (KdModel.features)`,
      );
    }
  };
  let indices: number[];
  switch (selection) {
    case 'stages':
      need(3, 'stage feature maps (features[1:-1])');
      indices = Array.from({ length: count - 2 }, (_, index) => index + 1);
      break;
    case 'lastMap':
      need(2, 'last feature map (features[-2])');
      indices = [count - 2];
      break;
    case 'pooled':
      need(1, 'pooled feature vector (features[-1])');
      indices = [count - 1];
      break;
    case 'allMaps':
      need(3, 'feature maps (features[:-1])');
      indices = Array.from({ length: count - 1 }, (_, index) => index);
      break;
  }
  const expectedRank = selection === 'pooled' ? 2 : 4;
  for (const index of indices) {
    const rank = shapes.features[index]?.length;
    if (rank !== expectedRank && !(allowVectors && rank === 2)) {
      throw new Error(
        `${where} needs ${who}.features[${index}] to be rank ${expectedRank} ` +
          `(${expectedRank === 4 ? '[N, H, W, C]' : '[N, D]'}), got [${shapes.features[index]?.join(',')}]`,
      );
    }
  }
  return indices;
}

/** The tensors at `indices`. */
export function pick(output: ModelOutput, indices: readonly number[]): tf.Tensor[] {
  return indices.map((index) => output.features[index] as tf.Tensor);
}

/** Throws unless student and teacher have the same number of selected maps. */
export function assertSameCount(where: string, student: readonly number[], teacher: readonly number[], what: string): void {
  if (student.length !== teacher.length) {
    throw new Error(`${where}: student and teacher must have the same number of ${what}: student ${student.length}, teacher ${teacher.length}`);
  }
}

/** The channel (last) dimension of a probed shape. */
export function channelsOf(shape: readonly number[]): number {
  return shape[shape.length - 1] as number;
}
