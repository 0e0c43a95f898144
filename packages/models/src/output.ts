/**
 * Building a {@link ModelOutput} from named features, and the positional reading of a plain feature list.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ModelOutput } from './types';

/** Options of {@link modelOutput}: the logits and whichever named features the model has. */
export interface ModelOutputParts {
  logits: tf.Tensor2D;
  stem?: tf.Tensor;
  stages?: tf.Tensor[];
  pooled?: tf.Tensor2D;
  preactivations?: tf.Tensor[];
}

/**
 * A {@link ModelOutput} from named features, with the positional list `features = [stem, ...stages, pooled]`
 * (the entries given). For a `KdModel` of your own.
 *
 * @example
 * return modelOutput({ logits, stem: f0, stages: [f1, f2], pooled, preactivations: [p1, p2] });
 */
export function modelOutput({ logits, stem, stages = [], pooled, preactivations = [] }: ModelOutputParts): ModelOutput {
  const features = [...(stem === undefined ? [] : [stem]), ...stages, ...(pooled === undefined ? [] : [pooled])];
  return {
    logits,
    features,
    ...(stem === undefined ? {} : { stem }),
    stages,
    ...(pooled === undefined ? {} : { pooled }),
    preactivations,
  };
}

/** Positions of the named roles in a feature list (see {@link featureRoles}). */
export interface FeatureRoles {
  stem: number | undefined;
  stages: number[];
  pooled: number | undefined;
}

/**
 * How a plain feature list maps to named roles, given each entry's rank: RepDistiller's layout
 * `[stem, ...stages, pooled]`, where the last entry is `pooled` when it is a vector (rank 2), the first of the
 * remaining entries is `stem` and the others are `stages`. `[conv1, conv2, flatten]` → stem 0, stages [1],
 * pooled 2; `[conv1, conv2]` → stem 0, stages [1]; `[flatten]` → pooled 0.
 */
export function featureRoles(ranks: readonly number[]): FeatureRoles {
  const pooled = ranks.length > 0 && ranks[ranks.length - 1] === 2 ? ranks.length - 1 : undefined;
  const rest = Array.from({ length: pooled ?? ranks.length }, (_, index) => index);
  return { stem: rest[0], stages: rest.slice(1), pooled };
}
