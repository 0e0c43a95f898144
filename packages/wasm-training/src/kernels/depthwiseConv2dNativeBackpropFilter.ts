/**
 * DepthwiseConv2dNativeBackpropFilter for the wasm backend (stock wasm has none): one XNNPACK depthwise
 * convolution with the batch folded into the channels.
 *
 * With stride s, dilation d, top pad p and channel multiplier M (per spatial axis),
 *   dw[kh, kw, c, m] = Σ_n Σ_{oh, ow} x[n, oh·s + kh·d − p, ow·s + kw·d − p, c] · dy[n, oh, ow, c·M + m].
 * Take x' = x as one image `[1, H, W, N·C]` (channel n·C + c) and f = dy as a depthwise filter
 * `[OH, OW, N·C, M]`: a depthwise conv with stride d, dilation s and pad p gives, per (n, c, m), the inner
 * sum `[1, KH, KW, N·C·M]`; summing over n gives `[KH, KW, C, M]`. Exactly the multiply-adds the gradient
 * needs, in one call, instead of C× more for a dense convolution.
 */
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { runKernelCalls } from '../kernelCalls';
import { filterGradientWindow, gradientKernelCall } from '../convInfo';

const NAME = 'DepthwiseConv2dNativeBackpropFilter (@kd/wasm-training)';

export const depthwiseConv2dNativeBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { operand: x, dy, info } = gradientKernelCall(NAME, 'filter', true, inputs, attrs);
  const [kh, kw, channels, multiplier] = info.filterShape as [number, number, number, number];
  const [batch, height, width] = x.shape as [number, number, number, number];
  const [, outHeight, outWidth] = dy.shape as [number, number, number, number];
  return runKernelCalls(backend, NAME, (calls) => {
    const folded = calls.reshape(calls.transpose(x, [1, 2, 0, 3]), [1, height, width, batch * channels]);
    const window = filterGradientWindow(calls, folded, info);
    if (window === null) return calls.zeros([kh, kw, channels, multiplier]);
    const dyFilter = calls.reshape(calls.transpose(dy, [1, 2, 0, 3]), [
      outHeight,
      outWidth,
      batch * channels,
      multiplier,
    ]);
    const perImage = calls.depthwiseConv2d(window.x, dyFilter, window.strides, window.dilations, window.pad);
    const byImage = calls.reshape(perImage, [kh * kw, batch, channels * multiplier]);
    return calls.reshape(calls.sum(byImage, [1]), [kh, kw, channels, multiplier]);
  });
};

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter,
};
