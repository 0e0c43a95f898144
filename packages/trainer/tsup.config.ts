import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

export default defineConfig(
  packageBuild({
    entry: ['src/index.ts', 'src/node.ts'],
    // Sibling package.json files are inlined (their version goes into run records).
    bundle: [/^@kd\/[^/]+\/package\.json$/],
  }),
);
