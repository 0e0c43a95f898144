export {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
  WASM_TRAINING_KERNEL_NAMES,
} from './register';
export type { RegisterWasmTrainingKernelsOptions, WasmTrainingKernelName } from './register';
export { initWasmTrainingBackend } from './initWasmTrainingBackend';
export type { InitWasmTrainingBackendOptions, WasmTrainingBackendInfo } from './initWasmTrainingBackend';
