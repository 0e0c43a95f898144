import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// Two entries: the browser-safe core and the Node-only part (fs, downloads, worker threads).
export default defineConfig(packageBuild({ entry: { index: 'src/index.ts', node: 'src/node/index.ts' } }));
