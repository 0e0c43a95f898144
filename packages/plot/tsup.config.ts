import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// Two entries: the browser-safe core and the Node-only file helpers (`@kd/plot/node`).
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/node.ts'] }));
