/** Test helpers shared by the regularizer tests: variable access, gradient checks, leak and round-trip checks. */
import { expectArraysClose, tf } from '@kd/test-utils';
import { expect } from 'vitest';
import type { RegularizerBase } from '../regularizer';
import { type Plain, plain } from './reference';

/** The variable saved as `localName` (searched among trainable, non-trainable and `extra` variables). */
export function variableOf(regularizer: RegularizerBase, localName: string, extra: tf.Variable[] = []): tf.Variable {
  const all = [...regularizer.trainableVariables, ...regularizer.nonTrainableVariables, ...extra];
  const found = all.find((variable) => variable.name === `${regularizer.name}/${localName}`);
  if (found === undefined)
    throw new Error(`no variable '${localName}' in ${regularizer.name}: ${all.map((v) => v.name).join(', ')}`);
  return found;
}

/** The plain values of the variable saved as `localName`. */
export function weightOf(regularizer: RegularizerBase, localName: string, extra: tf.Variable[] = []): Plain {
  return plain(variableOf(regularizer, localName, extra));
}

/** Overwrites a variable with `values`. */
export function setVariable(variable: tf.Variable, values: ArrayLike<number>): void {
  const tensor = tf.tensor(Float32Array.from(values), variable.shape, 'float32');
  variable.assign(tensor);
  tensor.dispose();
}

/** Runs `loss` once and returns its value. */
export function lossValue(loss: () => tf.Scalar): number {
  return tf.tidy(() => loss().dataSync()[0] as number);
}

/** Every variable receives a finite gradient with at least one non-zero entry. */
export function expectGradientsReachEveryVariable(loss: () => tf.Scalar, variables: tf.Variable[]): void {
  const { value, grads } = tf.variableGrads(loss, variables);
  value.dispose();
  try {
    for (const variable of variables) {
      const gradient = grads[variable.name];
      expect(gradient, `gradient of ${variable.name}`).toBeDefined();
      const values = (gradient as tf.Tensor).dataSync();
      expect(values.every(Number.isFinite), `finite gradient of ${variable.name}`).toBe(true);
      expect(
        values.some((entry) => entry !== 0),
        `non-zero gradient of ${variable.name}`,
      ).toBe(true);
    }
  } finally {
    tf.dispose(Object.values(grads));
  }
}

/**
 * The analytic gradient of `loss` w.r.t. `variable` (tf.variableGrads) equals central finite differences
 * (f(v + h e_k) − f(v − h e_k)) / 2h on the first `maxElements` entries.
 */
export function expectVariableGradientMatchesFiniteDifferences(
  loss: () => tf.Scalar,
  variable: tf.Variable,
  {
    maxElements = 8,
    step = 1e-2,
    rtol = 2e-2,
    atol = 2e-3,
  }: { maxElements?: number; step?: number; rtol?: number; atol?: number } = {},
): void {
  const { value, grads } = tf.variableGrads(loss, [variable]);
  value.dispose();
  const count = Math.min(variable.size, maxElements);
  const analytic = Array.from((grads[variable.name] as tf.Tensor).dataSync()).slice(0, count);
  tf.dispose(Object.values(grads));
  const original = Float32Array.from(variable.dataSync());
  const numeric: number[] = [];
  for (let index = 0; index < count; index++) {
    const evaluate = (delta: number): number => {
      const shifted = original.slice();
      shifted[index] = (shifted[index] as number) + delta;
      setVariable(variable, shifted);
      return lossValue(loss);
    };
    numeric.push((evaluate(step) - evaluate(-step)) / (2 * step));
  }
  setVariable(variable, original);
  expectArraysClose(analytic, numeric, { rtol, atol });
}

/** Repeated `optimizer.minimize` steps keep `tf.memory().numTensors` flat and change the variables. */
export function expectMinimizeIsLeakFree(
  loss: () => tf.Scalar,
  variables: tf.Variable[],
  { steps = 4, afterStep }: { steps?: number; afterStep?: () => void } = {},
): void {
  const optimizer = tf.train.sgd(0.05);
  const before = variables.map((variable) => Float32Array.from(variable.dataSync()));
  const counts: number[] = [];
  for (let step = 0; step < steps; step++) {
    optimizer.minimize(loss, false, variables);
    afterStep?.();
    counts.push(tf.memory().numTensors);
  }
  optimizer.dispose();
  expect(new Set(counts).size, `tensor counts per step: ${counts.join(', ')}`).toBe(1);
  const changed = variables.some((variable, index) =>
    variable.dataSync().some((value, k) => value !== (before[index] as Float32Array)[k]),
  );
  expect(changed, 'the optimizer moved the variables').toBe(true);
}

/** Two instances hold identical values in every variable. */
export function expectSameWeights(a: RegularizerBase, b: RegularizerBase): void {
  const variablesA = [...a.trainableVariables, ...a.nonTrainableVariables];
  const variablesB = [...b.trainableVariables, ...b.nonTrainableVariables];
  expect(variablesA.length).toBe(variablesB.length);
  variablesA.forEach((variable, index) => {
    expect(Array.from(variable.dataSync())).toEqual(Array.from((variablesB[index] as tf.Variable).dataSync()));
  });
}

/** Two instances differ in at least one trainable value. */
export function expectDifferentWeights(a: RegularizerBase, b: RegularizerBase): void {
  const differs = a.trainableVariables.some((variable, index) =>
    variable.dataSync().some((value, k) => value !== (b.trainableVariables[index] as tf.Variable).dataSync()[k]),
  );
  expect(differs).toBe(true);
}

/**
 * `target` (built with another seed) gives a different loss until it loads `source`'s weights, then exactly
 * the same one.
 */
export async function expectRoundTrip<R extends RegularizerBase>(
  source: R,
  target: R,
  loss: (regularizer: R) => tf.Scalar,
): Promise<void> {
  const expected = lossValue(() => loss(source));
  expect(lossValue(() => loss(target))).not.toBe(expected);
  target.loadWeights(await source.saveWeights());
  expect(lossValue(() => loss(target))).toBe(expected);
}
