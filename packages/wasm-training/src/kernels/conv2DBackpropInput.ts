/**
 * Conv2DBackpropInput for the wasm backend: the input gradient of conv2d as one XNNPACK convolution of the
 * zero-inserted output gradient with the flipped, transposed filter (see adjointConvolution.ts):
 *   dx = conv2d(insertZeros(dy, s), reverse_{KH,KW}(w)ᵀ_{Ci↔Co}, stride 1, pad (K−1)·d − p).
 * Replaces the stock wasm kernel, a scalar loop.
 */
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { type ExplicitPadding, runKernelCalls } from '../kernelCalls';
import { gradientKernelCall } from '../convInfo';
import { adjointConvolution, spreadToInput } from './adjointConvolution';

const NAME = 'Conv2DBackpropInput (@kd/wasm-training)';

export const conv2DBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { operand: filter, dy, info } = gradientKernelCall(NAME, 'input', false, inputs, attrs);
  return runKernelCalls(backend, NAME, (calls) => {
    // [KH, KW, Ci, Co] → flipped in space, channels swapped: [KH, KW, Co, Ci].
    const isPointwise = info.filterHeight === 1 && info.filterWidth === 1;
    const flipped = isPointwise ? filter : calls.reverse(filter, [0, 1]);
    const adjointFilter = calls.transpose(flipped, [0, 1, 3, 2]);
    if (isPointwise) {
      const noPad: ExplicitPadding = [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ];
      return spreadToInput(calls, calls.conv2d(dy, adjointFilter, [1, 1], [1, 1], noPad), info);
    }
    return adjointConvolution(calls, dy, info, (window, pad) =>
      calls.conv2d(window, adjointFilter, [1, 1], [info.dilationHeight, info.dilationWidth], pad),
    );
  });
};

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput,
};
