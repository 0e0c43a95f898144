export { fromLayersModel } from './layers-model';
export type { FromLayersModelOptions, LayersKdModel } from './layers-model';
export { fromGraphModel, GRAPH_MODEL_INFERENCE_ONLY } from './graph-model';
export type { FromGraphModelOptions, GraphKdModel, GraphModelLike } from './graph-model';
export type { FeatureLayerNames } from './validate';
