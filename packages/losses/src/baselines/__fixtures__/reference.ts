/**
 * Plain-JS (float64, explicit loops) building blocks for the baseline tests. Nothing here calls a tfjs op:
 * the tests compare the tfjs losses against these independent computations.
 */
import type { tf } from '@kd/test-utils';
import { normalizeRow } from '../../info/__fixtures__/reference';

export { normalizeRow };

/** An NHWC map as plain numbers, indexed map[n][h][w][c]. */
export type Map4 = number[][][][];
/** A matrix as plain numbers, indexed m[i][j]. */
export type Matrix = number[][];

/** Reads a rank-4 tensor into nested arrays (does not dispose it). */
export function readMap(tensor: tf.Tensor): Map4 {
  return tensor.arraySync() as Map4;
}

/** Reads a rank-2 tensor into nested arrays (does not dispose it). */
export function readMatrix(tensor: tf.Tensor): Matrix {
  return tensor.arraySync() as Matrix;
}

export function shapeOf(map: Map4): [number, number, number, number] {
  const first = map[0] as number[][][];
  const row = first[0] as number[][];
  return [map.length, first.length, row.length, (row[0] as number[]).length];
}

export function at4(map: Map4, n: number, h: number, w: number, c: number): number {
  return (((map[n] as number[][][])[h] as number[][])[w] as number[])[c] as number;
}

export function at2(matrix: Matrix, i: number, j: number): number {
  return (matrix[i] as number[])[j] as number;
}

/** An [n, h, w, c] map whose entry [b][i][j][k] is `value(b, i, j, k)`, filled in row-major order. */
export function buildMap(
  [n, h, w, c]: [number, number, number, number],
  value: (b: number, i: number, j: number, k: number) => number,
): Map4 {
  const range = (length: number) => Array.from({ length }, (_, index) => index);
  return range(n).map((b) => range(h).map((i) => range(w).map((j) => range(c).map((k) => value(b, i, j, k)))));
}

/** Average of non-overlapping blocks: an [N,H,W,C] map pooled to [N,outH,outW,C]. */
export function averagePool(map: Map4, outH: number, outW: number): Map4 {
  const [n, h, w, c] = shapeOf(map);
  const kh = h / outH;
  const kw = w / outW;
  return buildMap([n, outH, outW, c], (b, i, j, k) => {
    let sum = 0;
    for (let di = 0; di < kh; di++) for (let dj = 0; dj < kw; dj++) sum += at4(map, b, i * kh + di, j * kw + dj, k);
    return sum / (kh * kw);
  });
}

/** The reference's spatial rule: pool the larger of two maps down to the smaller's size. */
export function matchSizes(student: Map4, teacher: Map4): [Map4, Map4] {
  const [, sh, sw] = shapeOf(student);
  const [, th, tw] = shapeOf(teacher);
  if (sh > th) return [averagePool(student, th, tw), teacher];
  if (th > sh) return [student, averagePool(teacher, sh, sw)];
  return [student, teacher];
}

/** Row i = map[i] flattened (any fixed order; callers only use order-independent quantities or match orders). */
export function flattenRows(map: Map4): Matrix {
  const [n, h, w, c] = shapeOf(map);
  const rows: Matrix = [];
  for (let b = 0; b < n; b++) {
    const row: number[] = [];
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) row.push(at4(map, b, i, j, k));
    rows.push(row);
  }
  return rows;
}

/** Spatial attention map: per sample, normalise over positions of mean_c |f|^p. */
export function attentionRows(map: Map4, p: number): Matrix {
  const [n, h, w, c] = shapeOf(map);
  const rows: Matrix = [];
  for (let b = 0; b < n; b++) {
    const row: number[] = [];
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        let sum = 0;
        for (let k = 0; k < c; k++) sum += Math.abs(at4(map, b, i, j, k)) ** p;
        row.push(sum / c);
      }
    }
    rows.push(normalizeRow(row));
  }
  return rows;
}

export function dot(a: number[], b: number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/** Nested NHWC arrays from flat row-major values. */
export function toMap(values: ArrayLike<number>, shape: [number, number, number, number]): Map4 {
  const [, h, w, c] = shape;
  return buildMap(shape, (b, i, j, k) => values[((b * h + i) * w + j) * c + k] as number);
}
