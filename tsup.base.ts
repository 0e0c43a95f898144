// The one tsup build of every published @kd package; each package's tsup.config.ts passes what differs:
//
//   import { defineConfig } from 'tsup';
//   import { packageBuild } from '../../tsup.base';
//   export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/node.ts'] }));
import type { Options } from 'tsup';

/** What differs between the packages' builds. */
export interface PackageBuildOptions {
  /**
   * Entry points. A list names each output after its file (`src/node.ts` → `dist/node.js`); an object names
   * them itself (`{ node: 'src/node/index.ts' }`). Every entry besides `index` is a subpath export
   * (`./node`) with a `typesVersions` line in package.json, so `moduleResolution: "node"` types it too.
   */
  entry: string[] | Record<string, string>;
  /** Modules bundled besides the private `@kd/internal` (which is never a runtime dependency). */
  bundle?: (string | RegExp)[];
  /** Any other tsup option (e.g. `shims`); it replaces the shared value. */
  options?: Options;
}

/**
 * ESM + CJS + .d.ts/.d.cts for ES2022 with source maps. tfjs, the sibling `@kd/*` packages, Node builtins and
 * the package.json dependencies stay imports (tsup keeps `dependencies` and `peerDependencies` external);
 * `@kd/internal` is bundled (`node ../internal/check-dist.mjs` in `lint` fails when dist/ still names it).
 */
export function packageBuild({ entry, bundle = [], options = {} }: PackageBuildOptions): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    external: [/^@tensorflow\//, /^@kd\//, /^node:/],
    // tsup checks noExternal before external, so these win over the `@kd/` pattern.
    noExternal: ['@kd/internal', ...bundle],
    ...options,
  };
}
