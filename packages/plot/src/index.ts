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
} from './image';
export { resizeHeatMap, type ResizeOptions } from './resize';
export {
  colorAt,
  colorizeHeatMap,
  colorMapNames,
  colorMapTable,
  type ColorizeOptions,
  type ColorMapName,
} from './colormap';
export { overlayImages, type OverlayOptions } from './overlay';
export { decodePng, encodePng } from './png';
export {
  drawText,
  fontCharacters,
  glyph,
  GLYPH_HEIGHT,
  GLYPH_WIDTH,
  measureText,
  type DrawTextOptions,
  type TextOptions,
} from './font';
export { renderGrid, type GridOptions, type GridRow } from './grid';
export {
  formatTick,
  niceTicks,
  renderLinePlot,
  seriesPalette,
  type LinePlotOptions,
  type LineSeries,
} from './line-plot';
