/**
 * Conv2DBackpropInput for the wasm backend: the input gradient of conv2d as one XNNPACK convolution of the
 * zero-inserted output gradient with the flipped, transposed filter (see adjointConvolution.ts):
 *   dx = conv2d(insertZeros(dy, s), reverse_{KH,KW}(w)ᵀ_{Ci↔Co}, stride 1, pad (K−1)·d − p).
 * Replaces the stock wasm kernel, a scalar loop.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { type ExplicitPadding, KernelCalls } from '../kernelCalls';
import { type ConvAttrs, checkInput, checkOutputGradient, convGeometry } from '../convInfo';
import { adjointConvolution, spreadToInput } from './adjointConvolution';

const NAME = 'Conv2DBackpropInput (@kd/wasm-training)';

export const conv2DBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const dy = checkInput(NAME, 'dy', inputs.dy, 4);
  const filter = checkInput(NAME, 'filter', inputs.filter, 4);
  const convAttrs = attrs as unknown as ConvAttrs & { inputShape: number[] };
  // tfjs's conv2d gradient rejects dilations > 1, so the kernel attributes carry none.
  const info = convGeometry(NAME, convAttrs.inputShape, filter.shape, { ...convAttrs, dilations: 1 }, false);
  checkOutputGradient(NAME, dy, info);
  const calls = new KernelCalls(backend, NAME);
  try {
    // [KH, KW, Ci, Co] → flipped in space, channels swapped: [KH, KW, Co, Ci].
    const isPointwise = info.filterHeight === 1 && info.filterWidth === 1;
    const flipped = isPointwise ? filter : calls.reverse(filter, [0, 1]);
    const adjointFilter = calls.transpose(flipped, [0, 1, 3, 2]);
    let dx: TensorInfo;
    if (isPointwise) {
      const noPad: ExplicitPadding = [[0, 0], [0, 0], [0, 0], [0, 0]];
      dx = spreadToInput(calls, calls.conv2d(dy, adjointFilter, [1, 1], [1, 1], noPad), info);
    } else {
      dx = adjointConvolution(calls, dy, info, (window, pad) =>
        calls.conv2d(window, adjointFilter, [1, 1], [info.dilationHeight, info.dilationWidth], pad),
      );
    }
    return calls.keep(dx);
  } finally {
    calls.dispose();
  }
};

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput,
};
