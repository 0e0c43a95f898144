/** Bilinear resampling of heat maps (as OpenCV's INTER_LINEAR, with which CAM libraries upsample their maps). */
import { assertKnownOptions } from '@kd/internal';
import { assertNumber } from './validate';
import { assertHeatMap, type HeatMap } from './image';

export interface ResizeOptions {
  width: number;
  height: number;
}

/**
 * Bilinear resize with half-pixel centres (OpenCV `INTER_LINEAR`, tf `resizeBilinear` with halfPixelCenters):
 * output pixel (x, y) samples the source at ((x + ½)·W/W' − ½, (y + ½)·H/H' − ½), clamped to the border, and
 * interpolates its four neighbours:
 *   v = (1−fy)·((1−fx)·a + fx·b) + fy·((1−fx)·c + fx·d).
 *
 * @example
 * const big = resizeHeatMap(map, { width: 32, height: 32 }); // 8×8 CAM → image size
 */
export function resizeHeatMap(map: HeatMap, options: ResizeOptions): HeatMap {
  const fn = 'resizeHeatMap';
  assertHeatMap(fn, 'map', map);
  assertKnownOptions(fn, options, ['width', 'height']);
  const width = assertNumber(fn, 'width', options?.width, { integer: true, positive: true });
  const height = assertNumber(fn, 'height', options?.height, { integer: true, positive: true });
  const data = new Float32Array(width * height);
  const scaleX = map.width / width;
  const scaleY = map.height / height;
  for (let y = 0; y < height; y++) {
    const sourceY = Math.min(Math.max((y + 0.5) * scaleY - 0.5, 0), map.height - 1);
    const top = Math.floor(sourceY);
    const bottom = Math.min(top + 1, map.height - 1);
    const fy = sourceY - top;
    for (let x = 0; x < width; x++) {
      const sourceX = Math.min(Math.max((x + 0.5) * scaleX - 0.5, 0), map.width - 1);
      const left = Math.floor(sourceX);
      const right = Math.min(left + 1, map.width - 1);
      const fx = sourceX - left;
      const a = map.data[top * map.width + left] as number;
      const b = map.data[top * map.width + right] as number;
      const c = map.data[bottom * map.width + left] as number;
      const d = map.data[bottom * map.width + right] as number;
      data[y * width + x] = (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * c + fx * d);
    }
  }
  return { width, height, data };
}
