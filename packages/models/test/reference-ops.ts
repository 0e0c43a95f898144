/**
 * Plain-JS loops for the module tests: the formulas written out element by element, no tfjs ops.
 */

/** An NHWC array with its shape. */
export interface Array4D {
  values: Float32Array;
  shape: [number, number, number, number];
}

/**
 * PyTorch-style grouped convolution on NHWC: y[n,i,j,o] = b[o] + Σ x[n, i·s+u−p, j·s+v−p, g·Cg+c]·w[u,v,c,o]
 * (zero outside the input), w stored [k, k, Cin/groups, Cout].
 */
export function referenceConv2d(
  x: Array4D,
  weight: Float32Array,
  {
    kernelSize,
    outChannels,
    stride,
    padding,
    groups,
    bias,
  }: {
    kernelSize: number;
    outChannels: number;
    stride: number;
    padding: number;
    groups: number;
    bias?: Float32Array;
  },
): Array4D {
  const [batch, height, width, inChannels] = x.shape;
  const outHeight = Math.floor((height + 2 * padding - kernelSize) / stride) + 1;
  const outWidth = Math.floor((width + 2 * padding - kernelSize) / stride) + 1;
  const groupIn = inChannels / groups;
  const groupOut = outChannels / groups;
  const values = new Float32Array(batch * outHeight * outWidth * outChannels);
  for (let n = 0; n < batch; n++) {
    for (let i = 0; i < outHeight; i++) {
      for (let j = 0; j < outWidth; j++) {
        for (let o = 0; o < outChannels; o++) {
          const group = Math.floor(o / groupOut);
          let sum = bias ? (bias[o] as number) : 0;
          for (let u = 0; u < kernelSize; u++) {
            const row = i * stride + u - padding;
            if (row < 0 || row >= height) continue;
            for (let v = 0; v < kernelSize; v++) {
              const column = j * stride + v - padding;
              if (column < 0 || column >= width) continue;
              for (let c = 0; c < groupIn; c++) {
                const input = x.values[
                  ((n * height + row) * width + column) * inChannels + group * groupIn + c
                ] as number;
                const w = weight[((u * kernelSize + v) * groupIn + c) * outChannels + o] as number;
                sum += input * w;
              }
            }
          }
          values[((n * outHeight + i) * outWidth + j) * outChannels + o] = sum;
        }
      }
    }
  }
  return { values, shape: [batch, outHeight, outWidth, outChannels] };
}
