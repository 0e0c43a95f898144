import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

export default defineConfig(
  packageBuild({
    entry: ['src/index.ts', 'src/node.ts'],
    // import.meta.url in the CJS build (run records resolve installed package versions from it).
    options: { shims: true },
  }),
);
