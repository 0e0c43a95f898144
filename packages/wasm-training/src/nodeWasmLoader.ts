/**
 * Loads tfjs-backend-wasm's binaries in Node ourselves, so that the threaded XNNPACK binary it ships runs
 * there. The stock loader cannot: it hard-wires `WASM_HAS_MULTITHREAD_SUPPORT` to false in Node, it hands the
 * pthread workers their script as `blob:` URLs (which `worker_threads` refuses), and its C++ side caps the
 * pool at half of what `emscripten_num_logical_cores` reports. Here the worker script goes to a file, the
 * main script is the package's own glue file on disk, and the core count the binary sees is twice the
 * count asked for, so that the cap lets exactly that many threads run.
 *
 * Only the emscripten module's public configuration hooks are used (`locateFile`, `mainScriptUrlOrBlob`,
 * `instantiateWasm`) and tfjs's exported `BackendWasm` class; Node's built-ins come from
 * `process.getBuiltinModule`, so nothing here is imported in a browser bundle.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

type NodeModule = typeof import('node:module');
type NodeFs = typeof import('node:fs');
type NodePath = typeof import('node:path');
type NodeOs = typeof import('node:os');
type NodeCrypto = typeof import('node:crypto');

interface NodeProcess {
  versions?: { node?: string };
  pid?: number;
  getBuiltinModule?: (id: string) => unknown;
}

/** The Node process object, or undefined outside Node. */
function nodeProcess(): NodeProcess | undefined {
  const candidate = (globalThis as { process?: NodeProcess }).process;
  return typeof candidate?.versions?.node === 'string' ? candidate : undefined;
}

/** Whether this runs in Node (not a browser, not a web worker). */
export function isNode(): boolean {
  return nodeProcess() !== undefined;
}

interface Builtins {
  module: NodeModule;
  fs: NodeFs;
  path: NodePath;
  os: NodeOs;
  crypto: NodeCrypto;
}

function builtins(fn: string): Builtins {
  const process = nodeProcess();
  if (process === undefined) throw new Error(`${fn}: the Node loader runs only in Node`);
  if (typeof process.getBuiltinModule !== 'function') {
    throw new Error(
      `${fn}: loading the wasm backend in Node needs process.getBuiltinModule (Node >= 20.16), ` +
        `this is Node ${String(process.versions?.node)}`,
    );
  }
  const get = process.getBuiltinModule.bind(process);
  return {
    module: get('node:module') as NodeModule,
    fs: get('node:fs') as NodeFs,
    path: get('node:path') as NodePath,
    os: get('node:os') as NodeOs,
    crypto: get('node:crypto') as NodeCrypto,
  };
}

/** Logical cores of this machine, as Node reports them. */
export function nodeLogicalCores(fn: string): number {
  const { os } = builtins(fn);
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** The emscripten module of tfjs-backend-wasm, as far as this loader touches it. */
interface EmscriptenModule {
  cwrap(name: string, returnType: string | null, argumentTypes: string[]): (...args: number[]) => number;
  PThread?: { runningWorkers: { unref(): void }[] };
  tfjs?: Record<string, (...args: number[]) => number>;
}

interface EmscriptenConfig {
  locateFile(file: string, prefix: string): string;
  mainScriptUrlOrBlob?: string;
  instantiateWasm(
    imports: { env: Record<string, unknown> },
    receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
  ): Record<string, never>;
  onAbort(reason: unknown): void;
}

type EmscriptenFactory = (config: EmscriptenConfig) => Promise<EmscriptenModule>;

/** The binary names tfjs-backend-wasm ships (the keys of `setWasmPaths`'s map). */
export type WasmBinaryName =
  | 'tfjs-backend-wasm.wasm'
  | 'tfjs-backend-wasm-simd.wasm'
  | 'tfjs-backend-wasm-threaded-simd.wasm';

export interface NodeWasmLoaderOptions {
  /** XNNPACK threads; > 1 loads the threaded SIMD binary. */
  threads: number;
  /** Whether this Node's WebAssembly has SIMD (tfjs's `WASM_HAS_SIMD_SUPPORT`). */
  simd: boolean;
  /** A directory prefix or a map from binary name to file, as for `setWasmPaths`; default: the package's `dist/`. */
  wasmPaths: string | Partial<Record<WasmBinaryName, string>> | undefined;
}

/**
 * Writes the pthread worker script (embedded in tfjs-backend-wasm as a string) to a file named by its
 * content hash in the temporary directory, atomically, once per content: every process of every version
 * finds the file it needs and never a half-written one.
 */
function workerScriptFile(fn: string, { fs, path, os, crypto }: Builtins, contents: string): string {
  const digest = crypto.createHash('sha256').update(contents).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `kd-wasm-training-pthread-worker-${digest}.cjs`);
  try {
    if (fs.readFileSync(file, 'utf8') === contents) return file;
  } catch {
    // Not there yet (or unreadable): write it below.
  }
  const temporary = `${file}.tmp-${nodeProcess()?.pid ?? 0}-${crypto.randomBytes(6).toString('hex')}`;
  try {
    const descriptor = fs.openSync(temporary, 'w', 0o644);
    try {
      fs.writeFileSync(descriptor, contents);
      fs.fsyncSync(descriptor);
    } finally {
      fs.closeSync(descriptor);
    }
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw new Error(`${fn}: could not write the wasm pthread worker script to ${file}: ${(error as Error).message}`);
  }
  return file;
}

/**
 * Starts tfjs-backend-wasm's binary from the package's files with `threads` XNNPACK threads and registers
 * it as the `wasm` backend (replacing the stock factory, which must not have started yet); errors say what
 * failed, where `tf.setBackend` would only log and return false.
 */
export async function startNodeWasmBackend(fn: string, options: NodeWasmLoaderOptions): Promise<void> {
  const node = builtins(fn);
  const { threads, simd, wasmPaths } = options;
  const threaded = threads > 1;
  if (threaded && !simd)
    throw new Error(`${fn}: the threaded wasm binary needs WebAssembly SIMD, which this Node lacks`);
  const require = node.module.createRequire(import.meta.url);
  const packageDirectory = node.path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const glue = node.path.join(
    packageDirectory,
    'wasm-out',
    threaded ? 'tfjs-backend-wasm-threaded-simd.js' : 'tfjs-backend-wasm.js',
  );
  const binaryName: WasmBinaryName = threaded
    ? 'tfjs-backend-wasm-threaded-simd.wasm'
    : simd
      ? 'tfjs-backend-wasm-simd.wasm'
      : 'tfjs-backend-wasm.wasm';
  const binary =
    wasmPaths === undefined
      ? node.path.join(packageDirectory, 'dist', binaryName)
      : typeof wasmPaths === 'string'
        ? `${wasmPaths}${binaryName}`
        : wasmPaths[binaryName];
  if (binary === undefined) throw new Error(`${fn}: options.wasmPaths has no entry for '${binaryName}'`);
  const factory = require(glue) as EmscriptenFactory;
  const worker = threaded
    ? workerScriptFile(
        fn,
        node,
        // The embedded source keeps "\n" escapes as real newlines inside string literals; tfjs re-escapes
        // them the same way before making its blob.
        (
          require(node.path.join(packageDirectory, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
            wasmWorkerContents: string;
          }
        ).wasmWorkerContents.replace(/\n/g, '\\n'),
      )
    : undefined;

  {
    let bytes: Uint8Array;
    try {
      bytes = node.fs.readFileSync(binary);
    } catch (error) {
      throw new Error(`${fn}: could not read the wasm binary ${binary}: ${(error as Error).message}`);
    }
    const module = await new Promise<EmscriptenModule>((resolve, reject) => {
      const config: EmscriptenConfig = {
        locateFile: (file, prefix) =>
          file.endsWith('.worker.js') && worker !== undefined
            ? worker
            : file.endsWith('.wasm')
              ? binary
              : prefix + file,
        instantiateWasm: (imports, receive) => {
          // tfjs runs min(threads asked, cores / 2) threads: report 2 × threads so that exactly `threads` run.
          if (threaded) imports.env.emscripten_num_logical_cores = () => 2 * threads;
          WebAssembly.instantiate(bytes as BufferSource, imports as WebAssembly.Imports).then(
            ({ instance, module: compiled }) => receive(instance, compiled),
            (error: unknown) => reject(new Error(`${fn}: could not instantiate ${binary}: ${String(error)}`)),
          );
          return {};
        },
        onAbort: (reason) =>
          reject(new Error(`${fn}: the wasm module aborted while loading ${binary}: ${String(reason)}`)),
      };
      if (threaded) config.mainScriptUrlOrBlob = glue;
      factory(config).then(resolve, (error: unknown) =>
        reject(new Error(`${fn}: loading ${binary} failed: ${String(error)}`)),
      );
    });
    module.tfjs = {
      init: module.cwrap('init', null, []),
      initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: module.cwrap('get_threads_count', 'number', []),
      registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: module.cwrap('dispose_data', null, ['number']),
      dispose: module.cwrap('dispose', null, []),
    };
    setThreadsCount(threads);
    const backend = new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
    // The pool's threads wait for work forever; they must not keep the process alive once the program ends.
    for (const running of module.PThread?.runningWorkers ?? []) running.unref();
    const running = module.tfjs.getThreadsCount?.() ?? 0;
    if (running !== threads) {
      backend.dispose();
      throw new Error(`${fn}: asked for ${threads} wasm thread(s), the binary started ${running}`);
    }
    if (tf.findBackendFactory('wasm') !== null) tf.removeBackend('wasm');
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threaded);
    // The stock factory's priority, so that tf.ready() still prefers wasm over cpu when it did before.
    tf.registerBackend('wasm', () => backend, 2);
  }
}
