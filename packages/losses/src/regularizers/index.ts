export {
  type DenseWeights,
  type EncodedWeights,
  type JsonValue,
  type Regularizer,
  RegularizerBase,
  type RegularizerConfig,
  type RegularizerInputShapes,
  type RegularizerOptions,
  UNTRAINED_WARNING_CALLS,
} from './regularizer';
export type { UniformSampler } from './layers';
export type { InferredSize, InferredSizes, InputLayout, MapSize, SavedAxis } from './inferred-sizes';
export {
  collectTrainableVariables,
  type CollectTrainableVariablesOptions,
  type HasTrainableVariables,
  type TrainableModule,
} from './collect';
export { VidRegularizer, type VidRegularizerOptions } from './vid-regularizer';
export { VidLpRegularizer, type VidLpRegularizerOptions } from './vid-lp-regularizer';
export { VidVectorRegularizer, type VidVectorRegularizerOptions } from './vid-vector-regularizer';
export { CrdRegularizer, type CrdRegularizerOptions } from './crd-regularizer';
export { IcdRegularizer, type IcdRegularizerOptions } from './icd-regularizer';
export { MimkdRegularizer, type MiEstimator, type MimkdRegularizerOptions } from './mimkd-regularizer';
export {
  FitNetRegularizer,
  type FeatureShape,
  type FitNetActivation,
  type FitNetRegressorKind,
  type FitNetRegularizerOptions,
} from './fitnet-regularizer';
export {
  CorrelationCongruenceRegularizer,
  type CorrelationCongruenceRegularizerOptions,
} from './correlation-congruence-regularizer';
export { FactorTransferRegularizer, type FactorTransferRegularizerOptions } from './factor-transfer-regularizer';
export { CentroidTracker, type CentroidMode, type CentroidTrackerOptions } from './centroid-tracker';
