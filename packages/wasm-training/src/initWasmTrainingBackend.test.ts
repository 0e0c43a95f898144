import { createModel } from '@kd/models';
import { describeWithBackends, tf } from '@kd/test-utils';
import { cpus } from 'node:os';
import { expect, it } from 'vitest';
import { fixedBatch } from '../test/zooStep';
import { relativeError, testWasmThreads, wasmBufferCount, wasmHeapBytes } from '../test/helpers';
import { initWasmTrainingBackend } from './initWasmTrainingBackend';
import { WASM_TRAINING_KERNEL_NAMES } from './register';

/** Disposes the running wasm backend and starts it again with `threads` (tests only: users pick once). */
async function restartWasm(threads: number) {
  if (tf.findBackend('wasm') !== null) tf.removeBackend('wasm');
  return initWasmTrainingBackend({ threads });
}

/** Loss and every gradient of one resnet8 step (batch 4, 16×16) on the current wasm backend. */
function resnet8Step(): { loss: number; gradients: Float32Array[] } {
  const data = fixedBatch(4, 16);
  const model = createModel('resnet8', { numClasses: 10, seed: 3 });
  try {
    return tf.tidy(() => {
      const images = tf.tensor4d(data.images, [4, 16, 16, 3]);
      const labels = tf.oneHot(tf.tensor1d(data.labels, 'int32'), 10) as tf.Tensor2D;
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(labels, model.apply(images, { training: true }).logits) as tf.Scalar,
        model.trainableVariables,
      );
      const gradients = model.trainableVariables.map((variable) => Float32Array.from(grads[variable.name]!.dataSync()));
      return { loss: value.dataSync()[0] as number, gradients };
    });
  } finally {
    model.dispose();
  }
}

// Pinned to cpu: each test switches to wasm itself and back.
describeWithBackends(
  'initWasmTrainingBackend',
  () => {
    const threads = testWasmThreads();
    const cores = cpus().length;

    it(`runs the threads asked for in Node (${threads}) and reports them truthfully`, async () => {
      const info = await initWasmTrainingBackend({ threads });
      expect(tf.getBackend()).toBe('wasm');
      expect(info.backend).toBe('wasm');
      expect(info.kernels).toEqual([...WASM_TRAINING_KERNEL_NAMES]);
      expect(info.threads).toBe(threads);
      expect(info.requestedThreads).toBe(threads);
      expect(info.logicalCores).toBe(cores);
      // More than one thread runs the threaded binary, which also needs SIMD.
      expect(info.multithreading).toBe(threads > 1);
      expect(info.simd).toBe(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      // The count comes from the binary: tfjs's own getter agrees.
      const backend = tf.backend() as unknown as { wasm: { tfjs: { getThreadsCount(): number } } };
      expect(backend.wasm.tfjs.getThreadsCount()).toBe(threads);
      // A second call is fine (with the same count or none); 'auto' means all cores.
      expect((await initWasmTrainingBackend({ threads })).threads).toBe(threads);
      expect((await initWasmTrainingBackend()).threads).toBe(threads);
      if (cores === threads) expect((await initWasmTrainingBackend({ threads: 'auto' })).threads).toBe(cores);
      await tf.setBackend('cpu');
    });

    it('rejects a different thread count once the backend runs, and more threads than cores', async () => {
      await initWasmTrainingBackend({ threads });
      const other = threads === 1 ? 2 : 1;
      if (other <= cores) {
        await expect(initWasmTrainingBackend({ threads: other })).rejects.toThrow(
          `initWasmTrainingBackend: options.threads (${other}) must be set before the wasm backend initialises; it already runs ${threads} thread(s)`,
        );
      }
      await expect(initWasmTrainingBackend({ threads: cores + 1 })).rejects.toThrow(
        `initWasmTrainingBackend: options.threads (${cores + 1}) exceeds the ${cores} logical core(s) here; ask for at most ${cores}, or 'auto'`,
      );
      // Still running, unchanged.
      expect((await initWasmTrainingBackend()).threads).toBe(threads);
      await tf.setBackend('cpu');
    });

    it.runIf(cores >= 2)('a training step on 2 threads equals the single-threaded step to 1e-5', async () => {
      await restartWasm(1);
      const single = resnet8Step();
      await restartWasm(2);
      const multi = resnet8Step();
      await restartWasm(threads);
      expect(Math.abs(multi.loss - single.loss) / Math.abs(single.loss)).toBeLessThanOrEqual(1e-5);
      expect(multi.gradients.length).toBe(single.gradients.length);
      for (const [index, expected] of single.gradients.entries()) {
        expect(relativeError(multi.gradients[index]!, expected), `gradient ${index}`).toBeLessThanOrEqual(1e-5);
      }
      await tf.setBackend('cpu');
    });

    it(`200 SGD steps on ${threads} thread(s) keep tensors, wasm buffers and the wasm heap flat`, async () => {
      await initWasmTrainingBackend({ threads });
      const model = createModel('resnet8', { numClasses: 10, seed: 1 });
      const optimizer = tf.train.sgd(0.01);
      const images = tf.randomUniform([2, 8, 8, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
      const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 3], 'int32'), 10) as tf.Tensor2D);
      const step = () =>
        optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(labels, model.apply(images, { training: true }).logits) as tf.Scalar,
          true,
        );
      const first = step();
      const firstLoss = first!.dataSync()[0] as number;
      first!.dispose();
      const tensors = tf.memory().numTensors;
      const buffers = wasmBufferCount();
      const heap = wasmHeapBytes();
      let lastLoss = firstLoss;
      for (let index = 0; index < 200; index++) {
        const loss = step();
        if (index === 199) lastLoss = loss!.dataSync()[0] as number;
        loss!.dispose();
        expect(tf.memory().numTensors).toBe(tensors);
      }
      expect(wasmBufferCount()).toBe(buffers);
      expect(wasmHeapBytes()).toBe(heap);
      // It did train: 200 steps on one fixed batch of 2 drive the loss far down.
      expect(lastLoss).toBeLessThan(firstLoss / 2);
      tf.dispose([images, labels]);
      optimizer.dispose();
      model.dispose();
      await tf.setBackend('cpu');
    });

    it('rejects bad options with errors naming the function and argument', async () => {
      await expect(initWasmTrainingBackend({ threads: 0 })).rejects.toThrow(
        "initWasmTrainingBackend: options.threads must be an integer >= 1 or 'auto', got 0",
      );
      await expect(initWasmTrainingBackend({ threads: 'all' as never })).rejects.toThrow(
        "initWasmTrainingBackend: options.threads must be an integer >= 1 or 'auto', got all",
      );
      await expect(initWasmTrainingBackend({ wasmPaths: 3 as never })).rejects.toThrow(
        'initWasmTrainingBackend: options.wasmPaths must be a string or an object',
      );
      await expect(initWasmTrainingBackend({ wasmPaths: { 'tfjs.wasm': 'x' } as never })).rejects.toThrow(
        "initWasmTrainingBackend: options.wasmPaths has an unknown binary 'tfjs.wasm'",
      );
      await expect(initWasmTrainingBackend({ thread: 2 } as never)).rejects.toThrow(
        "initWasmTrainingBackend: unknown option 'thread', did you mean 'threads'?",
      );
      await expect(initWasmTrainingBackend('fast' as never)).rejects.toThrow(
        'initWasmTrainingBackend: options must be an object',
      );
    });
  },
  { backends: ['cpu'] },
);
