import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  external: [/^@tensorflow\//, /^@kd\//],
  // The private @kd/internal is bundled, never imported at run time (it is not published).
  noExternal: ['@kd/internal'],
});
