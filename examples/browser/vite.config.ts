import { defineConfig } from 'vite';

/**
 * Cross-origin isolation (COOP + COEP) on the dev and preview servers: without it browsers give no
 * SharedArrayBuffer, and tfjs-backend-wasm cannot start its threaded binary.
 */
export const crossOriginIsolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

export default defineConfig({
  // Read the sibling @kd packages from source (their `@kd/source` export condition), as tests do.
  resolve: { conditions: ['@kd/source', 'module', 'browser', 'development|production'] },
  worker: { format: 'es' },
  server: { headers: crossOriginIsolationHeaders },
  preview: { headers: crossOriginIsolationHeaders },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // Not minified: tfjs-backend-wasm starts its pthread workers from a blob holding the source text of its
    // emscripten factory, and minification renames names that text refers to ("e is not defined"), which
    // breaks the threaded binary.
    minify: false,
    // bench.html measures images/s per backend (README); index.html is the playground.
    rolldownOptions: {
      input: { playground: 'index.html', bench: 'bench.html' },
      // The worker bundle is large (tfjs); its transform times say nothing useful on every build.
      checks: { bundlerTimings: false },
    },
  },
});
