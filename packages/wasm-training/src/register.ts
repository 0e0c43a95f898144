/**
 * Registers the training kernels on the `wasm` backend, idempotently, keeping whatever they replace so that
 * {@link unregisterWasmTrainingKernels} can put it back.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { batchMatMulConfig, setStockBatchMatMul } from './kernels/batchMatMul';
import { batchNormTrainingConfig, batchNormTrainingGradConfig } from './kernels/batchNormTraining';
import { conv2DBackpropFilterConfig } from './kernels/conv2DBackpropFilter';
import { conv2DBackpropInputConfig } from './kernels/conv2DBackpropInput';
import { depthwiseConv2dNativeBackpropFilterConfig } from './kernels/depthwiseConv2dNativeBackpropFilter';
import { depthwiseConv2dNativeBackpropInputConfig } from './kernels/depthwiseConv2dNativeBackpropInput';
import { unsortedSegmentSumConfig } from './kernels/unsortedSegmentSum';

/** Names of the kernels this package provides for the wasm backend. */
export const WASM_TRAINING_KERNEL_NAMES = [
  'BatchMatMul',
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
  // Called by @kd/models' batch norm in training mode when the backend has them.
  'KdBatchNormTraining',
  'KdBatchNormTrainingGrad',
] as const;

export type WasmTrainingKernelName = (typeof WASM_TRAINING_KERNEL_NAMES)[number];

const CONFIGS: Record<WasmTrainingKernelName, KernelConfig> = {
  BatchMatMul: batchMatMulConfig,
  Conv2DBackpropFilter: conv2DBackpropFilterConfig,
  Conv2DBackpropInput: conv2DBackpropInputConfig,
  DepthwiseConv2dNativeBackpropFilter: depthwiseConv2dNativeBackpropFilterConfig,
  DepthwiseConv2dNativeBackpropInput: depthwiseConv2dNativeBackpropInputConfig,
  UnsortedSegmentSum: unsortedSegmentSumConfig,
  KdBatchNormTraining: batchNormTrainingConfig,
  KdBatchNormTrainingGrad: batchNormTrainingGradConfig,
};

// Marks our kernel functions so that a second copy of this package (ESM and CJS both loaded) recognises them.
const MARK = Symbol.for('@kd/wasm-training/kernel');
for (const config of Object.values(CONFIGS)) {
  (config.kernelFunc as unknown as Record<symbol, boolean>)[MARK] = true;
}

/**
 * The kernels that were registered before ours, per name (undefined: none), restored on unregister. Kept on
 * the global object, like the kernel registry itself, so that every copy of this package (ESM and CJS, or a
 * test runner's per-file module instances) restores what the first one replaced.
 */
const REPLACED = Symbol.for('@kd/wasm-training/replaced');
const globalState = globalThis as unknown as Record<
  symbol,
  Map<WasmTrainingKernelName, KernelConfig | undefined> | undefined
>;
globalState[REPLACED] ??= new Map<WasmTrainingKernelName, KernelConfig | undefined>();
const replaced = globalState[REPLACED];

function isOurs(config: KernelConfig | undefined): boolean {
  return config !== undefined && (config.kernelFunc as unknown as Record<symbol, boolean>)[MARK] === true;
}

export interface RegisterWasmTrainingKernelsOptions {
  /** Which kernels to register. Default: all of {@link WASM_TRAINING_KERNEL_NAMES}. */
  kernels?: readonly WasmTrainingKernelName[];
}

/**
 * Registers, for the `wasm` backend, every kernel a training step of a conv net needs and stock
 * `@tensorflow/tfjs-backend-wasm` lacks or runs as a scalar loop: `Conv2DBackpropFilter`, a fast
 * `Conv2DBackpropInput` (replacing the stock one), `DepthwiseConv2dNativeBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropInput`, `UnsortedSegmentSum`, and a `BatchMatMul` that keeps transposed
 * products (dense and 1×1-conv gradients) on XNNPACK instead of the stock scalar loop, each composed of wasm's
 * own kernels (XNNPACK convolutions, transposes, pads, slices); plus `KdBatchNormTraining` and
 * `KdBatchNormTrainingGrad`, batch norm in training mode in two passes each over the wasm heap, which
 * `@kd/models` calls when the backend has them. No new binary. Safe to call any number of times, before or
 * after the backend initialises; `@tensorflow/tfjs-backend-wasm` must be imported first (its stock kernels
 * are what ours call).
 *
 * @returns the names of the kernels now registered by this package.
 * @example
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-wasm';
 * registerWasmTrainingKernels();
 * await tf.setBackend('wasm');
 * const grads = tf.grads((x, w) => tf.sum(tf.conv2d(x, w, 2, 'same')))([x, w]);
 */
export function registerWasmTrainingKernels(
  options: RegisterWasmTrainingKernelsOptions = {},
): WasmTrainingKernelName[] {
  const fn = 'registerWasmTrainingKernels';
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`${fn}: options must be an object, got ${Array.isArray(options) ? 'an array' : String(options)}`);
  }
  const requested: unknown = options.kernels ?? WASM_TRAINING_KERNEL_NAMES;
  if (!Array.isArray(requested)) throw new Error(`${fn}: kernels must be an array of kernel names`);
  const names = requested as WasmTrainingKernelName[];
  for (const name of names) {
    if (!(WASM_TRAINING_KERNEL_NAMES as readonly string[]).includes(name)) {
      throw new Error(`${fn}: unknown kernel '${String(name)}'; known: ${WASM_TRAINING_KERNEL_NAMES.join(', ')}`);
    }
  }
  if (tf.getKernel('Conv2D', 'wasm') === undefined) {
    throw new Error(
      `${fn}: the wasm backend's kernels are not registered; import '@tensorflow/tfjs-backend-wasm' first`,
    );
  }
  for (const name of names) {
    const existing = tf.getKernel(name, 'wasm');
    if (isOurs(existing)) continue;
    replaced.set(name, existing);
    if (name === 'BatchMatMul') {
      if (existing === undefined) throw new Error(`${fn}: the wasm backend has no BatchMatMul kernel to speed up`);
      setStockBatchMatMul(existing.kernelFunc);
    }
    if (existing !== undefined) tf.unregisterKernel(name, 'wasm');
    // The engine runs a kernel's setupFunc when the backend initialises, and stock wasm kernels bind their
    // wasm functions there (our BatchMatMul calls the stock one; a restored stock kernel needs it too), so
    // ours carries the setup of the kernel it replaces.
    tf.registerKernel({ ...CONFIGS[name], setupFunc: existing?.setupFunc });
  }
  return WASM_TRAINING_KERNEL_NAMES.filter((name) => isOurs(tf.getKernel(name, 'wasm')));
}

/**
 * Removes the kernels {@link registerWasmTrainingKernels} registered and restores the stock ones they replaced
 * (wasm's own `Conv2DBackpropInput` and `BatchMatMul`). Safe to call when nothing is registered.
 */
export function unregisterWasmTrainingKernels(): void {
  for (const name of WASM_TRAINING_KERNEL_NAMES) {
    if (!isOurs(tf.getKernel(name, 'wasm'))) continue;
    tf.unregisterKernel(name, 'wasm');
    const previous = replaced.get(name);
    replaced.delete(name);
    if (previous === undefined) continue;
    tf.registerKernel(previous);
    // A stock kernel binds its wasm function in setupFunc, which the engine runs only for kernels registered
    // when the backend initialises: bind it now if the backend came up while ours was registered.
    const backend = tf.findBackend('wasm');
    if (backend !== null && previous.setupFunc !== undefined) previous.setupFunc(backend);
  }
}
