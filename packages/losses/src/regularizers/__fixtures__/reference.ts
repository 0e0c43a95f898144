/**
 * Plain-JS reference computations for the regularizer tests: NHWC arrays as { data, shape } with loops,
 * never the tfjs ops the code under test uses.
 */
import type { tf } from '@kd/test-utils';

export interface Plain {
  data: number[];
  shape: number[];
}

/** A tensor's values as a plain array (the tensor is left alive). */
export function plain(tensor: tf.Tensor): Plain {
  return { data: Array.from(tensor.dataSync()), shape: [...tensor.shape] };
}

export const relu = (x: number): number => Math.max(x, 0);
export const leakyRelu = (x: number): number => (x > 0 ? x : 0.1 * x);
export const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

export function map(x: Plain, f: (value: number) => number): Plain {
  return { data: x.data.map(f), shape: [...x.shape] };
}

/** x `[R, in]` · W `[in, out]` (+ b). */
export function denseJs(x: Plain, kernel: Plain, bias?: Plain): Plain {
  const [rows, inputs] = x.shape as [number, number];
  const outputs = kernel.shape[1] as number;
  const data: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outputs; o++) {
      let total = bias ? (bias.data[o] as number) : 0;
      for (let i = 0; i < inputs; i++)
        total += (x.data[r * inputs + i] as number) * (kernel.data[i * outputs + o] as number);
      data.push(total);
    }
  }
  return { data, shape: [rows, outputs] };
}

/** Applies `denseJs` over the last axis of any-rank x. */
export function pointwiseJs(x: Plain, kernel: Plain, bias?: Plain): Plain {
  const channels = x.shape[x.shape.length - 1] as number;
  const rows = x.data.length / channels;
  const out = denseJs({ data: x.data, shape: [rows, channels] }, kernel, bias);
  return { data: out.data, shape: [...x.shape.slice(0, -1), kernel.shape[1] as number] };
}

/** NHWC convolution, kernel [kh, kw, in, out], symmetric zero padding. */
export function conv2dJs(x: Plain, kernel: Plain, bias: Plain | undefined, stride: number, padding: number): Plain {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [kh, kw, , o] = kernel.shape as [number, number, number, number];
  const oh = Math.floor((h + 2 * padding - kh) / stride) + 1;
  const ow = Math.floor((w + 2 * padding - kw) / stride) + 1;
  const data = new Array<number>(n * oh * ow * o).fill(0);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let z = 0; z < ow; z++)
        for (let out = 0; out < o; out++) {
          let total = bias ? (bias.data[out] as number) : 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const yy = y * stride - padding + i;
              const zz = z * stride - padding + j;
              if (yy < 0 || yy >= h || zz < 0 || zz >= w) continue;
              for (let ch = 0; ch < c; ch++) {
                total +=
                  (x.data[((b * h + yy) * w + zz) * c + ch] as number) *
                  (kernel.data[((i * kw + j) * c + ch) * o + out] as number);
              }
            }
          data[((b * oh + y) * ow + z) * o + out] = total;
        }
  return { data, shape: [n, oh, ow, o] };
}

/**
 * PyTorch's ConvTranspose2d (kernel stored [kh, kw, out, in]): every input pixel scatters kernel·x onto the
 * output at y·stride − padding + i; output size (H − 1)·stride − 2·padding + kh.
 */
export function conv2dTransposeJs(
  x: Plain,
  kernel: Plain,
  bias: Plain | undefined,
  stride: number,
  padding: number,
): Plain {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [kh, kw, o] = kernel.shape as [number, number, number, number];
  const oh = (h - 1) * stride - 2 * padding + kh;
  const ow = (w - 1) * stride - 2 * padding + kw;
  const data = new Array<number>(n * oh * ow * o).fill(0);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let z = 0; z < w; z++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const yy = y * stride - padding + i;
            const zz = z * stride - padding + j;
            if (yy < 0 || yy >= oh || zz < 0 || zz >= ow) continue;
            for (let out = 0; out < o; out++) {
              let total = 0;
              for (let ch = 0; ch < c; ch++) {
                total +=
                  (x.data[((b * h + y) * w + z) * c + ch] as number) *
                  (kernel.data[((i * kw + j) * o + out) * c + ch] as number);
              }
              const index = ((b * oh + yy) * ow + zz) * o + out;
              data[index] = (data[index] as number) + total;
            }
          }
  if (bias)
    for (let index = 0; index < data.length; index++)
      data[index] = (data[index] as number) + (bias.data[index % o] as number);
  return { data, shape: [n, oh, ow, o] };
}

/** Batch norm with batch statistics over every axis but the last (biased variance), ε = 1e-5. */
export function batchNormJs(x: Plain, gamma: Plain, beta: Plain, epsilon = 1e-5): Plain {
  const c = x.shape[x.shape.length - 1] as number;
  const count = x.data.length / c;
  const mean = new Array<number>(c).fill(0);
  const variance = new Array<number>(c).fill(0);
  x.data.forEach((value, index) => (mean[index % c] = (mean[index % c] as number) + value / count));
  x.data.forEach(
    (value, index) =>
      (variance[index % c] = (variance[index % c] as number) + (value - (mean[index % c] as number)) ** 2 / count),
  );
  return {
    data: x.data.map((value, index) => {
      const ch = index % c;
      return (
        ((value - (mean[ch] as number)) / Math.sqrt((variance[ch] as number) + epsilon)) * (gamma.data[ch] as number) +
        (beta.data[ch] as number)
      );
    }),
    shape: [...x.shape],
  };
}

/** Layer norm over the last axis, ε = 1e-5. */
export function layerNormJs(x: Plain, gamma: Plain, beta: Plain, epsilon = 1e-5): Plain {
  const c = x.shape[x.shape.length - 1] as number;
  const data: number[] = [];
  for (let start = 0; start < x.data.length; start += c) {
    const row = x.data.slice(start, start + c);
    const mean = row.reduce((a, b) => a + b, 0) / c;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / c;
    row.forEach((value, ch) =>
      data.push(
        ((value - mean) / Math.sqrt(variance + epsilon)) * (gamma.data[ch] as number) + (beta.data[ch] as number),
      ),
    );
  }
  return { data, shape: [...x.shape] };
}

/** Average-pools an NHWC map by an integer factor. */
export function avgPoolJs(x: Plain, factor: number): Plain {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const oh = h / factor;
  const ow = w / factor;
  const data: number[] = [];
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let z = 0; z < ow; z++)
        for (let ch = 0; ch < c; ch++) {
          let total = 0;
          for (let i = 0; i < factor; i++)
            for (let j = 0; j < factor; j++)
              total += x.data[((b * h + y * factor + i) * w + z * factor + j) * c + ch] as number;
          data.push(total / (factor * factor));
        }
  return { data, shape: [n, oh, ow, c] };
}

export function add(a: Plain, b: Plain): Plain {
  return { data: a.data.map((value, index) => value + (b.data[index] as number)), shape: [...a.shape] };
}

/** Rows of a [R, C] plain matrix. */
export function rows(x: Plain): number[][] {
  const c = x.shape[x.shape.length - 1] as number;
  const out: number[][] = [];
  for (let start = 0; start < x.data.length; start += c) out.push(x.data.slice(start, start + c));
  return out;
}

export function normalizeRow(row: number[]): number[] {
  const norm = Math.max(Math.sqrt(row.reduce((a, b) => a + b * b, 0)), 1e-12);
  return row.map((value) => value / norm);
}

export function dot(a: number[], b: number[]): number {
  return a.reduce((total, value, index) => total + value * (b[index] as number), 0);
}

export function logSumExp(values: number[]): number {
  const max = Math.max(...values);
  return max + Math.log(values.reduce((total, value) => total + Math.exp(value - max), 0));
}

export function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
