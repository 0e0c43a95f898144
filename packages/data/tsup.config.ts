import { defineConfig } from 'tsup';

export default defineConfig({
  // Two entries: the browser-safe core and the Node-only part (fs, downloads, worker threads).
  entry: { index: 'src/index.ts', node: 'src/node/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  external: [/^@tensorflow\//, /^@kd\//, /^node:/, 'fflate', 'jpeg-js'],
  // The private @kd/internal is bundled, never imported at run time (it is not published).
  noExternal: ['@kd/internal'],
});
