/**
 * DepthwiseConv2dNativeBackpropInput for the wasm backend: per channel the same adjoint as conv2d (see
 * adjointConvolution.ts), so one XNNPACK depthwise convolution of the zero-inserted dy `[N, OH', OW', C·M]`
 * with the spatially flipped filter `[KH, KW, C·M, 1]`, then a sum over the channel multiplier M:
 *   dx[n, h, w, c] = Σ_m dwconv(insertZeros(dy, s), reverse_{KH,KW}(w))[n, h, w, c·M + m].
 */
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { KernelCalls } from '../kernelCalls';
import { type ConvAttrs, checkInput, checkOutputGradient, convGeometry } from '../convInfo';
import { adjointConvolution } from './adjointConvolution';

const NAME = 'DepthwiseConv2dNativeBackpropInput (@kd/wasm-training)';

export const depthwiseConv2dNativeBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const dy = checkInput(NAME, 'dy', inputs.dy, 4);
  const filter = checkInput(NAME, 'filter', inputs.filter, 4);
  const convAttrs = attrs as unknown as ConvAttrs & { inputShape: number[] };
  const info = convGeometry(NAME, convAttrs.inputShape, filter.shape, convAttrs, true);
  checkOutputGradient(NAME, dy, info);
  const [kh, kw, channels, multiplier] = filter.shape as [number, number, number, number];
  const calls = new KernelCalls(backend, NAME);
  try {
    const flipped = calls.reshape(calls.reverse(filter, [0, 1]), [kh, kw, channels * multiplier, 1]);
    const perCopy = adjointConvolution(calls, dy, info, (window, pad) =>
      calls.depthwiseConv2d(window, flipped, [1, 1], [info.dilationHeight, info.dilationWidth], pad),
    );
    // M = 1, or an all-zero gradient already of shape [N, H, W, C].
    if (perCopy.shape[3] === channels) return calls.keep(perCopy);
    const [batch, height, width] = perCopy.shape as [number, number, number, number];
    const split = calls.reshape(perCopy, [batch, height, width, channels, multiplier]);
    return calls.keep(calls.sum(split, [4]));
  } finally {
    calls.dispose();
  }
};

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput,
};
