export type {
  ApplyOptions,
  FeatureHook,
  FeatureName,
  KdModel,
  ModelFeatures,
  ModelOutput,
  NamedVariable,
} from './types';
export { featureRoles, modelOutput } from './output';
export type { FeatureRoles, ModelOutputParts } from './output';
export { createModel, listModels, modelRecipe, registerModel } from './registry';
export type { BuiltInModelName, CreateModelOptions, ModelFactory, ModelFactoryOptions, ModelRecipe } from './registry';
export { buildZooModel, recordFeature } from './zoo-model';
export type { ArchitectureBuilder, BuildOptions, Forward, ZooModel, ZooModelSpec } from './zoo-model';
export { VariableStore, Scope } from './variable-store';
export { Conv2d } from './layers/conv2d';
export type { Conv2dOptions, ConvInit } from './layers/conv2d';
export { BatchNorm2d } from './layers/batch-norm';
export type { BatchNorm2dOptions } from './layers/batch-norm';
export { Dense } from './layers/dense';
export type { DenseInit, DenseOptions } from './layers/dense';
export { avgPool2d, globalAvgPool, maxPool2d } from './layers/pooling';
export type { AvgPoolOptions, PoolOptions } from './layers/pooling';
export { channelShuffle } from './layers/channel-shuffle';
export { createRandomStream } from './random';
export { loadWeights, saveWeights } from './weights';
export type { WeightArtifacts, WeightArtifactsInput, WeightsMetadata } from './weights';
export type { RandomStream } from './random';
export type { Initializer } from './initializers';
export { loadTorchStateDict } from './torch/load';
export type { TorchLoadOptions, TorchLoadResult } from './torch/load';
export type { CheckpointFormat } from './torch/formats';
export { saveSafetensors } from './torch/save';
