/**
 * Test helpers: run a kernel on cpu (the reference) and on wasm with the same inputs, compare, and check that
 * neither engine tensors nor wasm buffers leak.
 */
import '@tensorflow/tfjs-backend-wasm';
import { describeWithBackends, seededRandom, tf } from '@kd/test-utils';
import type { NamedAttrMap } from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { cpus } from 'node:os';
import { initWasmTrainingBackend } from '../src/index';

export { tf };

export interface HostTensor {
  values: Float32Array | Int32Array;
  shape: number[];
  dtype: 'float32' | 'int32';
}

/** Kernel attributes as tests write them (undefined entries are dropped by tfjs). */
export type KernelAttrs = Record<string, unknown>;

export function randomHost(shape: number[], seed: number): HostTensor {
  const random = seededRandom(seed);
  const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * random() - 1);
  return { values, shape, dtype: 'float32' };
}

/**
 * XNNPACK threads the tests run wasm with: `KD_WASM_THREADS`, default 2 (1 on a one-core machine). Every
 * test file of this package shares one process (and tfjs's one engine), so all of them use this count.
 */
export function testWasmThreads(): number {
  const fromEnvironment = process.env.KD_WASM_THREADS;
  if (fromEnvironment !== undefined) {
    const threads = Number(fromEnvironment);
    if (!Number.isInteger(threads) || threads < 1)
      throw new Error(`KD_WASM_THREADS must be a positive integer, got ${fromEnvironment}`);
    return threads;
  }
  return Math.min(2, cpus().length);
}

/** Number of buffers the wasm backend holds (engine tensors plus anything a kernel forgot to free). */
export function wasmBufferCount(): number {
  const backend = tf.findBackend('wasm') as unknown as { numDataIds(): number } | null;
  if (backend === null) throw new Error('wasm backend not initialised');
  return backend.numDataIds();
}

/** Bytes of the wasm heap (it grows, never shrinks: flat across repeated steps means no leak). */
export function wasmHeapBytes(): number {
  const backend = tf.findBackend('wasm') as unknown as { wasm: { HEAPU8: Uint8Array } } | null;
  if (backend === null) throw new Error('wasm backend not initialised');
  return backend.wasm.HEAPU8.length;
}

/** Runs `kernelName` on `backendName` and returns its output's values and shape. */
export async function runKernelOn(
  backendName: 'cpu' | 'wasm',
  kernelName: string,
  inputs: Record<string, HostTensor>,
  attrs: KernelAttrs,
): Promise<{ values: Float32Array; shape: number[] }> {
  if (tf.getBackend() !== backendName) await tf.setBackend(backendName);
  return tf.tidy(() => {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, host] of Object.entries(inputs)) tensors[name] = tf.tensor(host.values, host.shape, host.dtype);
    const output = tf.engine().runKernel(kernelName, tensors, attrs as NamedAttrMap) as tf.Tensor;
    const values = Float32Array.from(output.dataSync());
    return { values, shape: output.shape.slice() };
  });
}

/** max |a − e| / max |e|: the error relative to the output's scale. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let index = 0; index < expected.length; index++) {
    const diff = Math.abs((actual[index] as number) - (expected[index] as number));
    maxDiff = Number.isNaN(diff) ? Infinity : Math.max(maxDiff, diff);
    maxRef = Math.max(maxRef, Math.abs(expected[index] as number));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

/** Computes a kernel on both backends and asserts equal shapes and relative error ≤ `tolerance`. */
export async function expectKernelMatchesCpu(
  kernelName: string,
  inputs: Record<string, HostTensor>,
  attrs: KernelAttrs,
  tolerance = 1e-4,
): Promise<void> {
  const expected = await runKernelOn('cpu', kernelName, inputs, attrs);
  const actual = await runKernelOn('wasm', kernelName, inputs, attrs);
  expect(actual.shape, `${kernelName} shape`).toEqual(expected.shape);
  const error = relativeError(actual.values, expected.values);
  expect(error, `${kernelName} relative error ${error} (attrs ${JSON.stringify(attrs)})`).toBeLessThanOrEqual(
    tolerance,
  );
}

/**
 * A `describeWithBackends` block pinned to cpu (each test switches to wasm where it compares) that initialises
 * wasm with the training kernels and also fails a test that leaves wasm buffers behind.
 */
export function describeWasmVsCpu(name: string, suite: () => void): void {
  describeWithBackends(
    name,
    () => {
      let buffersBefore = 0;
      beforeAll(async () => {
        await initWasmTrainingBackend({ threads: testWasmThreads() });
        await tf.setBackend('cpu');
      });
      beforeEach(() => {
        buffersBefore = wasmBufferCount();
      });
      afterEach(() => {
        expect(wasmBufferCount(), 'wasm buffers leaked').toBe(buffersBefore);
      });
      suite();
    },
    { backends: ['cpu'] },
  );
}
