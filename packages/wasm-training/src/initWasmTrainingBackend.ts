/**
 * One call that makes the wasm backend ready to train: thread count, binary location, the training kernels,
 * `tf.setBackend('wasm')`.
 */
import { assertKnownOptions } from '@kd/internal';
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { isNode, nodeLogicalCores, startNodeWasmBackend, type WasmBinaryName } from './nodeWasmLoader';
import { registerWasmTrainingKernels, type WasmTrainingKernelName } from './register';

export interface InitWasmTrainingBackendOptions {
  /**
   * XNNPACK threads: an integer from 1 to the number of logical cores, or `'auto'` for all of them. Fixed
   * once the backend runs. More than one thread runs tfjs-backend-wasm's threaded SIMD binary: in Node
   * always (this package loads it there, which the stock loader cannot); in a browser only when the page
   * is cross-origin isolated (COOP/COEP headers), else this is an error. Asking for more threads than
   * logical cores is an error (use `'auto'`). Default: 1 in Node; tfjs's own choice in browsers (half the
   * cores when the page is cross-origin isolated, else 1).
   */
  threads?: number | 'auto';
  /**
   * Where the `.wasm` binaries are, passed to `setWasmPaths`: a directory prefix (ending in `/`) or a map
   * from each binary name to its URL (in Node: file path). Default: next to tfjs-backend-wasm's script in
   * browsers, the package's `dist/` in Node. See the README for the one line a Vite or webpack build needs.
   */
  wasmPaths?: string | Partial<Record<WasmBinaryName, string>>;
}

export interface WasmTrainingBackendInfo {
  /** Always `'wasm'`: the backend now active. */
  backend: 'wasm';
  /** XNNPACK threads actually running, as the binary reports them. */
  threads: number;
  /** The thread count asked for (`'auto'` resolved to the core count), when one was. */
  requestedThreads: number | undefined;
  /** Logical cores of this machine (`os.availableParallelism()` in Node, `navigator.hardwareConcurrency` in browsers). */
  logicalCores: number;
  /** Whether the SIMD binary runs. */
  simd: boolean;
  /** Whether the threaded binary runs. */
  multithreading: boolean;
  /** The training kernels registered. */
  kernels: WasmTrainingKernelName[];
}

const WASM_BINARY_NAMES: readonly WasmBinaryName[] = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];

function logicalCores(fn: string): number {
  if (isNode()) return nodeLogicalCores(fn);
  const reported = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof reported === 'number' && Number.isInteger(reported) && reported >= 1 ? reported : 1;
}

/** Threads of the running wasm backend, read from the binary itself (tfjs's own getter is per module copy). */
function runningThreads(): number | undefined {
  const backend = tf.findBackend('wasm') as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } } | null;
  const count = backend?.wasm?.tfjs?.getThreadsCount?.();
  return typeof count === 'number' ? count : undefined;
}

/**
 * Starts tfjs's own loader in a browser. tfjs caps the pool at half of `navigator.hardwareConcurrency`; while
 * the binary starts, the property reports twice the count asked for so that exactly that many threads run
 * (restored right after). The `.wasm` URLs fetched are recorded so that a failure can name them.
 */
async function startInBrowser(fn: string, threads: number | undefined): Promise<void> {
  const scope = globalThis as { navigator?: object; fetch?: typeof fetch };
  const requested: string[] = [];
  const originalFetch = scope.fetch;
  if (originalFetch !== undefined) {
    scope.fetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (url.includes('.wasm')) requested.push(url);
      return originalFetch(input, init);
    }) as typeof fetch;
  }
  const navigator = scope.navigator;
  const lift = threads !== undefined && threads > 1 && navigator !== undefined;
  if (lift) Object.defineProperty(navigator, 'hardwareConcurrency', { configurable: true, get: () => 2 * threads });
  let started = false;
  try {
    started = await tf.setBackend('wasm');
  } finally {
    if (lift) delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
    if (originalFetch !== undefined) scope.fetch = originalFetch;
  }
  if (!started) {
    const tried = requested.length > 0 ? requested.join(', ') : 'none fetched';
    throw new Error(
      `${fn}: the wasm backend failed to initialise; .wasm URLs tried: ${tried}. Serve tfjs-backend-wasm's ` +
        `dist/*.wasm files and pass their location, e.g. initWasmTrainingBackend({ wasmPaths: '/wasm/' }) ` +
        `(a directory holding tfjs-backend-wasm.wasm, tfjs-backend-wasm-simd.wasm and ` +
        `tfjs-backend-wasm-threaded-simd.wasm), or a map from each name to its URL`,
    );
  }
}

/**
 * Initialises `@tensorflow/tfjs-backend-wasm` for training: sets the thread count and binary paths (before
 * the backend starts, as tfjs requires), registers the training kernels
 * ({@link registerWasmTrainingKernels}), makes `wasm` the active backend and reports what runs. In Node,
 * `threads > 1` runs the threaded XNNPACK binary that ships inside tfjs-backend-wasm (its worker script is
 * written once to the temporary directory). Calling it again is fine; asking for a different thread count
 * once the backend runs is an error.
 *
 * @example
 * import '@tensorflow/tfjs'; // gradients
 * const info = await initWasmTrainingBackend({ threads: 'auto' });
 * console.log(`${info.backend}: ${info.threads} thread(s) of ${info.logicalCores} cores, SIMD ${info.simd}`);
 */
export async function initWasmTrainingBackend(
  options: InitWasmTrainingBackendOptions = {},
): Promise<WasmTrainingBackendInfo> {
  const fn = 'initWasmTrainingBackend';
  assertKnownOptions(fn, options, ['threads', 'wasmPaths']);
  const { threads: threadsOption, wasmPaths } = options;
  if (
    threadsOption !== undefined &&
    threadsOption !== 'auto' &&
    !(typeof threadsOption === 'number' && Number.isInteger(threadsOption) && threadsOption >= 1)
  ) {
    throw new Error(`${fn}: options.threads must be an integer >= 1 or 'auto', got ${String(threadsOption)}`);
  }
  if (wasmPaths !== undefined && typeof wasmPaths !== 'string') {
    if (wasmPaths === null || typeof wasmPaths !== 'object' || Array.isArray(wasmPaths)) {
      throw new Error(`${fn}: options.wasmPaths must be a string or an object, got ${String(wasmPaths)}`);
    }
    for (const [name, path] of Object.entries(wasmPaths)) {
      if (!(WASM_BINARY_NAMES as readonly string[]).includes(name)) {
        throw new Error(
          `${fn}: options.wasmPaths has an unknown binary '${name}', known: ${WASM_BINARY_NAMES.join(', ')}`,
        );
      }
      if (typeof path !== 'string')
        throw new Error(`${fn}: options.wasmPaths['${name}'] must be a string, got ${String(path)}`);
    }
  }
  const cores = logicalCores(fn);
  const threads = threadsOption === 'auto' ? cores : threadsOption;
  if (threads !== undefined && threads > cores) {
    throw new Error(
      `${fn}: options.threads (${threads}) exceeds the ${cores} logical core(s) here; ask for at most ${cores}, or 'auto'`,
    );
  }
  const running = runningThreads();
  if (running !== undefined) {
    if (threads !== undefined && threads !== running) {
      throw new Error(
        `${fn}: options.threads (${threads}) must be set before the wasm backend initialises; it already runs ` +
          `${running} thread(s)`,
      );
    }
  }
  const kernels = registerWasmTrainingKernels();
  if (running === undefined) {
    if (isNode()) {
      const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      await startNodeWasmBackend(fn, { threads: threads ?? 1, simd, wasmPaths });
      if (!(await tf.setBackend('wasm'))) throw new Error(`${fn}: the wasm backend failed to initialise`);
    } else {
      if (threads !== undefined && threads > 1) {
        const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
        if (!isolated || !(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))) {
          throw new Error(
            `${fn}: options.threads (${threads}) needs the threaded wasm binary, which browsers load only on ` +
              `cross-origin isolated pages: serve the page with 'Cross-Origin-Opener-Policy: same-origin' and ` +
              `'Cross-Origin-Embedder-Policy: require-corp' (or ask for 1 thread)`,
          );
        }
      }
      if (wasmPaths !== undefined) setWasmPaths(wasmPaths);
      if (threads !== undefined) setThreadsCount(threads);
      await startInBrowser(fn, threads);
    }
  } else if (!(await tf.setBackend('wasm'))) {
    throw new Error(`${fn}: the wasm backend failed to initialise`);
  }
  await tf.ready();
  const actual = runningThreads();
  if (actual === undefined) throw new Error(`${fn}: the wasm backend runs but reports no thread count`);
  if (threads !== undefined && actual !== threads) {
    throw new Error(`${fn}: asked for ${threads} thread(s), the wasm backend runs ${actual}`);
  }
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const multithreading = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  return {
    backend: 'wasm',
    threads: actual,
    requestedThreads: threads,
    logicalCores: cores,
    simd,
    multithreading,
    kernels,
  };
}
