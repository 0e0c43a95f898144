export {
  flushValueChecks,
  valueCheckTiming,
  type ValueCheckMode,
  type ValueCheckOption,
  type ValueCheckTiming,
  type ValueCheckTimingOptions,
} from './validate';
export { matchSpatialSize } from './spatial';
export * from './info/index';
export * from './baselines/index';
export * from './regularizers/index';
