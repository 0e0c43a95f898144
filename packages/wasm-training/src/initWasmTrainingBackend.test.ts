import { tf } from '@kd/test-utils';
import { describe, expect, it } from 'vitest';
import { initWasmTrainingBackend } from './initWasmTrainingBackend';
import { WASM_TRAINING_KERNEL_NAMES } from './register';

describe('initWasmTrainingBackend', () => {
  it('makes wasm the backend with the training kernels and reports threads and SIMD', async () => {
    const info = await initWasmTrainingBackend();
    expect(tf.getBackend()).toBe('wasm');
    expect(info.backend).toBe('wasm');
    expect(info.kernels).toEqual([...WASM_TRAINING_KERNEL_NAMES]);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    // Node: the stock loader never runs the threaded binary.
    expect(info.multithreading).toBe(false);
    expect(info.threads).toBe(1);
    expect(info.simd).toBe(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    // A second call is fine; a different thread count once the backend runs is an error.
    expect((await initWasmTrainingBackend({ threads: 1 })).threads).toBe(1);
    await expect(initWasmTrainingBackend({ threads: 2 })).rejects.toThrow(
      'initWasmTrainingBackend: options.threads (2) must be set before the wasm backend initialises',
    );
    await tf.setBackend('cpu');
  });

  it('rejects bad options with errors naming the function and argument', async () => {
    await expect(initWasmTrainingBackend({ threads: 0 })).rejects.toThrow(
      'initWasmTrainingBackend: options.threads must be an integer >= 1, got 0',
    );
    await expect(initWasmTrainingBackend({ wasmPaths: 3 as never })).rejects.toThrow(
      'initWasmTrainingBackend: options.wasmPaths must be a string or an object',
    );
    await expect(initWasmTrainingBackend('fast' as never)).rejects.toThrow('initWasmTrainingBackend: options must be an object');
  });
});
