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
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { KernelCalls, spatialWindow } from '../kernelCalls';
import { type ConvAttrs, checkInput, checkOutputGradient, convGeometry } from '../convInfo';

const NAME = 'Conv2DBackpropFilter (@kd/wasm-training)';

export const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = checkInput(NAME, 'x', inputs.x, 4);
  const dy = checkInput(NAME, 'dy', inputs.dy, 4);
  const convAttrs = attrs as unknown as ConvAttrs & { filterShape: number[] };
  // tfjs's conv2d gradient rejects dilations > 1, so the kernel attributes carry none.
  const info = convGeometry(NAME, x.shape, convAttrs.filterShape, { ...convAttrs, dilations: 1 }, false);
  checkOutputGradient(NAME, dy, info);
  const calls = new KernelCalls(backend, NAME);
  try {
    const swapped = calls.transpose(x, [3, 1, 2, 0]);
    const window = spatialWindow(
      calls,
      swapped,
      {
        start: -info.padInfo.top,
        length: (info.filterHeight - 1) * info.dilationHeight + (info.outHeight - 1) * info.strideHeight + 1,
      },
      {
        start: -info.padInfo.left,
        length: (info.filterWidth - 1) * info.dilationWidth + (info.outWidth - 1) * info.strideWidth + 1,
      },
    );
    if (window === null) return calls.keep(calls.zeros(info.filterShape));
    const dyFilter = calls.transpose(dy, [1, 2, 0, 3]);
    const perChannel = calls.conv2d(
      window.x,
      dyFilter,
      [info.dilationHeight, info.dilationWidth],
      [info.strideHeight, info.strideWidth],
      window.pad,
    );
    return calls.keep(calls.transpose(perChannel, [1, 2, 0, 3]));
  } finally {
    calls.dispose();
  }
};

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter,
};
