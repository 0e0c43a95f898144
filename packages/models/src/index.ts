export type { ApplyOptions, KdModel, ModelOutput } from './types';
