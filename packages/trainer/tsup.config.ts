import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // Sibling package.json files are inlined (their version goes into run records) and the private @kd/internal
  // is bundled; the published packages stay external.
  external: [/^@tensorflow\//, /^@kd\/[^/]+$/, /^node:/],
  noExternal: ['@kd/internal', /^@kd\/[^/]+\/package\.json$/],
});
