/** Alpha blending of two images (e.g. a coloured heat map over the input image). */
import { assertKnownOptions } from '@kd/internal';
import { assertImage, type RasterImage } from './image';
import { assertNumber } from './validate';

export interface OverlayOptions {
  /** Weight of the heat map: out = (1 − alpha)·image + alpha·heat. Default 0.5 (pytorch-grad-cam's default). */
  alpha?: number;
}

/** The RGB components of pixel `index` (gray is replicated, an alpha channel is ignored). */
function rgbAt(image: RasterImage, index: number, channel: number): number {
  return image.data[index * image.channels + (image.channels === 1 ? 0 : channel)] as number;
}

/**
 * Blends an RGB heat image over `image` (gray, RGB or RGBA, same size): per pixel and component,
 * out = round((1 − alpha)·image + alpha·heat). Returns a new RGB image.
 *
 * @example
 * const blended = overlayImages(picture, colorizeHeatMap(map), { alpha: 0.4 });
 */
export function overlayImages(image: RasterImage, heat: RasterImage, options: OverlayOptions = {}): RasterImage {
  const fn = 'overlayImages';
  assertImage(fn, 'image', image);
  assertImage(fn, 'heat', heat);
  assertKnownOptions(fn, options, ['alpha']);
  const alpha = assertNumber(fn, 'alpha', options.alpha ?? 0.5, { min: 0, max: 1 });
  if (image.width !== heat.width || image.height !== heat.height) {
    throw new Error(`${fn}: image is ${image.width}×${image.height} but heat is ${heat.width}×${heat.height}`);
  }
  const pixels = image.width * image.height;
  const data = new Uint8Array(pixels * 3);
  for (let index = 0; index < pixels; index++) {
    for (let channel = 0; channel < 3; channel++) {
      data[index * 3 + channel] = Math.round(
        (1 - alpha) * rgbAt(image, index, channel) + alpha * rgbAt(heat, index, channel),
      );
    }
  }
  return { width: image.width, height: image.height, channels: 3, data };
}
