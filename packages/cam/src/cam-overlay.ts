/** The usual CAM picture: a CAM resized to the image, coloured, and blended over the image. */
import { assertKnownOptions } from '@kd/internal';
import {
  assertHeatMap,
  assertImage,
  colorizeHeatMap,
  overlayImages,
  resizeHeatMap,
  type ColorMapName,
  type HeatMap,
  type OverlayOptions,
  type RasterImage,
} from '@kd/plot';

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
  return overlayImages(image, colorizeHeatMap(resized, { colorMap: options.colorMap ?? 'jet' }), {
    alpha: options.alpha ?? 0.5,
  });
}
