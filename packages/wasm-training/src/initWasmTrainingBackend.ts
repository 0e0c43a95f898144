/**
 * One call that makes the wasm backend ready to train: thread count, binary location, the training kernels,
 * `tf.setBackend('wasm')`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels, type WasmTrainingKernelName } from './register';

export interface InitWasmTrainingBackendOptions {
  /**
   * XNNPACK threads. Must be known before the backend initialises. Threads need the threaded binary, which
   * tfjs-backend-wasm loads only in browsers with cross-origin isolation (COOP/COEP headers); tfjs then caps
   * the pool at half the logical cores. In Node the stock loader always runs one thread. Default: tfjs's own
   * choice (half the logical cores where threads are available, else 1).
   */
  threads?: number;
  /**
   * Where the `.wasm` binaries are served from, passed to `setWasmPaths` (a directory prefix or a map from
   * binary name to URL). Needed in browsers when a bundler does not copy them next to the script.
   */
  wasmPaths?: string | Record<string, string>;
}

export interface WasmTrainingBackendInfo {
  /** Always `'wasm'`: the backend now active. */
  backend: 'wasm';
  /** XNNPACK threads actually running. */
  threads: number;
  /** The thread count asked for, when one was. */
  requestedThreads: number | undefined;
  /** Whether the SIMD binary runs. */
  simd: boolean;
  /** Whether the threaded binary could run here (false in Node and in browsers without cross-origin isolation). */
  multithreading: boolean;
  /** The training kernels registered. */
  kernels: WasmTrainingKernelName[];
}

/**
 * Initialises `@tensorflow/tfjs-backend-wasm` for training: sets the thread count and binary paths (before
 * the backend starts, as tfjs requires), registers the training kernels
 * ({@link registerWasmTrainingKernels}), makes `wasm` the active backend and reports what runs. Calling it
 * again is fine; asking for a different thread count once the backend runs is an error.
 *
 * @example
 * import '@tensorflow/tfjs'; // gradients
 * const info = await initWasmTrainingBackend();
 * console.log(`${info.backend}: ${info.threads} thread(s), SIMD ${info.simd}`);
 */
export async function initWasmTrainingBackend(options: InitWasmTrainingBackendOptions = {}): Promise<WasmTrainingBackendInfo> {
  const fn = 'initWasmTrainingBackend';
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`${fn}: options must be an object, got ${Array.isArray(options) ? 'an array' : String(options)}`);
  }
  const { threads, wasmPaths } = options;
  if (threads !== undefined && !(typeof threads === 'number' && Number.isInteger(threads) && threads >= 1)) {
    throw new Error(`${fn}: options.threads must be an integer >= 1, got ${String(threads)}`);
  }
  if (wasmPaths !== undefined && typeof wasmPaths !== 'string' && (wasmPaths === null || typeof wasmPaths !== 'object')) {
    throw new Error(`${fn}: options.wasmPaths must be a string or an object, got ${String(wasmPaths)}`);
  }
  const alreadyRunning = tf.findBackend('wasm') !== null;
  if (alreadyRunning) {
    if (threads !== undefined && threads !== getThreadsCount()) {
      throw new Error(
        `${fn}: options.threads (${threads}) must be set before the wasm backend initialises; it already runs ` +
          `${getThreadsCount()} thread(s)`,
      );
    }
  } else {
    if (wasmPaths !== undefined) setWasmPaths(wasmPaths);
    if (threads !== undefined) setThreadsCount(threads);
  }
  const kernels = registerWasmTrainingKernels();
  if (!(await tf.setBackend('wasm'))) {
    throw new Error(`${fn}: the wasm backend failed to initialise (see the error tfjs logged above)`);
  }
  await tf.ready();
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const multithreading = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  return { backend: 'wasm', threads: getThreadsCount(), requestedThreads: threads, simd, multithreading, kernels };
}
