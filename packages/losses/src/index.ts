export {
  configureValidation,
  flushValueChecks,
  getValidationConfig,
  valueCheckTiming,
  type ValidationConfig,
  type ValueCheckMode,
} from './validate';
export { matchSpatialSize } from './spatial';
export * from './info/index';
export * from './baselines/index';
export * from './regularizers/index';
