/** Small raster primitives used by the grid and plot renderers (in place, clipped to the image). */
import type { RasterImage, Rgb } from './image';

/** Sets one pixel (opaque on RGBA, colour mean on gray); outside the image does nothing. */
export function setPixel(image: RasterImage, x: number, y: number, color: Rgb): void {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  const offset = (y * image.width + x) * image.channels;
  if (image.channels === 1) {
    image.data[offset] = Math.round((color[0] + color[1] + color[2]) / 3);
    return;
  }
  image.data[offset] = color[0];
  image.data[offset + 1] = color[1];
  image.data[offset + 2] = color[2];
  if (image.channels === 4) image.data[offset + 3] = 255;
}

/** Fills the rectangle [x, x + width) × [y, y + height). */
export function fillRect(image: RasterImage, x: number, y: number, width: number, height: number, color: Rgb): void {
  for (let row = y; row < y + height; row++)
    for (let column = x; column < x + width; column++) setPixel(image, column, row, color);
}

/** Bresenham line from (x0, y0) to (x1, y1), `thickness` pixels wide (a square brush). */
export function drawLine(
  image: RasterImage,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  color: Rgb,
  thickness = 1,
): void {
  let x = Math.round(x0);
  let y = Math.round(y0);
  const endX = Math.round(x1);
  const endY = Math.round(y1);
  const dx = Math.abs(endX - x);
  const dy = -Math.abs(endY - y);
  const stepX = x < endX ? 1 : -1;
  const stepY = y < endY ? 1 : -1;
  let error = dx + dy;
  const offset = Math.floor((thickness - 1) / 2);
  for (;;) {
    fillRect(image, x - offset, y - offset, thickness, thickness, color);
    if (x === endX && y === endY) return;
    const doubled = 2 * error;
    if (doubled >= dy) {
      error += dy;
      x += stepX;
    }
    if (doubled <= dx) {
      error += dx;
      y += stepY;
    }
  }
}

/** Copies `source` into `target` with its top-left corner at (x, y), converting gray/RGB/RGBA as needed. */
export function pasteImage(target: RasterImage, source: RasterImage, x: number, y: number): void {
  for (let row = 0; row < source.height; row++) {
    for (let column = 0; column < source.width; column++) {
      const offset = (row * source.width + column) * source.channels;
      const gray = source.channels === 1;
      setPixel(target, x + column, y + row, [
        source.data[offset] as number,
        source.data[offset + (gray ? 0 : 1)] as number,
        source.data[offset + (gray ? 0 : 2)] as number,
      ]);
    }
  }
}
