export { trainSupervised, type TrainSupervisedOptions } from './supervised';
export { fineTuneTeacherMcmi, type FineTuneTeacherMcmiOptions, type CollapseGuard } from './mcmi';
export { distillStudent, type DistillStudentOptions } from './distill';
export {
  REFERENCE_WEIGHTS,
  hasMethod,
  listMethods,
  methodDefinition,
  referenceObjectives,
  registerMethod,
} from './objectives/registry';
export type {
  FeatureRead,
  FeatureShapes,
  FeatureTensors,
  LossInputs,
  MethodContext,
  MethodDefinition,
  MethodInfo,
  MethodInstance,
  MethodName,
  MethodOptionsMap,
  NoOptions,
  ObjectiveSpec,
  OptionDescriptions,
  PreStage,
  PreStageOptions,
  PreStageSettings,
  ReadFeatures,
  ReadShapes,
  ReferenceWeights,
} from './objectives/types';
export type { CommonTrainingOptions } from './engine/options';
export { defaultLearningRate } from './engine/options';
export type { TrainingResult } from './engine/loop';
export type { EpochRecord } from './report/epoch-record';
export { NonFiniteLossError, TrainingAbortedError, TrainingCollapsedError } from './engine/errors';
export { SgdMomentum, type SgdOptions } from './optim/sgd';
export { learningRateAt, defaultMilestones, type LearningRateSchedule } from './optim/schedule';
export { ClassificationAccumulator, type ClassificationMetrics } from './eval/classification';
export { evaluateModel, type EvaluateOptions } from './eval/evaluate';
export { measureClassConditionalStatistics, type CmiPassOptions, type CmiStatistics } from './eval/cmi';
export { MemoryStore, prefixedStore, type RunStore } from './io/store';
export { indexedDbStore, type IndexedDbStore } from './io/indexeddb-store';
export {
  readCheckpoint,
  writeCheckpoint,
  CHECKPOINT_MANIFEST,
  type CheckpointContent,
  type JsonValue,
} from './io/checkpoint';
export { consoleProgress, formatProgressLine, type ProgressReporter, type StepInfo } from './report/progress';
export { renderTrainingCurves } from './report/curves';
export type { RunRecord } from './report/run-record';
export type { LoaderFactory, LoaderFactoryOptions } from './data';
