/** Convolution geometry shared by the gradient kernels, from tfjs's own `computeConv2DInfo`. */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { type KernelCalls, type ExplicitPadding, spatialWindow } from './kernelCalls';

export type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
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

/** The geometry of a gradient kernel's forward convolution; conv2d's attributes carry no dilations. */
function gradientGeometry(
  fn: string,
  inputShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
  depthwise: boolean,
): Conv2DInfo {
  // tfjs's conv2d gradient rejects dilations > 1, so the conv2d kernel attributes carry none.
  return convGeometry(fn, inputShape, filterShape, depthwise ? attrs : { ...attrs, dilations: 1 }, depthwise);
}

/**
 * Unpacks and checks a filter-gradient kernel call (Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter):
 * inputs x and dy (rank 4, float32), attribute `filterShape`, and dy against the forward geometry.
 */
export function filterGradientCall(
  fn: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap | undefined,
  depthwise: boolean,
): { x: TensorInfo; dy: TensorInfo; info: Conv2DInfo } {
  const x = checkInput(fn, 'x', inputs.x, 4);
  const dy = checkInput(fn, 'dy', inputs.dy, 4);
  const convAttrs = attrs as unknown as ConvAttrs & { filterShape: number[] };
  const info = gradientGeometry(fn, x.shape, convAttrs.filterShape, convAttrs, depthwise);
  checkOutputGradient(fn, dy, info);
  return { x, dy, info };
}

/**
 * Unpacks and checks an input-gradient kernel call (Conv2DBackpropInput, DepthwiseConv2dNativeBackpropInput):
 * inputs dy and filter (rank 4, float32), attribute `inputShape`, and dy against the forward geometry.
 */
export function inputGradientCall(
  fn: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap | undefined,
  depthwise: boolean,
): { dy: TensorInfo; filter: TensorInfo; info: Conv2DInfo } {
  const dy = checkInput(fn, 'dy', inputs.dy, 4);
  const filter = checkInput(fn, 'filter', inputs.filter, 4);
  const convAttrs = attrs as unknown as ConvAttrs & { inputShape: number[] };
  const info = gradientGeometry(fn, convAttrs.inputShape, filter.shape, convAttrs, depthwise);
  checkOutputGradient(fn, dy, info);
  return { dy, filter, info };
}

/**
 * The part of an NHWC tensor `x` `[·, H, W, ·]` that the filter gradient reads: per spatial axis the
 * (K − 1)·d + (O − 1)·s + 1 positions from −p on, so rows no output reads (valid padding with a stride that
 * does not divide) are dropped and the top/left pad is returned for the convolution to apply. Null when the
 * window misses the tensor (the gradient is zero).
 */
export function filterGradientWindow(
  calls: KernelCalls,
  x: TensorInfo,
  info: Conv2DInfo,
): { x: TensorInfo; pad: ExplicitPadding } | null {
  return spatialWindow(
    calls,
    x,
    {
      start: -info.padInfo.top,
      length: (info.filterHeight - 1) * info.dilationHeight + (info.outHeight - 1) * info.strideHeight + 1,
    },
    {
      start: -info.padInfo.left,
      length: (info.filterWidth - 1) * info.dilationWidth + (info.outWidth - 1) * info.strideWidth + 1,
    },
  );
}
