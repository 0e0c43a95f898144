import { defineConfig } from 'tsup';

export default defineConfig({
  // Two entries: the browser-safe core and the Node-only file helpers (`@kd/plot/node`).
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  external: [/^@tensorflow\//, /^@kd\//, 'fflate'],
  // The private @kd/internal is bundled, never imported at run time (it is not published).
  noExternal: ['@kd/internal'],
});
