/**
 * The input gradient of a (depthwise) convolution as a stride-1 convolution, shared by
 * Conv2DBackpropInput and DepthwiseConv2dNativeBackpropInput.
 *
 * Per spatial axis, with stride s, dilation d, filter size K and top pad p, the forward pass reads
 * x[o·s + k·d − p], so its adjoint is
 *   dx[h] = Σ_{o,k : o·s + k·d − p = h} dy[o] · w[k].
 * Insert s − 1 zeros between the rows of dy (dyz[o·s] = dy[o]) and flip the filter (w'[k] = w[K−1−k]):
 *   dx[h] = Σ_k dyz[h + p − (K−1)·d + k·d] · w'[k],
 * a stride-1 convolution with dilation d of dyz padded by (K−1)·d − p zeros in front (a negative pad crops)
 * and read over H + (K−1)·d positions.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { Conv2DInfo } from '../convInfo';
import { type ExplicitPadding, type KernelCalls, insertZeros, spatialWindow } from '../kernelCalls';

/**
 * Returns dx `[N, H, W, C]` for `dy` given `convolve(window, pad)`, the stride-1 convolution with the
 * flipped filter at the forward dilation, applied to the zero-inserted dy window.
 */
export function adjointConvolution(
  calls: KernelCalls,
  dy: TensorInfo,
  info: Conv2DInfo,
  convolve: (window: TensorInfo, pad: ExplicitPadding) => TensorInfo,
): TensorInfo {
  const reachHeight = (info.filterHeight - 1) * info.dilationHeight;
  const reachWidth = (info.filterWidth - 1) * info.dilationWidth;
  const spread = insertZeros(calls, dy, [info.strideHeight, info.strideWidth]);
  const window = spatialWindow(
    calls,
    spread,
    { start: info.padInfo.top - reachHeight, length: info.inHeight + reachHeight },
    { start: info.padInfo.left - reachWidth, length: info.inWidth + reachWidth },
  );
  // Every input position is outside the receptive field of every output: the gradient is zero.
  if (window === null) return calls.zeros(info.inShape);
  return convolve(window.x, window.pad);
}

/**
 * 1×1 filters: apply the (channel-mixing) filter first, on the small dy, then spread the result to the input
 * grid: dx[h] = m[o] where o·s − p = h, zero elsewhere, with m = dy · wᵀ.
 */
export function spreadToInput(calls: KernelCalls, mixed: TensorInfo, info: Conv2DInfo): TensorInfo {
  const spread = insertZeros(calls, mixed, [info.strideHeight, info.strideWidth]);
  const window = spatialWindow(
    calls,
    spread,
    { start: info.padInfo.top, length: info.inHeight },
    { start: info.padInfo.left, length: info.inWidth },
  );
  if (window === null) return calls.zeros(info.inShape);
  return calls.pad(window.x, window.pad);
}
