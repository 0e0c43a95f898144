/**
 * BatchMatMul for the wasm backend. Stock wasm runs XNNPACK only for a single matrix product without
 * transposes and falls back to a scalar loop otherwise, which is what every dense or 1×1-conv gradient
 * asks for (dW = xᵀ·dy, dx = dy·Wᵀ). This kernel materialises the transposes with wasm's Transpose and then
 * calls the stock kernel on the fast path:
 *   C = op(A)·op(B),  op(A) = transpose(A) if transposeA else A (likewise B).
 * Batched products (more than one matrix) go to the stock kernel unchanged.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { runKernelCalls } from '../kernelCalls';

const NAME = 'BatchMatMul (@kd/wasm-training)';

/** The stock kernel this one delegates to; set when registered (see register.ts). */
let stockBatchMatMul: KernelFunc | undefined;

export function setStockBatchMatMul(kernelFunc: KernelFunc | undefined): void {
  stockBatchMatMul = kernelFunc;
}

const product = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);

export const batchMatMul: KernelFunc = ({ inputs, backend, attrs }) => {
  const stock = stockBatchMatMul;
  if (stock === undefined) throw new Error(`${NAME}: the stock wasm BatchMatMul kernel is not available`);
  const a = inputs.a;
  const b = inputs.b;
  if (a === undefined || b === undefined) throw new Error(`${NAME}: inputs a and b are required`);
  const { transposeA = false, transposeB = false } = (attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  const singleMatrix = product(a.shape.slice(0, -2)) === 1 && product(b.shape.slice(0, -2)) === 1;
  if ((!transposeA && !transposeB) || !singleMatrix || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return stock({ inputs, backend, attrs });
  }
  return runKernelCalls(backend, NAME, (calls) => {
    const asMatrix = (x: TensorInfo, transpose: boolean): TensorInfo => {
      const rows = x.shape[x.shape.length - 2] as number;
      const cols = x.shape[x.shape.length - 1] as number;
      const matrix = calls.reshape(x, [rows, cols]);
      return transpose ? calls.transpose(matrix, [1, 0]) : matrix;
    };
    const left = asMatrix(a, transposeA);
    const right = asMatrix(b, transposeB);
    const result = stock({ inputs: { a: left, b: right }, backend, attrs: { transposeA: false, transposeB: false } });
    const output = calls.adopt(Array.isArray(result) ? result[0] : result, 'BatchMatMul');
    // Stock BatchMatMul returns rank 2 for rank-2 operands; restore the unit batch dims of the inputs.
    const outerRank = Math.max(a.shape.length, b.shape.length) - 2;
    const shape = [...new Array<number>(outerRank).fill(1), left.shape[0] as number, right.shape[1] as number];
    return shape.length === output.shape.length ? output : calls.reshape(output, shape);
  });
};

export const batchMatMulConfig: KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: batchMatMul,
};
