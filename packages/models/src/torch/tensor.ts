/**
 * A tensor of a checkpoint as the readers find it: dtype, shape, strides and where its storage lives. The
 * values are read only for the tensors the model takes, converted to float32 and permuted into the zoo's
 * layout in the same pass.
 */
import type { ErrorContext } from './errors';

/** Storage dtypes the readers understand (PyTorch's names). */
export type TorchDtype =
  | 'float64'
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

export const elementSize: Record<TorchDtype, number> = {
  float64: 8,
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export function isFloating(dtype: TorchDtype): boolean {
  return dtype === 'float64' || dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16';
}

/** A storage: `numel` elements of `dtype`, whose bytes are fetched (and checked) on first use. */
export interface StorageRef {
  readonly key: string;
  readonly dtype: TorchDtype;
  readonly numel: number;
  /** Exactly `numel · elementSize(dtype)` bytes. */
  bytes(): Uint8Array;
}

/** A tensor: a strided view into a storage, offsets and strides in elements. */
export class TorchTensor {
  constructor(
    readonly storage: StorageRef,
    readonly storageOffset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}

  get dtype(): TorchDtype {
    return this.storage.dtype;
  }

  get numel(): number {
    return this.shape.reduce((product, size) => product * size, 1);
  }
}

/** Row-major strides of `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = step;
    step *= shape[axis] as number;
  }
  return strides;
}

/** Most elements one tensor may have: what one Float32Array can hold. */
export const maxElements = 2 ** 31 - 1;

/**
 * Checks the numbers a file gives for a tensor before anything is allocated: non-negative integer sizes
 * whose product fits one typed array, and a view that stays inside its storage.
 */
export function checkedTensor(
  context: ErrorContext,
  key: string,
  storage: StorageRef,
  offset: unknown,
  shape: unknown,
  stride: unknown,
): TorchTensor {
  const integers = (value: unknown): value is number[] =>
    Array.isArray(value) &&
    value.every((entry) => typeof entry === 'number' && Number.isSafeInteger(entry) && entry >= 0);
  if (!integers(shape)) context.fail(`tensor '${key}' has an invalid shape ${String(shape)}`);
  if (!integers(stride) || stride.length !== shape.length)
    context.fail(`tensor '${key}' has invalid strides ${String(stride)} for shape [${shape.join(', ')}]`);
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
    context.fail(`tensor '${key}' has an invalid storage offset ${String(offset)}`);
  let numel = 1;
  let lastIndex = offset;
  for (let axis = 0; axis < shape.length; axis++) {
    numel *= shape[axis] as number;
    lastIndex += ((shape[axis] as number) - 1) * (stride[axis] as number);
  }
  if (numel > maxElements)
    context.fail(`tensor '${key}' has ${numel} elements, more than the ${maxElements} one tensor may hold`);
  if (numel > 0 && lastIndex >= storage.numel) {
    context.fail(
      `tensor '${key}' of shape [${shape.join(', ')}] reaches element ${lastIndex} of a storage of ${storage.numel} elements`,
    );
  }
  return new TorchTensor(storage, offset, shape, stride);
}

type Reader = (view: DataView, byteOffset: number) => number;

function float16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const bfloat16Scratch = new DataView(new ArrayBuffer(4));

const readers: Record<TorchDtype, Reader> = {
  float64: (view, at) => view.getFloat64(at, true),
  float32: (view, at) => view.getFloat32(at, true),
  float16: (view, at) => float16(view.getUint16(at, true)),
  bfloat16: (view, at) => {
    bfloat16Scratch.setUint32(0, view.getUint16(at, true) << 16);
    return bfloat16Scratch.getFloat32(0);
  },
  int64: (view, at) => Number(view.getBigInt64(at, true)),
  int32: (view, at) => view.getInt32(at, true),
  int16: (view, at) => view.getInt16(at, true),
  int8: (view, at) => view.getInt8(at),
  uint8: (view, at) => view.getUint8(at),
  bool: (view, at) => view.getUint8(at),
};

/**
 * The values of `tensor` as float32 with its axes reordered: output axis i is the tensor's axis
 * `order[i]` (the identity for PyTorch's own layout). out[i0, …] = tensor[i_order⁻¹…].
 */
export function readAsFloat32(tensor: TorchTensor, order: readonly number[]): Float32Array {
  const bytes = tensor.storage.bytes();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = elementSize[tensor.dtype];
  const shape = order.map((axis) => tensor.shape[axis] as number);
  const strides = order.map((axis) => (tensor.stride[axis] as number) * size);
  const out = new Float32Array(tensor.numel);
  if (out.length === 0) return out;
  const base = tensor.storageOffset * size;
  if (tensor.dtype === 'float32' && shape.length > 0) {
    fillFloat32(out, view, base, shape, strides);
    return out;
  }
  const read = readers[tensor.dtype];
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let at = base;
  for (let position = 0; position < out.length; position++) {
    out[position] = read(view, at);
    at += advance(index, shape, strides, rank - 1);
  }
  return out;
}

/**
 * One step of an odometer over axes 0…`last` (`last` fastest): increments `index` in place and returns the
 * change of the byte offset, +strides[a] for the axis a that moves on minus (shape − 1)·stride for every
 * faster axis that wraps to 0.
 */
function advance(index: number[], shape: readonly number[], strides: readonly number[], last: number): number {
  let step = 0;
  for (let axis = last; axis >= 0; axis--) {
    const next = (index[axis] as number) + 1;
    if (next < (shape[axis] as number)) {
      index[axis] = next;
      return step + (strides[axis] as number);
    }
    index[axis] = 0;
    step -= ((shape[axis] as number) - 1) * (strides[axis] as number);
  }
  return step;
}

const littleEndianPlatform = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The float32 case with the innermost axis as a tight loop: the bulk of every checkpoint. Reads through a
 * Float32Array view when the storage is 4-byte aligned on a little-endian platform (PyTorch aligns zip
 * members to 64 bytes), through the DataView otherwise.
 */
function fillFloat32(out: Float32Array, view: DataView, base: number, shape: number[], strides: number[]): void {
  const rank = shape.length;
  const inner = shape[rank - 1] as number;
  const innerStride = strides[rank - 1] as number;
  const outer = out.length / inner;
  const index = new Array<number>(rank - 1).fill(0);
  const aligned =
    littleEndianPlatform && (view.byteOffset + base) % 4 === 0 && strides.every((stride) => stride % 4 === 0);
  const floats = aligned
    ? new Float32Array(view.buffer, view.byteOffset + base, Math.floor((view.byteLength - base) / 4))
    : undefined;
  let at = 0;
  let position = 0;
  for (let row = 0; row < outer; row++) {
    let element = at;
    if (floats !== undefined) {
      const step = innerStride / 4;
      let word = element / 4;
      for (let column = 0; column < inner; column++) {
        out[position++] = floats[word] as number;
        word += step;
      }
    } else {
      element += base;
      for (let column = 0; column < inner; column++) {
        out[position++] = view.getFloat32(element, true);
        element += innerStride;
      }
    }
    at += advance(index, shape, strides, rank - 2);
  }
}
