export { eigenCam, normalizeCam, type EigenCamOptions } from './eigen-cam';
export { gradCam, type FeatureHook, type GradCamOptions, type HookableApplyOptions } from './grad-cam';
export {
  leadingEigenvector,
  powerIterationStartVector,
  type PowerIterationOptions,
  type PowerIterationResult,
} from './power-iteration';
export {
  assertHeatMap,
  assertImage,
  createImage,
  heatMapsFromTensor,
  imageFromTensor,
  type HeatMap,
  type ImageFromTensorOptions,
  type RasterImage,
  type Rgb,
} from './render/image';
export { resizeHeatMap, type ResizeOptions } from './render/resize';
export {
  colorAt,
  colorizeHeatMap,
  colorMapNames,
  colorMapTable,
  type ColorizeOptions,
  type ColorMapName,
} from './render/colormap';
export { camOverlay, overlayImages, type CamOverlayOptions, type OverlayOptions } from './render/overlay';
export { decodePng, encodePng } from './render/png';
export {
  drawText,
  fontCharacters,
  glyph,
  GLYPH_HEIGHT,
  GLYPH_WIDTH,
  measureText,
  type DrawTextOptions,
  type TextOptions,
} from './render/font';
export { renderGrid, type GridOptions, type GridRow } from './render/grid';
export {
  formatTick,
  niceTicks,
  renderLinePlot,
  seriesPalette,
  type LinePlotOptions,
  type LineSeries,
} from './render/line-plot';
