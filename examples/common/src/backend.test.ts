import { describeWithBackends, tf } from '@kd/test-utils';
import { afterEach, expect, it } from 'vitest';
import { selectBackend } from './backend';

function notFound(specifier: string): Error {
  const error = new Error(`Cannot find package '${specifier}' imported from /x.js`) as NodeJS.ErrnoException;
  error.code = 'ERR_MODULE_NOT_FOUND';
  return error;
}

/** Registers a stand-in 'tensorflow' backend, as importing tfjs-node-gpu on a machine without a usable GPU does. */
function fakeTensorflowPackage(isUsingGpuDevice: boolean): () => Promise<unknown> {
  return async () => {
    const CpuBackend = tf.findBackend('cpu')?.constructor as new () => tf.KernelBackend;
    tf.registerBackend('tensorflow', () => Object.assign(new CpuBackend(), { isUsingGpuDevice }));
    return {};
  };
}

describeWithBackends('selectBackend', () => {
  afterEach(async () => {
    await tf.setBackend('cpu');
    if (tf.findBackend('tensorflow') !== null) tf.removeBackend('tensorflow');
  });

  it('selects the cpu backend on request', async () => {
    const messages: string[] = [];
    const selected = await selectBackend({ backend: 'cpu', log: (message) => messages.push(message) });
    expect(selected).toMatchObject({ name: 'cpu', gpu: false });
    expect(tf.getBackend()).toBe('cpu');
    expect(messages).toEqual(['backend: cpu (pure JavaScript, slow)']);
  });

  it('rejects an unknown choice, naming the valid ones', async () => {
    await expect(selectBackend({ backend: 'gpu' as 'cpu' })).rejects.toThrow(
      /selectBackend: backend must be one of auto, tensorflow, wasm, cpu; got 'gpu'/,
    );
  });

  it("fails clearly when 'tensorflow' is asked for and no tfjs-node package is installed", async () => {
    const importModule = async (specifier: string) => {
      throw notFound(specifier);
    };
    await expect(selectBackend({ backend: 'tensorflow', importModule, log: () => undefined })).rejects.toThrow(
      /needs @tensorflow\/tfjs-node-gpu .* or @tensorflow\/tfjs-node/,
    );
  });

  it('says loudly when tfjs-node-gpu loads but TensorFlow found no GPU', async () => {
    const messages: string[] = [];
    const importModule = async (specifier: string) => {
      if (specifier === '@tensorflow/tfjs-node-gpu') return fakeTensorflowPackage(false)();
      throw notFound(specifier);
    };
    const selected = await selectBackend({ backend: 'auto', importModule, log: (message) => messages.push(message) });
    expect(selected).toMatchObject({ name: 'tensorflow', provider: '@tensorflow/tfjs-node-gpu', gpu: false });
    expect(messages.join('\n')).toContain('found NO GPU device: running on the CPU');
    expect(messages.join('\n')).toContain('CUDA 11.2 and cuDNN 8.1');
  });

  it('reports a GPU when TensorFlow uses one, without the warning', async () => {
    const messages: string[] = [];
    const importModule = async (specifier: string) => {
      if (specifier === '@tensorflow/tfjs-node-gpu') return fakeTensorflowPackage(true)();
      throw notFound(specifier);
    };
    const selected = await selectBackend({
      backend: 'tensorflow',
      importModule,
      log: (message) => messages.push(message),
    });
    expect(selected.gpu).toBe(true);
    expect(messages).toEqual(['backend: tensorflow (@tensorflow/tfjs-node-gpu, GPU)']);
  });

  it('reports an installed but broken tfjs-node instead of hiding it', async () => {
    const messages: string[] = [];
    const importModule = async (specifier: string) => {
      if (specifier === '@tensorflow/tfjs-node') throw new Error('libtensorflow.so.2: cannot open shared object file');
      throw notFound(specifier);
    };
    await expect(
      selectBackend({ backend: 'tensorflow', importModule, log: (message) => messages.push(message) }),
    ).rejects.toThrow(/neither could be loaded/);
    expect(messages).toEqual([
      'selectBackend: @tensorflow/tfjs-node is installed but failed to load: libtensorflow.so.2: cannot open shared object file',
    ]);
  });
});
