import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  // import.meta.url in the CJS build (run records resolve installed package versions from it).
  shims: true,
  target: 'es2022',
  // The private @kd/internal is bundled; the published packages stay external (run records read their
  // installed versions at run time).
  external: [/^@tensorflow\//, /^@kd\/[^/]+$/, /^node:/],
  noExternal: ['@kd/internal'],
});
