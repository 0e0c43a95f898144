/**
 * The forward pass the residual CNNs of the zoo share: a stem, stages of blocks, a global average pool and a
 * linear classifier, with the named features every one of them reports.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Dense } from '../layers/dense';
import { globalAvgPool } from '../layers/pooling';
import type { FeatureHook, ModelOutput } from '../types';
import { recordFeature } from '../zoo-model';

/** A block that returns its output and the sum its last ReLU was applied to (its pre-activation). */
export interface PreactivatedBlock {
  apply(x: tf.Tensor4D, training: boolean): { output: tf.Tensor4D; preact: tf.Tensor4D };
}

/**
 * Runs `stemOutput` through `stages` of blocks, global-average-pools the last stage and applies `classifier`.
 * Features, in order: `stem`, every stage's output (`stages`), `pooled`; `preactivations` holds each stage's
 * last pre-activation (the stem's output for a stage without blocks).
 */
export function stagedForward(
  stemOutput: tf.Tensor4D,
  stages: readonly (readonly PreactivatedBlock[])[],
  classifier: Dense,
  training: boolean,
  featureHook: FeatureHook | undefined,
): ModelOutput {
  const features: tf.Tensor[] = [];
  const stem = recordFeature(features, stemOutput, featureHook);
  let x = stem;
  const stageOutputs: tf.Tensor[] = [];
  const preactivations: tf.Tensor[] = [];
  for (const blocks of stages) {
    let preact = x;
    for (const block of blocks) ({ output: x, preact } = block.apply(x, training));
    x = recordFeature(features, x, featureHook);
    stageOutputs.push(x);
    preactivations.push(preact);
  }
  const pooled = recordFeature(features, globalAvgPool(x), featureHook);
  return { logits: classifier.apply(pooled), features, stem, stages: stageOutputs, pooled, preactivations };
}
