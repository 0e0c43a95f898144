import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

export default defineConfig(
  packageBuild({
    entry: ['src/index.ts'],
    // import.meta.url in the CommonJS build (the Node loader resolves tfjs-backend-wasm's files from here).
    options: { shims: true },
  }),
);
