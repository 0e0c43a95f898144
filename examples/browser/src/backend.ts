/**
 * Backend choice inside the worker: `auto` takes the fastest one this browser really has: WebGPU on a
 * hardware adapter, then WebGL on a hardware renderer, then wasm with @kd/wasm-training's gradient kernels
 * (threads when the page is cross-origin isolated). A software GPU (SwiftShader, llvmpipe: what headless
 * Chromium without a GPU gets) is slower than wasm on the CPU, so `auto` skips it; choose it by name to use it.
 * A backend asked for by name that does not start is an error, never a silent switch to another one.
 */
import '@tensorflow/tfjs'; // gradients, cpu and webgl
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { initWasmTrainingBackend } from '@kd/wasm-training';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendChoice } from './protocol';

export interface RunningBackend {
  backend: string;
  threads: number;
  /** What runs, for the page: adapter or renderer, SIMD, isolation. */
  detail: string;
}

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|software|basic render/i;

/** The WebGL2 renderer string, or undefined when this context has no WebGL2. */
function webglRenderer(): string | undefined {
  const canvas = typeof OffscreenCanvas === 'undefined' ? undefined : new OffscreenCanvas(1, 1);
  const gl = canvas?.getContext('webgl2') ?? undefined;
  if (gl === undefined || gl === null) return undefined;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(info === null ? gl.RENDERER : info.UNMASKED_RENDERER_WEBGL));
}

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

async function webgpuAdapter(): Promise<GpuAdapterLike | undefined> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }).gpu;
  if (gpu === undefined) return undefined;
  return (await gpu.requestAdapter().catch(() => null)) ?? undefined;
}

async function startNamed(name: 'webgpu' | 'webgl' | 'cpu', detail: string): Promise<RunningBackend> {
  if (!(await tf.setBackend(name)))
    throw new Error(`backend ${name} did not start in this browser (see the console for tfjs's error)`);
  await tf.ready();
  return { backend: name, threads: 1, detail };
}

async function startWasm(threads: number | undefined): Promise<RunningBackend> {
  const isolated = globalThis.crossOriginIsolated === true;
  const info = await initWasmTrainingBackend({
    wasmPaths: {
      'tfjs-backend-wasm.wasm': wasmPlainUrl,
      'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
    },
    // Threads need SharedArrayBuffer, i.e. a cross-origin isolated page: then one per logical core.
    threads: threads ?? (isolated ? 'auto' : 1),
  });
  return {
    backend: 'wasm',
    threads: info.threads,
    detail: `SIMD ${info.simd ? 'on' : 'off'}, threaded binary ${info.multithreading ? 'available' : 'unavailable'}, crossOriginIsolated ${isolated}`,
  };
}

/**
 * Starts the backend `choice` (see the module comment for `auto`); `wasmThreads` overrides wasm's thread count
 * (default: one per logical core on an isolated page, else 1).
 */
export async function startBackend(choice: BackendChoice, wasmThreads?: number): Promise<RunningBackend> {
  if (choice === 'wasm') return startWasm(wasmThreads);
  if (choice === 'cpu') return startNamed('cpu', 'pure JavaScript (slow for conv nets)');
  if (choice === 'webgpu') {
    const adapter = await webgpuAdapter();
    if (adapter === undefined)
      throw new Error(
        'backend webgpu: this browser offers no WebGPU adapter (navigator.gpu.requestAdapter() gave none)',
      );
    return startNamed('webgpu', `adapter ${adapter.info?.vendor ?? '?'} ${adapter.info?.architecture ?? ''}`.trim());
  }
  if (choice === 'webgl') {
    const renderer = webglRenderer();
    if (renderer === undefined)
      throw new Error('backend webgl: WebGL2 is not available in this worker (no OffscreenCanvas webgl2 context)');
    return startNamed('webgl', `renderer ${renderer}`);
  }
  const adapter = await webgpuAdapter();
  const fallback = adapter?.info?.isFallbackAdapter ?? adapter?.isFallbackAdapter ?? false;
  if (adapter !== undefined && !fallback) return startBackend('webgpu');
  const renderer = webglRenderer();
  if (renderer !== undefined && !SOFTWARE_RENDERER.test(renderer)) return startBackend('webgl');
  return startWasm(wasmThreads);
}
