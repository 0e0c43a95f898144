export { configureValidation, getValidationConfig, type ValidationConfig } from './validate';
export { matchSpatialSize } from './spatial';
export * from './info/index';
export * from './baselines/index';
export * from './regularizers/index';
