/**
 * Reading the named features a method declared: presence checks before training, and the per-step views.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ModelOutput } from '@kd/models';
import type { FeatureRead, FeatureShapes, FeatureTensors, ReadFeatures, ReadShapes } from './types';

/** Every feature name a method may declare, with what it is (for messages). */
export const FEATURE_READS: Readonly<Record<FeatureRead, string>> = {
  stem: "the stem's output map",
  stages: "every stage's output",
  lastStage: "the last stage's output map",
  pooled: 'the pooled penultimate vector [N, D]',
  preactivations: 'the stage outputs before their last ReLU',
};

/** The tensor(s) of one feature, or undefined when the model does not provide it. */
function featureOf(output: ModelOutput, name: FeatureRead): tf.Tensor | tf.Tensor[] | undefined {
  switch (name) {
    case 'stem':
      return output.stem;
    case 'stages':
      return output.stages.length === 0 ? undefined : output.stages;
    case 'lastStage':
      return output.stages[output.stages.length - 1];
    case 'pooled':
      return output.pooled;
    case 'preactivations':
      return output.preactivations.length === 0 ? undefined : output.preactivations;
  }
}

/**
 * Throws unless `output` provides every feature in `reads`, naming the first missing one:
 * `distillStudent: objectives[1] ('vid') needs the teacher's stages (every stage's output), but teacher.apply
 * returned none`. The pooled vector must be `[N, D]`.
 */
export function assertReads(
  where: string,
  who: 'student' | 'teacher',
  output: ModelOutput,
  reads: readonly FeatureRead[],
): void {
  for (const name of reads) {
    const feature = featureOf(output, name);
    if (feature === undefined) {
      throw new Error(
        `${where} needs the ${who}'s ${name} (${FEATURE_READS[name]}), but ${who}.apply returned none ` +
          `(ModelOutput.${name === 'lastStage' ? 'stages' : name}; see ModelFeatures in @kd/models)`,
      );
    }
    if (name === 'pooled' && !Array.isArray(feature) && feature.rank !== 2) {
      throw new Error(`${where} needs the ${who}'s pooled vector as [N, D], got [${feature.shape.join(',')}]`);
    }
  }
}

/** The logits and the declared features of `output`, for a method's loss (checked by {@link assertReads}). */
export function readFeatures<R extends FeatureRead>(output: ModelOutput, reads: readonly R[]): ReadFeatures<R> {
  const view: Partial<FeatureTensors> & { logits: tf.Tensor2D } = { logits: output.logits };
  for (const name of reads) Object.assign(view, { [name]: featureOf(output, name) });
  return view as ReadFeatures<R>;
}

/** The shapes of the logits and of the declared features, for a method's `create`. */
export function readShapes<R extends FeatureRead>(output: ModelOutput, reads: readonly R[]): ReadShapes<R> {
  const shapes: Partial<FeatureShapes> & { logits: number[] } = { logits: [...output.logits.shape] };
  for (const name of reads) {
    const feature = featureOf(output, name);
    const shape = Array.isArray(feature) ? feature.map((tensor) => [...tensor.shape]) : [...(feature?.shape ?? [])];
    Object.assign(shapes, { [name]: shape });
  }
  return shapes as ReadShapes<R>;
}
