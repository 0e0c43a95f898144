/**
 * Test helpers shared by every @kd package.
 *
 * Importing this module loads the umbrella `@tensorflow/tfjs` bundle: it registers the cpu backend and every
 * gradient (tfjs-core alone registers none), which is what a Node user does too.
 */
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeEach, describe, expect } from 'vitest';

export { tf };

// Tests run on the pure-JS cpu backend on purpose; silence its "install tfjs-node" banner.
// (PROD, not IS_TEST: IS_TEST turns on tfjs's own leak checks, which misreport wasm kernels.)
tf.env().set('PROD', true);

/** Backends a suite runs on: always `cpu`, plus any listed in `KD_TEST_BACKENDS` (comma separated). */
export function testBackends(): string[] {
  const extra = (process.env.KD_TEST_BACKENDS ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0 && name !== 'cpu');
  return ['cpu', ...extra];
}

/** Options of {@link describeWithBackends}. */
export interface DescribeWithBackendsOptions {
  /**
   * The backends to run on instead of {@link testBackends}, for a suite that needs one backend: a wasm smoke
   * test (`['wasm']`, the backend set up in its `beforeAll`) or a suite that switches backends itself (`['cpu']`).
   */
  backends?: readonly string[];
}

/**
 * Runs `suite` once per test backend (see {@link testBackends}). Before each test the backend is selected and
 * the live tensor count recorded; after it, a test that changed `tf.memory().numTensors` fails.
 */
export function describeWithBackends(
  name: string,
  suite: (backend: string) => void,
  options: DescribeWithBackendsOptions = {},
): void {
  for (const backend of options.backends ?? testBackends()) {
    describe(`${name} [${backend}]`, () => {
      let tensorsBefore = 0;
      beforeEach(async () => {
        if (tf.getBackend() !== backend) {
          const ok = await tf.setBackend(backend);
          if (!ok) throw new Error(`describeWithBackends: backend '${backend}' could not be initialised`);
        }
        await tf.ready();
        tensorsBefore = tf.memory().numTensors;
      });
      afterEach(() => {
        const tensorsAfter = tf.memory().numTensors;
        expect(tensorsAfter, `tensor leak: ${tensorsAfter - tensorsBefore} tensors left alive`).toBe(tensorsBefore);
      });
      suite(backend);
    });
  }
}

/** Asserts every element of `actual` is within `atol + rtol·|expected|` of `expected`. */
export function expectArraysClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6 }: { rtol?: number; atol?: number } = {},
): void {
  expect(actual.length, 'length').toBe(expected.length);
  for (let index = 0; index < expected.length; index++) {
    const a = actual[index] as number;
    const e = expected[index] as number;
    const tolerance = atol + rtol * Math.abs(e);
    if (!(Math.abs(a - e) <= tolerance)) {
      throw new Error(`element ${index}: got ${a}, expected ${e} (tolerance ${tolerance})`);
    }
  }
}

/** Asserts a scalar is within `atol + rtol·|expected|` of `expected`. */
export function expectClose(actual: number, expected: number, options: { rtol?: number; atol?: number } = {}): void {
  expectArraysClose([actual], [expected], options);
}

/** Reads a tensor's values and disposes it. */
export function valuesOf(tensor: tf.Tensor): Float32Array | Int32Array | Uint8Array {
  const values = tensor.dataSync() as Float32Array | Int32Array | Uint8Array;
  const copy = values.slice();
  tensor.dispose();
  return copy;
}

/** Reads a scalar's value and disposes it. */
export function scalarOf(tensor: tf.Tensor): number {
  const values = valuesOf(tensor);
  if (values.length !== 1) throw new Error(`scalarOf: expected one element, got ${values.length}`);
  return values[0] as number;
}

/** Deterministic pseudo-random numbers (mulberry32) for test fixtures. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A float32 tensor of the given shape with values uniform in [low, high), from a seed. */
export function randomTensor(shape: number[], seed: number, low = -1, high = 1): tf.Tensor {
  const random = seededRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let index = 0; index < size; index++) values[index] = low + (high - low) * random();
  return tf.tensor(values, shape, 'float32');
}

/**
 * Central finite differences of a scalar function with respect to one input, evaluated in float32:
 * d f / d x_k ≈ (f(x + h e_k) − f(x − h e_k)) / 2h. `f` receives a fresh tensor and must not dispose it.
 */
export function finiteDifferenceGradient(
  f: (x: tf.Tensor) => tf.Scalar,
  x: tf.Tensor,
  { step = 1e-2, maxElements = Infinity }: { step?: number; maxElements?: number } = {},
): Float32Array {
  const base = x.dataSync() as Float32Array;
  const count = Math.min(base.length, maxElements);
  const gradient = new Float32Array(count);
  for (let index = 0; index < count; index++) {
    const evaluate = (delta: number): number => {
      const shifted = base.slice();
      shifted[index] = (shifted[index] as number) + delta;
      return tf.tidy(() => f(tf.tensor(shifted, x.shape, 'float32')).dataSync()[0] as number);
    };
    gradient[index] = (evaluate(step) - evaluate(-step)) / (2 * step);
  }
  return gradient;
}

/**
 * Checks the analytic gradient of `f` at `x` (from `tf.grad`) against central finite differences.
 * Float32 differences are noisy, hence the loose default tolerances.
 */
export function expectGradientMatchesFiniteDifferences(
  f: (x: tf.Tensor) => tf.Scalar,
  x: tf.Tensor,
  {
    step = 1e-2,
    rtol = 2e-2,
    atol = 2e-3,
    maxElements = Infinity,
  }: {
    step?: number;
    rtol?: number;
    atol?: number;
    maxElements?: number;
  } = {},
): void {
  const gradientTensor = tf.tidy(() => tf.grad(f)(x));
  const analytic = (gradientTensor.dataSync() as Float32Array).slice(0, Math.min(x.size, maxElements));
  gradientTensor.dispose();
  const numeric = finiteDifferenceGradient(f, x, { step, maxElements });
  expectArraysClose(analytic, numeric, { rtol, atol });
}

/** Asserts `action` throws an Error whose message contains every fragment (function name, argument name, …). */
export function expectThrowsWith(action: () => unknown, ...fragments: string[]): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  if (!(thrown instanceof Error))
    throw new Error(`expected an Error mentioning ${fragments.join(', ')}; nothing was thrown`);
  for (const fragment of fragments) {
    expect(thrown.message, `error message should mention '${fragment}'`).toContain(fragment);
  }
}
