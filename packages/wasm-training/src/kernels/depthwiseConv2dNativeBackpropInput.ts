/**
 * DepthwiseConv2dNativeBackpropInput for the wasm backend: per channel the same adjoint as conv2d (see
 * adjointConvolution.ts), so one XNNPACK depthwise convolution of the zero-inserted dy `[N, OH', OW', C·M]`
 * with the spatially flipped filter `[KH, KW, C·M, 1]`, then a sum over the channel multiplier M:
 *   dx[n, h, w, c] = Σ_m dwconv(insertZeros(dy, s), reverse_{KH,KW}(w))[n, h, w, c·M + m].
 */
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { runKernelCalls } from '../kernelCalls';
import { gradientKernelCall } from '../convInfo';
import { adjointConvolution } from './adjointConvolution';

const NAME = 'DepthwiseConv2dNativeBackpropInput (@kd/wasm-training)';

export const depthwiseConv2dNativeBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { operand: filter, dy, info } = gradientKernelCall(NAME, 'input', true, inputs, attrs);
  const [kh, kw, channels, multiplier] = filter.shape as [number, number, number, number];
  return runKernelCalls(backend, NAME, (calls) => {
    const flipped = calls.reshape(calls.reverse(filter, [0, 1]), [kh, kw, channels * multiplier, 1]);
    const perCopy = adjointConvolution(calls, dy, info, (window, pad) =>
      calls.depthwiseConv2d(window, flipped, [1, 1], [info.dilationHeight, info.dilationWidth], pad),
    );
    // M = 1, or an all-zero gradient already of shape [N, H, W, C].
    if (perCopy.shape[3] === channels) return perCopy;
    const [batch, height, width] = perCopy.shape as [number, number, number, number];
    const split = calls.reshape(perCopy, [batch, height, width, channels, multiplier]);
    return calls.sum(split, [4]);
  });
};

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput,
};
