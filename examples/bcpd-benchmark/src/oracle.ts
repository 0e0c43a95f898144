/**
 * The oracle teacher: a KdModel whose logits are log P*(y|x), the problem's closed-form Bayes posterior, so
 * `distillStudent` gives its students P* itself as soft labels (at temperature 1 exactly P*). It has no
 * variables and no features; only logit-based objectives (KD) can use it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ApplyOptions, KdModel, ModelOutput } from '@kd/models';
import type { Problem } from './problem';

/** An oracle teacher for `problem` (inputs `[N, 1, 1, d]`). */
export function oracleTeacher(problem: Problem): KdModel {
  const { dimension, numClasses } = problem.spec;
  return {
    name: 'oracle',
    numClasses,
    inputChannels: dimension,
    trainableVariables: [],
    nonTrainableVariables: [],
    apply(images: tf.Tensor4D, _options: ApplyOptions): ModelOutput {
      if (images.rank !== 4 || images.shape[1] !== 1 || images.shape[2] !== 1 || images.shape[3] !== dimension) {
        throw new Error(`oracle.apply: images must be [N, 1, 1, ${dimension}], got [${images.shape.join(',')}]`);
      }
      // log P* in float64 from the float32 inputs the students see, then handed over as float32 logits.
      const logits = problem.logPosterior(Float64Array.from(images.dataSync()));
      return {
        logits: tf.tensor2d(Float32Array.from(logits), [images.shape[0], numClasses]),
        features: [],
        stages: [],
        preactivations: [],
      };
    },
    countParams: () => 0,
    dispose: () => undefined,
  };
}
