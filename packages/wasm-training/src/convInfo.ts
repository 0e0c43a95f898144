/** Convolution geometry shared by the gradient kernels, from tfjs's own `computeConv2DInfo`. */
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
type PadAttr = Parameters<typeof tf.backend_util.computeConv2DInfo>[4];
type RoundingAttr = Parameters<typeof tf.backend_util.computeConv2DInfo>[5];

/** The conv attributes every gradient kernel receives (dilations only on the depthwise ones). */
export interface ConvAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dilations?: number | [number, number];
  dimRoundingMode?: RoundingAttr;
  dataFormat?: 'NHWC' | 'NCHW';
}

function assertTensorShape(fn: string, name: string, info: TensorInfo, rank: number): void {
  if (info.shape.length !== rank) {
    throw new Error(`${fn}: ${name} must be rank ${rank}, got rank ${info.shape.length} [${info.shape.join(',')}]`);
  }
  if (info.dtype !== 'float32') throw new Error(`${fn}: ${name} must be float32, got ${info.dtype}`);
}

/**
 * tfjs's conv geometry (output size and the exact, possibly asymmetric, 'same' pads) for an NHWC input of
 * `inputShape` and a `[KH, KW, Ci, Co|M]` filter. Rejects NCHW, which the wasm convolutions do not support.
 */
export function convGeometry(
  fn: string,
  inputShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
  depthwise: boolean,
): Conv2DInfo {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`${fn}: dataFormat must be 'NHWC' on the wasm backend, got '${attrs.dataFormat}'`);
  }
  if (inputShape.length !== 4) throw new Error(`${fn}: input shape must be rank 4 NHWC, got [${inputShape.join(',')}]`);
  if (filterShape.length !== 4) throw new Error(`${fn}: filter shape must be rank 4, got [${filterShape.join(',')}]`);
  return tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
    'channelsLast',
  );
}

/** Checks the rank and dtype of a kernel input. */
export function checkInput(fn: string, name: string, info: TensorInfo | undefined, rank: number): TensorInfo {
  if (info === undefined) throw new Error(`${fn}: missing input ${name}`);
  assertTensorShape(fn, name, info, rank);
  return info;
}

/** Checks that `dy` has the output shape the geometry implies. */
export function checkOutputGradient(fn: string, dy: TensorInfo, info: Conv2DInfo): void {
  const expected = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (dy.shape.some((size, axis) => size !== expected[axis])) {
    throw new Error(`${fn}: dy must have shape [${expected.join(',')}], got [${dy.shape.join(',')}]`);
  }
}
