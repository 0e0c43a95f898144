/**
 * UnsortedSegmentSum for the wasm backend (stock wasm has none; `tf.gather`'s gradient reaches it):
 *   out[s, ...] = Σ_{i : ids[i] = s} x[i, ...],  s ∈ [0, numSegments),
 * as one wasm ScatterNd (which adds duplicate indices) of x's rows at their segment ids. Ids outside
 * [0, numSegments) contribute nothing, as on the cpu backend.
 */
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { runKernelCalls } from '../kernelCalls';

const NAME = 'UnsortedSegmentSum (@kd/wasm-training)';

export const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  const segmentIds = inputs.segmentIds;
  if (x === undefined || segmentIds === undefined) throw new Error(`${NAME}: inputs x and segmentIds are required`);
  const numSegments = (attrs as { numSegments?: number } | undefined)?.numSegments;
  if (typeof numSegments !== 'number' || !Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`${NAME}: numSegments must be a non-negative integer, got ${String(numSegments)}`);
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32')
    throw new Error(`${NAME}: x must be float32 or int32, got ${x.dtype}`);
  const idRank = segmentIds.shape.length;
  if (segmentIds.shape.some((size, axis) => size !== x.shape[axis])) {
    throw new Error(
      `${NAME}: segmentIds shape [${segmentIds.shape.join(',')}] must be a prefix of x shape [${x.shape.join(',')}]`,
    );
  }
  const count = segmentIds.shape.reduce((a, b) => a * b, 1);
  const rowShape = x.shape.slice(idRank);
  const outShape = [numSegments, ...rowShape];
  return runKernelCalls(backend, NAME, (calls) => {
    const ids = calls.read(segmentIds);
    const valid: number[] = [];
    for (let index = 0; index < count; index++) {
      const id = ids[index] as number;
      if (id >= 0 && id < numSegments) valid.push(index);
    }
    if (valid.length === 0 || numSegments === 0) {
      return calls.run('Fill', {}, { shape: outShape, value: 0, dtype: x.dtype });
    }
    let rows = calls.reshape(x, [count, ...rowShape]);
    let indices = calls.reshape(segmentIds, [count, 1]);
    if (valid.length < count) {
      const keep = calls.constant(Int32Array.from(valid), [valid.length], 'int32');
      rows = calls.run('GatherV2', { x: rows, indices: keep }, { axis: 0, batchDims: 0 });
      indices = calls.constant(
        Int32Array.from(valid, (index) => ids[index] as number),
        [valid.length, 1],
        'int32',
      );
    }
    return calls.run('ScatterNd', { indices, updates: rows }, { shape: outShape });
  });
};

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
