export { type JsonValue, type Regularizer, RegularizerBase, type RegularizerConfig, type WeightsArtifacts } from './regularizer';
export { VIDRegularizer, type VIDRegularizerOptions } from './vid-regularizer';
export { VIDLPRegularizer, type VIDLPRegularizerOptions } from './vid-lp-regularizer';
export { VIDVectorRegularizer, type VIDVectorRegularizerOptions } from './vid-vector-regularizer';
export { CRDRegularizer, type CRDRegularizerOptions } from './crd-regularizer';
export { ICDRegularizer, type ICDRegularizerOptions } from './icd-regularizer';
export { MIMKDRegularizer, type MIEstimator, type MIMKDRegularizerOptions } from './mimkd-regularizer';
export {
  FitNetRegularizer,
  type FeatureShape,
  type FitNetActivation,
  type FitNetRegressorKind,
  type FitNetRegularizerOptions,
} from './fitnet-regularizer';
export { CorrelationCongruenceRegularizer, type CorrelationCongruenceRegularizerOptions } from './correlation-congruence-regularizer';
export { FactorTransferRegularizer, type FactorTransferRegularizerOptions } from './factor-transfer-regularizer';
export { CentroidTracker, type CentroidMode, type CentroidTrackerOptions } from './centroid-tracker';
