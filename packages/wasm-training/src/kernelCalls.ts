/**
 * Composes wasm kernels inside a kernel: runs the wasm backend's own registered kernel functions on backend
 * tensor infos (no engine tensors, no tape) and frees every intermediate when the composed kernel is done.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/** Explicit NHWC padding `[[0,0],[top,bottom],[left,right],[0,0]]` as tfjs conv kernels take it. */
export type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

/**
 * A scope of wasm kernel calls. Every result is an intermediate freed by {@link KernelCalls.dispose} unless it
 * is handed out with {@link KernelCalls.keep}. Reshape results share their input's buffer and hold a reference
 * of their own, so freeing an input that a kept reshape still uses is safe.
 */
export class KernelCalls {
  private readonly intermediates = new Set<TensorInfo>();

  private readonly backend: KernelBackend;

  /** `backend` is what a kernel function receives: the wasm backend, typed `{}` by tfjs. */
  constructor(
    backend: object,
    private readonly caller: string,
  ) {
    this.backend = backend as KernelBackend;
  }

  /** Runs the wasm kernel `name` and records its output as an intermediate. */
  run(name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const config = tf.getKernel(name, 'wasm');
    if (config === undefined) {
      throw new Error(
        `${this.caller}: the wasm backend has no '${name}' kernel; import '@tensorflow/tfjs-backend-wasm' ` +
          'before registering the training kernels',
      );
    }
    const result = config.kernelFunc({ inputs, backend: this.backend, attrs });
    const output = Array.isArray(result) ? result[0] : result;
    if (output === undefined) throw new Error(`${this.caller}: wasm kernel '${name}' returned no output`);
    this.intermediates.add(output);
    return output;
  }

  /** Records the output of a kernel called directly (not through {@link KernelCalls.run}) as an intermediate. */
  adopt(info: TensorInfo | undefined, name: string): TensorInfo {
    if (info === undefined) throw new Error(`${this.caller}: wasm kernel '${name}' returned no output`);
    this.intermediates.add(info);
    return info;
  }

  /** Hands `info` to the caller: it is no longer freed by {@link KernelCalls.dispose}. */
  keep(info: TensorInfo): TensorInfo {
    // A kernel input passed straight through needs a reference of its own, as wasm's Identity takes one.
    if (!this.intermediates.has(info)) return this.keep(this.run('Identity', { x: info }));
    this.intermediates.delete(info);
    return info;
  }

  /** Frees every intermediate still owned by this scope. */
  dispose(): void {
    for (const info of this.intermediates) this.backend.disposeData(info.dataId);
    this.intermediates.clear();
  }

  /** A new backend tensor holding `values`. */
  constant(values: Int32Array | Float32Array, shape: number[], dtype: 'int32' | 'float32'): TensorInfo {
    const dataId = this.backend.write(values, shape, dtype);
    const info: TensorInfo = { dataId, shape, dtype };
    this.intermediates.add(info);
    return info;
  }

  /** Reads a tensor's values synchronously (cheap on wasm: a copy out of the heap). */
  read(info: TensorInfo): Int32Array | Float32Array {
    return this.backend.readSync(info.dataId) as Int32Array | Float32Array;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  reverse(x: TensorInfo, dims: number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    if (begin.every((start) => start === 0) && size.every((length, axis) => length === x.shape[axis])) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  stridedSlice(x: TensorInfo, begin: number[], end: number[], strides: number[]): TensorInfo {
    return this.run(
      'StridedSlice',
      { x },
      { begin, end, strides, beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 },
    );
  }

  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    if (paddings.every(([before, after]) => before === 0 && after === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  sum(x: TensorInfo, axis: number[]): TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  multiply(a: TensorInfo, b: TensorInfo): TensorInfo {
    return this.run('Multiply', { a, b });
  }

  zeros(shape: number[]): TensorInfo {
    return this.run('Fill', {}, { shape, value: 0, dtype: 'float32' });
  }

  /** XNNPACK convolution, NHWC input, `[KH, KW, Ci, Co]` filter, explicit padding. */
  conv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    pad: ExplicitPadding,
  ) {
    return this.run('Conv2D', { x, filter }, { strides, dilations, pad, dataFormat: 'NHWC' });
  }

  /** XNNPACK depthwise convolution, NHWC input, `[KH, KW, C, M]` filter, explicit padding. */
  depthwiseConv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    pad: ExplicitPadding,
  ): TensorInfo {
    return this.run('DepthwiseConv2dNative', { x, filter }, { strides, dilations, pad });
  }
}

/**
 * Runs a composed kernel: `body` gets a fresh {@link KernelCalls} scope, its result is kept (handed to the caller)
 * and every other intermediate is freed, also when `body` throws.
 */
export function runKernelCalls(backend: object, caller: string, body: (calls: KernelCalls) => TensorInfo): TensorInfo {
  const calls = new KernelCalls(backend, caller);
  try {
    return calls.keep(body(calls));
  } finally {
    calls.dispose();
  }
}

/** The part of `[start, start + length)` inside `[0, extent)`, and the zeros needed before and after it. */
export interface Window1D {
  begin: number;
  size: number;
  padBefore: number;
  padAfter: number;
}

/**
 * Window `[start, start + length)` of an axis of size `extent`, where positions outside the axis read as zero:
 * the in-range slice plus the zero padding around it. `size` is 0 when the window misses the axis entirely.
 */
export function window1D(extent: number, start: number, length: number): Window1D {
  const begin = Math.min(Math.max(start, 0), extent);
  const end = Math.max(Math.min(start + length, extent), begin);
  const size = end - begin;
  if (size === 0) return { begin, size, padBefore: length, padAfter: 0 };
  const padBefore = begin - start;
  return { begin, size, padBefore, padAfter: length - padBefore - size };
}

/**
 * Spatial window of an NHWC tensor: slices rows and columns to the in-range part and returns the zero padding
 * the caller still has to apply (conv kernels apply it for free). Returns null when the window is all zeros.
 */
export function spatialWindow(
  calls: KernelCalls,
  x: TensorInfo,
  rows: { start: number; length: number },
  cols: { start: number; length: number },
): { x: TensorInfo; pad: ExplicitPadding } | null {
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  const r = window1D(height, rows.start, rows.length);
  const c = window1D(width, cols.start, cols.length);
  if (r.size === 0 || c.size === 0) return null;
  const sliced = calls.slice(x, [0, r.begin, c.begin, 0], [batch, r.size, c.size, channels]);
  return {
    x: sliced,
    pad: [
      [0, 0],
      [r.padBefore, r.padAfter],
      [c.padBefore, c.padAfter],
      [0, 0],
    ],
  };
}

/**
 * Inserts `stride − 1` zeros after every row and column of an NHWC tensor: `[N, H, W, C]` becomes
 * `[N, H·sh, W·sw, C]` with `out[n, h·sh, w·sw, c] = x[n, h, w, c]` and zeros elsewhere (the trailing zero rows
 * are harmless to every caller). This turns a strided convolution's adjoint into a stride-1 convolution.
 */
export function insertZeros(calls: KernelCalls, x: TensorInfo, strides: [number, number]): TensorInfo {
  const [sh, sw] = strides;
  if (sh === 1 && sw === 1) return x;
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  const spread = calls.reshape(x, [batch, height, 1, width, 1, channels]);
  const padded = calls.pad(spread, [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  return calls.reshape(padded, [batch, height * sh, width * sw, channels]);
}
