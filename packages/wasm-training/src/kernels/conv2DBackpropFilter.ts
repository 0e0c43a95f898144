/**
 * Conv2DBackpropFilter for the wasm backend (stock wasm has none): the filter gradient as one XNNPACK
 * convolution with the roles of batch and channels swapped.
 *
 * With stride s, dilation d and top pad p (per spatial axis),
 *   dw[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·s + kh·d − p, ow·s + kw·d − p, ci] · dy[n, oh, ow, co].
 * Take x' = xᵀ `[Ci, H, W, N]` as a batch of Ci images with N channels and f = dy `[OH, OW, N, Co]` as the
 * filter: conv2d(x', f) with stride d, dilation s and pad p gives `[Ci, KH, KW, Co]`, transposed to
 * `[KH, KW, Ci, Co]`. The input window is cut to exactly (KH − 1)·d + (OH − 1)·s + 1 rows, so rows that no
 * output reads (valid padding with a stride that does not divide) are dropped rather than padded.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { type KernelCalls, runKernelCalls } from '../kernelCalls';
import { type Conv2DInfo, filterGradientWindow, gradientKernelCall } from '../convInfo';

const NAME = 'Conv2DBackpropFilter (@kd/wasm-training)';

/** The part of tfjs-backend-wasm's backend the im2col copy uses. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

/**
 * The filter gradient as the batch-and-channels-swapped convolution (see the file's comment): one XNNPACK
 * convolution whose filter is dy.
 */
function swappedConvolution(calls: KernelCalls, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const swapped = calls.transpose(x, [3, 1, 2, 0]);
  const window = filterGradientWindow(calls, swapped, info);
  if (window === null) return calls.zeros(info.filterShape);
  const dyFilter = calls.transpose(dy, [1, 2, 0, 3]);
  const perChannel = calls.conv2d(window.x, dyFilter, window.strides, window.dilations, window.pad);
  return calls.transpose(perChannel, [1, 2, 0, 3]);
}

/**
 * The filter gradient as im2col + one matrix product: patches P `[N·OH·OW, KH·KW·Ci]` with
 * P[(n,oh,ow), (kh,kw,ci)] = x[n, oh·s + kh·d − p, ow·s + kw·d − p, ci] (0 outside), copied row by row on
 * the wasm heap, then dwᵀ = dyᵀ·P `[Co, KH·KW·Ci]` on XNNPACK, transposed to `[KH, KW, Ci, Co]`.
 */
function im2colProduct(
  calls: KernelCalls,
  backend: object,
  x: TensorInfo,
  dy: TensorInfo,
  info: Conv2DInfo,
): TensorInfo {
  const heap = backend as WasmHeapBackend;
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, outChannels } =
    info;
  const rows = batchSize * outHeight * outWidth;
  const columns = filterHeight * filterWidth * inChannels;
  const patchesInfo = calls.adopt(heap.makeOutput([rows, columns], 'float32'), 'im2col');
  const patches = heap.typedArrayFromHeap(patchesInfo);
  const xs = heap.typedArrayFromHeap(x);
  let at = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * info.strideHeight + kh * info.dilationHeight - info.padInfo.top;
          for (let kw = 0; kw < filterWidth; kw++, at += inChannels) {
            const iw = ow * info.strideWidth + kw * info.dilationWidth - info.padInfo.left;
            if (ih < 0 || ih >= inHeight || iw < 0 || iw >= inWidth) {
              patches.fill(0, at, at + inChannels);
            } else {
              const from = ((n * inHeight + ih) * inWidth + iw) * inChannels;
              patches.set(xs.subarray(from, from + inChannels), at);
            }
          }
        }
      }
    }
  }
  const dyMatrix = calls.reshape(dy, [rows, outChannels]);
  const product = calls.run('BatchMatMul', { a: dyMatrix, b: patchesInfo }, { transposeA: true, transposeB: false });
  const transposed = calls.transpose(calls.reshape(product, [outChannels, columns]), [1, 0]);
  return calls.reshape(transposed, info.filterShape);
}

/** Which formulation runs for a layer: see {@link setFilterGradientMethod} and the README's measurements. */
export type FilterGradientMethod = 'swapped-convolution' | 'im2col';

let forcedMethod: FilterGradientMethod | undefined;

/** Forces one formulation for every layer (benchmarks and tests); undefined restores the per-shape rule. */
export function setFilterGradientMethod(method: FilterGradientMethod | undefined): void {
  forcedMethod = method;
}

/**
 * The formulation for a layer. `pnpm bench:filter` measured both on every 3×3 and strided 1×1 layer shape
 * of resnet20, resnet8x4 and wrn16_2 at batch 64 (README): the swapped convolution was faster on all 3×3
 * layers (1.2–3× , the im2col copy alone costs about as much as the convolution) and tied on the 1×1 ones,
 * so it runs everywhere; im2col stays for that benchmark.
 */
export function filterGradientMethod(): FilterGradientMethod {
  return forcedMethod ?? 'swapped-convolution';
}

export const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { operand: x, dy, info } = gradientKernelCall(NAME, 'filter', false, inputs, attrs);
  return runKernelCalls(backend, NAME, (calls) => {
    if (filterGradientMethod() === 'im2col') return im2colProduct(calls, backend, x, dy, info);
    return swappedConvolution(calls, x, dy, info);
  });
};

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter,
};
