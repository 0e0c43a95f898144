/**
 * Batch normalisation in training mode as two kernels that work in place on the wasm heap (no intermediate
 * tensors), instead of the dozen full passes of the composition (moments, batchNorm, and for the gradient
 * two sums, products and the affine input gradient). NHWC, channels innermost; n = N·H·W positions.
 *
 * Forward, two passes: (1) per channel the sums of (x − K) and (x − K)² in float64, with K the channel's
 * first value (a shift that keeps the one-pass variance from cancelling when |μ| ≫ σ), giving μ and the
 * biased σ²; (2) y = x·a + b with a = scale/√(σ² + ε), b = offset − μ·a. The running statistics move as
 * PyTorch's: (1 − m)·running + m·μ and (1 − m)·running + m·σ²·n/(n − 1).
 *
 * Backward, two passes: (1) per channel Σ dy and Σ dy·(x − μ) in float64; dOffset = Σ dy, dScale =
 * Σ dy·(x − μ)/σ with σ = √(σ² + ε); (2) dx = s·(dy − dOffset/n − (x − μ)·dScale/(nσ)) = s·dy + a·x + b with
 * s = scale/σ, a = −s·dScale/(nσ), b = −a·μ − s·dOffset/n.
 */
import { BATCH_NORM_TRAINING_GRAD_KERNEL, BATCH_NORM_TRAINING_KERNEL } from '@kd/internal';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

const NAME = `${BATCH_NORM_TRAINING_KERNEL} (@kd/wasm-training)`;
const GRAD_NAME = `${BATCH_NORM_TRAINING_GRAD_KERNEL} (@kd/wasm-training)`;

/** The part of tfjs-backend-wasm's backend these kernels use. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

function floatInput(
  name: string,
  inputs: Record<string, TensorInfo | undefined>,
  key: string,
  shape?: number[],
): TensorInfo {
  const info = inputs[key];
  if (info === undefined) throw new Error(`${name}: input ${key} is required`);
  if (info.dtype !== 'float32') throw new Error(`${name}: ${key} must be float32, got ${info.dtype}`);
  if (
    shape !== undefined &&
    (info.shape.length !== shape.length || info.shape.some((size, axis) => size !== shape[axis]))
  ) {
    throw new Error(`${name}: ${key} must have shape [${shape.join(',')}], got [${info.shape.join(',')}]`);
  }
  return info;
}

function positiveNumber(name: string, attrs: Record<string, unknown> | undefined, key: string): number {
  const value = attrs?.[key];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${name}: ${key} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

/** Channels C and positions n = N·H·W of an NHWC input. */
function geometry(name: string, x: TensorInfo): { channels: number; positions: number } {
  if (x.shape.length !== 4) throw new Error(`${name}: x must be rank 4 [N,H,W,C], got shape [${x.shape.join(',')}]`);
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  return { channels, positions: batch * height * width };
}

export const batchNormTraining: KernelFunc = ({ inputs, backend, attrs }) => {
  const heap = backend as unknown as WasmHeapBackend;
  const named = inputs as Record<string, TensorInfo | undefined>;
  const x = floatInput(NAME, named, 'x');
  const { channels, positions } = geometry(NAME, x);
  if (positions < 2)
    throw new Error(`${NAME}: training mode needs more than one value per channel, got shape [${x.shape.join(',')}]`);
  const scaleInfo = floatInput(NAME, named, 'scale', [channels]);
  const offsetInfo = floatInput(NAME, named, 'offset', [channels]);
  const runningMeanInfo = floatInput(NAME, named, 'runningMean', [channels]);
  const runningVarianceInfo = floatInput(NAME, named, 'runningVariance', [channels]);
  const epsilon = positiveNumber(NAME, attrs, 'epsilon');
  const momentum = positiveNumber(NAME, attrs, 'momentum');

  const outputs = [x.shape, [channels], [channels], [channels], [channels]].map((shape) =>
    heap.makeOutput(shape, 'float32'),
  );
  // Views made after every allocation: an allocation may grow the heap and detach older views.
  const [yInfo, meanInfo, varianceInfo, newMeanInfo, newVarianceInfo] = outputs as [
    TensorInfo,
    TensorInfo,
    TensorInfo,
    TensorInfo,
    TensorInfo,
  ];
  const xs = heap.typedArrayFromHeap(x);
  const ys = heap.typedArrayFromHeap(yInfo);
  const scale = heap.typedArrayFromHeap(scaleInfo);
  const offset = heap.typedArrayFromHeap(offsetInfo);

  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) shift[c] = xs[c] as number;
  const sum = new Float64Array(channels);
  const sumSquares = new Float64Array(channels);
  for (let p = 0, i = 0; p < positions; p++) {
    for (let c = 0; c < channels; c++, i++) {
      const d = (xs[i] as number) - (shift[c] as number);
      sum[c] = (sum[c] as number) + d;
      sumSquares[c] = (sumSquares[c] as number) + d * d;
    }
  }
  const mean = heap.typedArrayFromHeap(meanInfo);
  const variance = heap.typedArrayFromHeap(varianceInfo);
  const a = new Float32Array(channels);
  const b = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const centredMean = (sum[c] as number) / positions;
    const batchVariance = Math.max((sumSquares[c] as number) / positions - centredMean * centredMean, 0);
    const batchMean = (shift[c] as number) + centredMean;
    mean[c] = batchMean;
    variance[c] = batchVariance;
    const factor = (scale[c] as number) / Math.sqrt(batchVariance + epsilon);
    a[c] = factor;
    b[c] = (offset[c] as number) - batchMean * factor;
  }
  for (let p = 0, i = 0; p < positions; p++) {
    for (let c = 0; c < channels; c++, i++) ys[i] = (xs[i] as number) * (a[c] as number) + (b[c] as number);
  }
  const runningMean = heap.typedArrayFromHeap(runningMeanInfo);
  const runningVariance = heap.typedArrayFromHeap(runningVarianceInfo);
  const newMean = heap.typedArrayFromHeap(newMeanInfo);
  const newVariance = heap.typedArrayFromHeap(newVarianceInfo);
  const unbiased = positions / (positions - 1);
  for (let c = 0; c < channels; c++) {
    newMean[c] = (1 - momentum) * (runningMean[c] as number) + momentum * (mean[c] as number);
    newVariance[c] = (1 - momentum) * (runningVariance[c] as number) + momentum * (variance[c] as number) * unbiased;
  }
  return outputs;
};

export const batchNormTrainingGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const heap = backend as unknown as WasmHeapBackend;
  const named = inputs as Record<string, TensorInfo | undefined>;
  const x = floatInput(GRAD_NAME, named, 'x');
  const { channels, positions } = geometry(GRAD_NAME, x);
  const dyInfo = floatInput(GRAD_NAME, named, 'dy', x.shape);
  const scaleInfo = floatInput(GRAD_NAME, named, 'scale', [channels]);
  const meanInfo = floatInput(GRAD_NAME, named, 'mean', [channels]);
  const varianceInfo = floatInput(GRAD_NAME, named, 'variance', [channels]);
  const epsilon = positiveNumber(GRAD_NAME, attrs, 'epsilon');

  const outputs = [x.shape, [channels], [channels]].map((shape) => heap.makeOutput(shape, 'float32'));
  const [dxInfo, dScaleInfo, dOffsetInfo] = outputs as [TensorInfo, TensorInfo, TensorInfo];
  const xs = heap.typedArrayFromHeap(x);
  const dys = heap.typedArrayFromHeap(dyInfo);
  const dxs = heap.typedArrayFromHeap(dxInfo);
  const scale = heap.typedArrayFromHeap(scaleInfo);
  const mean = heap.typedArrayFromHeap(meanInfo);
  const variance = heap.typedArrayFromHeap(varianceInfo);

  const sumDy = new Float64Array(channels);
  const sumDyCentred = new Float64Array(channels);
  for (let p = 0, i = 0; p < positions; p++) {
    for (let c = 0; c < channels; c++, i++) {
      const g = dys[i] as number;
      sumDy[c] = (sumDy[c] as number) + g;
      sumDyCentred[c] = (sumDyCentred[c] as number) + g * ((xs[i] as number) - (mean[c] as number));
    }
  }
  const dScale = heap.typedArrayFromHeap(dScaleInfo);
  const dOffset = heap.typedArrayFromHeap(dOffsetInfo);
  const s = new Float32Array(channels);
  const a = new Float32Array(channels);
  const b = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const inverseStd = 1 / Math.sqrt((variance[c] as number) + epsilon);
    const gradScale = (sumDyCentred[c] as number) * inverseStd;
    const gradOffset = sumDy[c] as number;
    dScale[c] = gradScale;
    dOffset[c] = gradOffset;
    const factor = (scale[c] as number) * inverseStd;
    const slope = (-factor * gradScale * inverseStd) / positions;
    s[c] = factor;
    a[c] = slope;
    b[c] = -slope * (mean[c] as number) - (factor * gradOffset) / positions;
  }
  for (let p = 0, i = 0; p < positions; p++) {
    for (let c = 0; c < channels; c++, i++) {
      dxs[i] = (dys[i] as number) * (s[c] as number) + (xs[i] as number) * (a[c] as number) + (b[c] as number);
    }
  }
  return outputs;
};

export const batchNormTrainingConfig: KernelConfig = {
  kernelName: BATCH_NORM_TRAINING_KERNEL,
  backendName: 'wasm',
  kernelFunc: batchNormTraining,
};

export const batchNormTrainingGradConfig: KernelConfig = {
  kernelName: BATCH_NORM_TRAINING_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: batchNormTrainingGrad,
};
