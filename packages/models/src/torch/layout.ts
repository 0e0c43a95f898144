/**
 * The zoo's layouts against PyTorch's, and the shapes a zoo architecture would create (without creating
 * them), so a checkpoint of another architecture can be named in the error.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { architectureBuilder, listModels } from '../registry';
import { VariableStore } from '../variable-store';
import type { TorchTensor } from './tensor';

/**
 * For a zoo variable of rank r, the PyTorch axis each zoo axis comes from: conv `[kh, kw, in/groups, out]`
 * ← `[out, in/groups, kh, kw]`, linear `[in, out]` ← `[out, in]`, everything else unchanged.
 */
export function zooAxesFromTorch(rank: number): number[] {
  if (rank === 4) return [2, 3, 1, 0];
  if (rank === 2) return [1, 0];
  return Array.from({ length: rank }, (_, axis) => axis);
}

/** For a zoo variable of rank r, the zoo axis each PyTorch axis comes from (the inverse of the above). */
export function torchAxesFromZoo(rank: number): number[] {
  const forward = zooAxesFromTorch(rank);
  const inverse = new Array<number>(rank);
  forward.forEach((torchAxis, zooAxis) => (inverse[torchAxis] = zooAxis));
  return inverse;
}

/** The PyTorch shape of a zoo variable of shape `shape`. */
export function torchShape(shape: readonly number[]): number[] {
  return torchAxesFromZoo(shape.length).map((axis) => shape[axis] as number);
}

/** A store that records names and shapes and allocates nothing (the layers only keep the handles). */
class ShapeRecorder extends VariableStore {
  readonly shapes: Array<{ name: string; shape: number[] }> = [];

  override create(name: string, shape: number[]): tf.Variable {
    this.shapes.push({ name, shape: torchShape(shape) });
    return { shape } as unknown as tf.Variable;
  }
}

function architectureShapes(
  name: string,
  numClasses: number,
  inputChannels: number,
): Array<{ name: string; shape: number[] }> | undefined {
  const build = architectureBuilder(name);
  if (build === undefined) return undefined;
  const recorder = new ShapeRecorder(0);
  try {
    build(recorder.scope(''), { numClasses, inputChannels });
  } catch {
    return undefined;
  }
  return recorder.shapes;
}

/**
 * The zoo architecture whose state dict is exactly `stateDict` (keys and PyTorch shapes), with the class
 * count and input channels read from it; undefined when none is.
 */
export function identifyArchitecture(
  stateDict: ReadonlyMap<string, TorchTensor>,
): { name: string; numClasses: number } | undefined {
  for (const name of listModels()) {
    const probe = architectureShapes(name, 1, 1);
    if (probe === undefined || probe.length !== stateDict.size) continue;
    const first = stateDict.get((probe[0] as { name: string }).name);
    const last = stateDict.get((probe[probe.length - 1] as { name: string }).name);
    if (first === undefined || last === undefined || first.shape.length < 2) continue;
    const numClasses = last.shape[0] as number;
    const candidate = architectureShapes(name, numClasses, first.shape[1] as number);
    const matches = candidate?.every(({ name: key, shape }) => {
      const tensor = stateDict.get(key);
      return (
        tensor !== undefined &&
        tensor.shape.length === shape.length &&
        tensor.shape.every((size, axis) => size === shape[axis])
      );
    });
    if (matches === true) return { name, numClasses };
  }
  return undefined;
}
