/** Alpha blending of a coloured heat map over the input image. */
import { assertKnownOptions } from '@kd/internal';
import { assertNumber } from '../validate';
import { colorizeHeatMap, type ColorMapName } from './colormap';
import { assertHeatMap, assertImage, type HeatMap, type RasterImage } from './image';
import { resizeHeatMap } from './resize';

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
      data[index * 3 + channel] = Math.round((1 - alpha) * rgbAt(image, index, channel) + alpha * rgbAt(heat, index, channel));
    }
  }
  return { width: image.width, height: image.height, channels: 3, data };
}

export interface CamOverlayOptions extends OverlayOptions {
  /** Default `'jet'`. */
  colorMap?: ColorMapName;
}

/**
 * The usual CAM picture in one call: bilinear-resize `map` to the image size, colour it, blend it over `image`.
 *
 * @example
 * const [map] = heatMapsFromTensor(eigenCam(features));
 * const picture = camOverlay(imageFromTensor(image), map, { colorMap: 'jet', alpha: 0.5 });
 */
export function camOverlay(image: RasterImage, map: HeatMap, options: CamOverlayOptions = {}): RasterImage {
  const fn = 'camOverlay';
  assertImage(fn, 'image', image);
  assertHeatMap(fn, 'map', map);
  assertKnownOptions(fn, options, ['alpha', 'colorMap']);
  const resized = resizeHeatMap(map, { width: image.width, height: image.height });
  return overlayImages(image, colorizeHeatMap(resized, { colorMap: options.colorMap ?? 'jet' }), { alpha: options.alpha ?? 0.5 });
}
