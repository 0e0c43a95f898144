/**
 * Plain-JS (float64, loop-based) building blocks for the reference values in the info-loss tests. They
 * deliberately share no code with the tfjs implementation.
 */
import { tf } from '@kd/test-utils';

export type Matrix = number[][];

/** A tensor's values as nested rows (rank 2) without disposing it. */
export function rowsOf(tensor: tf.Tensor): Matrix {
  const [rows, columns] = tensor.shape as [number, number];
  const values = tensor.dataSync();
  const result: Matrix = [];
  for (let i = 0; i < rows; i++) {
    const row: number[] = [];
    for (let j = 0; j < columns; j++) row.push(values[i * columns + j] as number);
    result.push(row);
  }
  return result;
}

/** log softmax of one vector, with the max subtracted first. */
export function logSoftmaxOf(vector: number[]): number[] {
  let maximum = -Infinity;
  for (const value of vector) maximum = Math.max(maximum, value);
  let total = 0;
  for (const value of vector) total += Math.exp(value - maximum);
  const logTotal = Math.log(total) + maximum;
  return vector.map((value) => value - logTotal);
}

export function softmaxOf(vector: number[]): number[] {
  return logSoftmaxOf(vector).map(Math.exp);
}

/** KL(p ‖ q) = Σ p log(p / q) with 0 log 0 = 0. */
export function klOf(p: number[], q: number[]): number {
  let total = 0;
  for (let c = 0; c < p.length; c++) {
    const pc = p[c] as number;
    if (pc > 0) total += pc * (Math.log(pc) - Math.log(q[c] as number));
  }
  return total;
}

export function transpose(matrix: Matrix): Matrix {
  const result: Matrix = [];
  for (let j = 0; j < (matrix[0]?.length ?? 0); j++) result.push(matrix.map((row) => row[j] as number));
  return result;
}

/** x / max(‖x‖, 1e-12), as PyTorch's F.normalize. */
export function normalizeRow(row: number[]): number[] {
  let squared = 0;
  for (const value of row) squared += value * value;
  const norm = Math.max(Math.sqrt(squared), 1e-12);
  return row.map((value) => value / norm);
}

export function dot(a: number[], b: number[]): number {
  let total = 0;
  for (let k = 0; k < a.length; k++) total += (a[k] as number) * (b[k] as number);
  return total;
}

export function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Deterministic labels in [0, numClasses) for a batch. */
export function labelsTensor(values: number[]): tf.Tensor1D {
  return tf.tensor1d(values, 'int32');
}
