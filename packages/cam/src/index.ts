export { eigenCam, normalizeCam, type EigenCamOptions } from './eigen-cam';
export { gradCam, type FeatureHook, type GradCamOptions, type HookableApplyOptions } from './grad-cam';
export {
  leadingEigenvector,
  powerIterationStartVector,
  type PowerIterationOptions,
  type PowerIterationResult,
} from './power-iteration';
export { camOverlay, type CamOverlayOptions } from './cam-overlay';
