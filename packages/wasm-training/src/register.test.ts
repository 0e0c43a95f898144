import '@tensorflow/tfjs-backend-wasm';
import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { testWasmThreads } from '../test/helpers';
import { initWasmTrainingBackend } from './initWasmTrainingBackend';
import { WASM_TRAINING_KERNEL_NAMES, registerWasmTrainingKernels, unregisterWasmTrainingKernels } from './register';

// Pinned to cpu: each test switches to wasm itself and back.
describeWithBackends(
  'registerWasmTrainingKernels',
  () => {
    it('registers every kernel, is idempotent, and restores the stock kernels it replaced', async () => {
      // Another test file of this run may have registered them already (the kernel registry is global).
      unregisterWasmTrainingKernels();
      const stockInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
      const stockMatMul = tf.getKernel('BatchMatMul', 'wasm');
      expect(stockInput).toBeDefined();
      expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();

      expect(registerWasmTrainingKernels()).toEqual([...WASM_TRAINING_KERNEL_NAMES]);
      const ours = tf.getKernel('Conv2DBackpropInput', 'wasm');
      expect(ours?.kernelFunc).not.toBe(stockInput?.kernelFunc);
      expect(registerWasmTrainingKernels()).toEqual([...WASM_TRAINING_KERNEL_NAMES]);
      expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBe(ours);

      // The backend initialises (or already runs) with our kernels in place; a gradient through them runs.
      expect((await initWasmTrainingBackend({ threads: testWasmThreads() })).kernels).toEqual([
        ...WASM_TRAINING_KERNEL_NAMES,
      ]);
      const x = tf.ones([1, 4, 4, 2]);
      const w = tf.ones([3, 3, 2, 1]);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid')),
      )([x, w]);
      // Hand computation: each of the 2×2 outputs sums a 3×3×2 patch of ones, so dw = 4 everywhere.
      expect(Array.from(dw!.dataSync())).toEqual(new Array(18).fill(4));
      tf.dispose([x, w, dx!, dw!]);

      unregisterWasmTrainingKernels();
      expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).toBe(stockInput?.kernelFunc);
      expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).toBe(stockMatMul?.kernelFunc);
      expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
      // The restored stock kernels still run (their wasm functions are bound).
      const ones = tf.ones([2, 3]);
      const product = tf.matMul(ones, ones, false, true);
      expect(Array.from(product.dataSync())).toEqual([3, 3, 3, 3]);
      tf.dispose([ones, product]);
      unregisterWasmTrainingKernels();
      registerWasmTrainingKernels();
      await tf.setBackend('cpu');
    });

    it('rejects bad options with errors naming the function and argument', () => {
      expect(() => registerWasmTrainingKernels({ kernels: ['Conv3D' as never] })).toThrow(
        "registerWasmTrainingKernels: unknown kernel 'Conv3D'",
      );
      expect(() => registerWasmTrainingKernels([] as never)).toThrow(
        'registerWasmTrainingKernels: options must be an object',
      );
    });
  },
  { backends: ['cpu'] },
);
