/** JPEG fixtures for the Tiny ImageNet tests. */
import jpeg from 'jpeg-js';
import type { FileBytes } from '../file-bytes';

/** A JPEG of one flat colour (JPEG keeps flat colours within ±2 at quality 100). */
export function flatJpeg(rgb: [number, number, number], name: string, size = 64): FileBytes {
  const data = new Uint8Array(size * size * 4);
  for (let p = 0; p < size * size; p++) data.set([...rgb, 255], 4 * p);
  return { bytes: new Uint8Array(jpeg.encode({ data, width: size, height: size }, 100).data), name };
}
