/**
 * Plain-loop references for the depthwise gradients with dilation (tfjs's cpu kernels size and pad by the
 * dilated filter but index taps without the dilation, so they are no reference for dilations > 1).
 */
import type { HostTensor } from './helpers';

export interface DepthwiseGeometry {
  strides: [number, number];
  dilations: [number, number];
  padTop: number;
  padLeft: number;
}

/** dw[kh,kw,c,m] = Σ_{n,oh,ow} x[n, oh·s + kh·d − p, ow·s + kw·d − p, c] · dy[n, oh, ow, c·M + m]. */
export function depthwiseFilterGradient(
  x: HostTensor,
  dy: HostTensor,
  filterShape: [number, number, number, number],
  g: DepthwiseGeometry,
): Float32Array {
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  const [, outHeight, outWidth, outChannels] = dy.shape as [number, number, number, number];
  const [kh, kw, , multiplier] = filterShape;
  const dw = new Float64Array(kh * kw * channels * multiplier);
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        for (let r = 0; r < kh; r++) {
          const h = oh * g.strides[0] + r * g.dilations[0] - g.padTop;
          if (h < 0 || h >= height) continue;
          for (let s = 0; s < kw; s++) {
            const w = ow * g.strides[1] + s * g.dilations[1] - g.padLeft;
            if (w < 0 || w >= width) continue;
            for (let c = 0; c < channels; c++) {
              const xv = x.values[((n * height + h) * width + w) * channels + c] as number;
              for (let m = 0; m < multiplier; m++) {
                const dyv = dy.values[
                  ((n * outHeight + oh) * outWidth + ow) * outChannels + c * multiplier + m
                ] as number;
                const at = ((r * kw + s) * channels + c) * multiplier + m;
                dw[at] = (dw[at] as number) + xv * dyv;
              }
            }
          }
        }
      }
    }
  }
  return Float32Array.from(dw);
}

/** dx[n,h,w,c] = Σ over taps with oh·s + kh·d − p = h (and likewise for w) of dy[n,oh,ow,c·M+m] · f[kh,kw,c,m]. */
export function depthwiseInputGradient(
  dy: HostTensor,
  filter: HostTensor,
  inputShape: [number, number, number, number],
  g: DepthwiseGeometry,
): Float32Array {
  const [batch, height, width, channels] = inputShape;
  const [, outHeight, outWidth, outChannels] = dy.shape as [number, number, number, number];
  const [kh, kw, , multiplier] = filter.shape as [number, number, number, number];
  const dx = new Float64Array(batch * height * width * channels);
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        for (let r = 0; r < kh; r++) {
          const h = oh * g.strides[0] + r * g.dilations[0] - g.padTop;
          if (h < 0 || h >= height) continue;
          for (let s = 0; s < kw; s++) {
            const w = ow * g.strides[1] + s * g.dilations[1] - g.padLeft;
            if (w < 0 || w >= width) continue;
            for (let c = 0; c < channels; c++) {
              for (let m = 0; m < multiplier; m++) {
                const dyv = dy.values[
                  ((n * outHeight + oh) * outWidth + ow) * outChannels + c * multiplier + m
                ] as number;
                const fv = filter.values[((r * kw + s) * channels + c) * multiplier + m] as number;
                const at = ((n * height + h) * width + w) * channels + c;
                dx[at] = (dx[at] as number) + dyv * fv;
              }
            }
          }
        }
      }
    }
  }
  return Float32Array.from(dx);
}
