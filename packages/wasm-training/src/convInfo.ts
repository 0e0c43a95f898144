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

/**
 * Unpacks and checks a gradient kernel call. The filter gradient (Conv2DBackpropFilter,
 * DepthwiseConv2dNativeBackpropFilter) takes inputs x and dy and the attribute `filterShape`; the input gradient
 * (Conv2DBackpropInput, DepthwiseConv2dNativeBackpropInput) takes dy and filter and the attribute `inputShape`.
 * Both tensors must be rank 4 float32, dy of the forward convolution's output shape. `operand` is x or filter.
 */
export function gradientKernelCall(
  fn: string,
  gradient: 'filter' | 'input',
  depthwise: boolean,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap | undefined,
): { operand: TensorInfo; dy: TensorInfo; info: Conv2DInfo } {
  const convAttrs = attrs as unknown as ConvAttrs & { filterShape: number[]; inputShape: number[] };
  let operand: TensorInfo;
  let dy: TensorInfo;
  // Checked in tfjs's argument order: (x, dy) and (dy, filter).
  if (gradient === 'filter') {
    operand = checkInput(fn, 'x', inputs.x, 4);
    dy = checkInput(fn, 'dy', inputs.dy, 4);
  } else {
    dy = checkInput(fn, 'dy', inputs.dy, 4);
    operand = checkInput(fn, 'filter', inputs.filter, 4);
  }
  const inputShape = gradient === 'filter' ? operand.shape : convAttrs.inputShape;
  const filterShape = gradient === 'filter' ? convAttrs.filterShape : operand.shape;
  // tfjs's conv2d gradient rejects dilations > 1, so the conv2d kernel attributes carry none.
  const geometryAttrs = depthwise ? convAttrs : { ...convAttrs, dilations: 1 };
  const info = convGeometry(fn, inputShape, filterShape, geometryAttrs, depthwise);
  checkOutputGradient(fn, dy, info);
  return { operand, dy, info };
}

/** The window of x a filter gradient convolves with dy, and that convolution's strides and dilations. */
export interface FilterGradientWindow {
  x: TensorInfo;
  pad: ExplicitPadding;
  /** The forward dilations d. */
  strides: [number, number];
  /** The forward strides s. */
  dilations: [number, number];
}

/**
 * The part of an NHWC tensor `x` `[·, H, W, ·]` that the filter gradient reads: per spatial axis the
 * (K − 1)·d + (O − 1)·s + 1 positions from −p on, so rows no output reads (valid padding with a stride that
 * does not divide) are dropped and the top/left pad is returned for the convolution to apply. The filter
 * gradient is the convolution of this window with dy as the filter, the forward stride and dilation swapped.
 * Null when the window misses the tensor (the gradient is zero).
 */
export function filterGradientWindow(calls: KernelCalls, x: TensorInfo, info: Conv2DInfo): FilterGradientWindow | null {
  const window = spatialWindow(
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
  if (window === null) return null;
  return {
    ...window,
    strides: [info.dilationHeight, info.dilationWidth],
    dilations: [info.strideHeight, info.strideWidth],
  };
}
