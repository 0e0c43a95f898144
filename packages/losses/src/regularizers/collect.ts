import type * as tf from '@tensorflow/tfjs-core';
import { assertKnownOptions } from '../validate';

/** Anything that owns trainable variables: a student model (`KdModel`), a regularizer, your own module. */
export interface HasTrainableVariables {
  readonly trainableVariables: readonly tf.Variable[];
}

/** A regularizer as `collectTrainableVariables` sees it (every `@kd/losses` regularizer is one). */
export interface TrainableModule extends HasTrainableVariables {
  /** Named in the error for an unbuilt module. */
  readonly name?: string;
  /** `false` while the module's variables do not exist yet (sizes inferred on first use). */
  readonly built?: boolean;
}

export interface CollectTrainableVariablesOptions {
  /** The model being trained (the student): its `trainableVariables` come first. */
  model?: HasTrainableVariables;
  /** Variables of your own (a hand-written student), after the model's. */
  variables?: readonly tf.Variable[];
  /** The regularizers trained with it, each built (see `build()`); their trainable variables come last. */
  regularizers?: readonly TrainableModule[];
}

/**
 * The list to give an optimizer when training a student together with regularizer heads: the model's trainable
 * variables, then `variables`, then every regularizer's, each variable once (the union, in that order). A head
 * left out of the optimizer's list trains nothing, silently; this makes the right list the easy one.
 *
 * A regularizer whose sizes are inferred on first use has no variables until built: this function throws for an
 * unbuilt one (a list collected too early would leave it out for good). Build it first with
 * `build({ student, teacher })`, or give the sizes to its constructor.
 *
 * @example
 * const vid = new VidRegularizer({ seed: 1 });
 * vid.build({ student: [64, 8, 8, 32], teacher: [64, 8, 8, 128] });
 * const varList = collectTrainableVariables({ model: student, regularizers: [vid] });
 * optimizer.minimize(() => totalLoss(), false, varList);
 */
export function collectTrainableVariables(options: CollectTrainableVariablesOptions): tf.Variable[] {
  const fn = 'collectTrainableVariables';
  assertKnownOptions(fn, options, ['model', 'variables', 'regularizers'], { required: true });
  const { model, variables, regularizers } = options;
  if (model === undefined && variables === undefined && regularizers === undefined) {
    throw new Error(`${fn}: give at least one of model, variables and regularizers`);
  }
  const collected = new Set<tf.Variable>();
  const add = (arg: string, list: unknown): void => {
    if (!Array.isArray(list)) throw new Error(`${fn}: ${arg} must be an array of tf.Variable, got ${describe(list)}`);
    list.forEach((variable: unknown, index) => {
      if (!isVariable(variable)) {
        throw new Error(`${fn}: ${arg}[${index}] must be a tf.Variable, got ${describe(variable)}`);
      }
      collected.add(variable);
    });
  };
  if (model !== undefined) {
    add('model.trainableVariables', (model as Partial<HasTrainableVariables> | null)?.trainableVariables);
  }
  if (variables !== undefined) add('variables', variables);
  if (regularizers !== undefined) {
    if (!Array.isArray(regularizers)) {
      throw new Error(`${fn}: regularizers must be an array, got ${describe(regularizers)}`);
    }
    regularizers.forEach((regularizer: TrainableModule | null, index) => {
      if (regularizer === null || typeof regularizer !== 'object') {
        throw new Error(`${fn}: regularizers[${index}] must be a regularizer, got ${describe(regularizer)}`);
      }
      if (regularizer.built === false) {
        const label = typeof regularizer.name === 'string' ? ` (${regularizer.name})` : '';
        throw new Error(
          `${fn}: regularizers[${index}]${label} is not built yet: its sizes are inferred from its first ` +
            `loss() call, so it has no variables to collect and a list collected now would leave it out. Call ` +
            `build({ student: studentInput.shape, teacher: teacherInput.shape }) on it first, or give its sizes ` +
            `to the constructor`,
        );
      }
      add(`regularizers[${index}].trainableVariables`, regularizer.trainableVariables);
    });
  }
  return [...collected];
}

function isVariable(value: unknown): value is tf.Variable {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as tf.Variable).assign === 'function' &&
    typeof (value as tf.Variable).name === 'string' &&
    Array.isArray((value as tf.Variable).shape)
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
