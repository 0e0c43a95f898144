/**
 * Backend choice for the examples: `auto` tries `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`,
 * then wasm with @kd/wasm-training's gradient kernels, then the pure-JS cpu backend, and says which one runs.
 * The tfjs-node packages are never dependencies of the workspace (their install script downloads
 * libtensorflow); they are loaded with a dynamic `import()` when the user installed them.
 */
import * as tf from '@tensorflow/tfjs-core';

export const backendChoices = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof backendChoices)[number];

export interface SelectedBackend {
  /** `tf.getBackend()` after selection: `tensorflow`, `wasm` or `cpu`. */
  name: string;
  /** The package that provides it. */
  provider: string;
  /** For `tensorflow`: whether TensorFlow placed ops on a GPU. */
  gpu: boolean;
  /** One line for logs and run records. */
  description: string;
}

export interface SelectBackendOptions {
  backend?: BackendChoice;
  /** wasm threads: a count or `'auto'` for every core (default: @kd/wasm-training's default, 1 in Node). */
  threads?: number | 'auto';
  /** Where messages go (default: stderr). */
  log?: (message: string) => void;
  /**
   * Module loader (default: dynamic `import()` from this package). With pnpm's isolated `node_modules`, pass
   * `(specifier) => import(specifier)` from your own entry point so a tfjs-node package installed in your
   * package is found.
   */
  importModule?: (specifier: string) => Promise<unknown>;
}

const nodeGpuPackage = '@tensorflow/tfjs-node-gpu';
const nodeCpuPackage = '@tensorflow/tfjs-node';

function isModuleNotFound(error: unknown, specifier: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && error.message.includes(specifier);
}

/** Imports a tfjs-node package; `undefined` when it is not installed, an Error when it is installed but broken. */
async function tryImport(
  specifier: string,
  importModule: (specifier: string) => Promise<unknown>,
): Promise<'loaded' | 'missing' | Error> {
  try {
    await importModule(specifier);
    return 'loaded';
  } catch (error) {
    if (isModuleNotFound(error, specifier)) return 'missing';
    return error instanceof Error ? error : new Error(String(error));
  }
}

async function useTensorflow(provider: string, log: (message: string) => void): Promise<SelectedBackend> {
  if (!(await tf.setBackend('tensorflow')))
    throw new Error(`selectBackend: ${provider} loaded but the 'tensorflow' backend did not initialise`);
  await tf.ready();
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  const gpu = backend.isUsingGpuDevice === true;
  if (provider === nodeGpuPackage && !gpu) {
    log(
      [
        '',
        '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
        `!! ${nodeGpuPackage} is installed but TensorFlow found NO GPU device: running on the CPU.`,
        '!! tfjs-node-gpu 4.22 (libtensorflow 2.9.1) needs CUDA 11.2 and cuDNN 8.1 exactly, and an NVIDIA',
        '!! driver > 450; with CUDA 12 it logs "Could not load dynamic library \'libcudart.so.11.0\'" and',
        '!! silently falls back to the CPU. Timings from this run are NOT GPU timings.',
        '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
        '',
      ].join('\n'),
    );
  }
  const description = `tensorflow (${provider}, ${gpu ? 'GPU' : 'CPU'})`;
  return { name: 'tensorflow', provider, gpu, description };
}

async function useWasm(threads: number | 'auto' | undefined): Promise<SelectedBackend> {
  await import('@tensorflow/tfjs');
  const { initWasmTrainingBackend } = await import('@kd/wasm-training');
  const info = await initWasmTrainingBackend(threads === undefined ? {} : { threads });
  return {
    name: 'wasm',
    provider: '@tensorflow/tfjs-backend-wasm + @kd/wasm-training',
    gpu: false,
    description:
      `wasm (${info.simd ? 'SIMD' : 'no SIMD'}, ${info.threads} thread${info.threads === 1 ? '' : 's'}, ` +
      `+${info.kernels.length} kernels from @kd/wasm-training)`,
  };
}

async function useCpu(): Promise<SelectedBackend> {
  await import('@tensorflow/tfjs');
  tf.env().set('PROD', true); // the cpu backend was chosen on purpose: skip its "install tfjs-node" banner
  if (!(await tf.setBackend('cpu'))) throw new Error("selectBackend: the 'cpu' backend did not initialise");
  await tf.ready();
  return {
    name: 'cpu',
    provider: '@tensorflow/tfjs-backend-cpu',
    gpu: false,
    description: 'cpu (pure JavaScript, slow)',
  };
}

/**
 * Selects and initialises the backend, logs which one runs and returns it.
 *
 * @example
 * const backend = await selectBackend({ backend: 'auto' }); // "backend: wasm (...)"
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<SelectedBackend> {
  const { backend = 'auto', threads, log = (message: string) => process.stderr.write(`${message}\n`) } = options;
  const importModule = options.importModule ?? ((specifier: string) => import(specifier));
  if (!backendChoices.includes(backend)) {
    throw new Error(`selectBackend: backend must be one of ${backendChoices.join(', ')}; got '${String(backend)}'`);
  }
  let selected: SelectedBackend | undefined;
  if (backend === 'tensorflow' || backend === 'auto') {
    for (const provider of [nodeGpuPackage, nodeCpuPackage]) {
      const outcome = await tryImport(provider, importModule);
      if (outcome === 'loaded') {
        selected = await useTensorflow(provider, log);
        break;
      }
      if (outcome instanceof Error) {
        // Installed but broken (typically libtensorflow missing): say so, never hide it.
        log(`selectBackend: ${provider} is installed but failed to load: ${outcome.message}`);
      }
    }
    if (selected === undefined && backend === 'tensorflow') {
      throw new Error(
        `selectBackend: backend 'tensorflow' needs ${nodeGpuPackage} (CUDA 11.2 + cuDNN 8.1) or ${nodeCpuPackage}; ` +
          'neither could be loaded. Install one (see the examples README) or use --backend wasm.',
      );
    }
  }
  if (selected === undefined && (backend === 'wasm' || backend === 'auto')) {
    try {
      selected = await useWasm(threads);
    } catch (error) {
      if (backend === 'wasm') throw error;
      log(
        `selectBackend: wasm backend unavailable (${error instanceof Error ? error.message : String(error)}); falling back to cpu`,
      );
    }
  }
  if (selected === undefined) selected = await useCpu();
  log(`backend: ${selected.description}`);
  return selected;
}
