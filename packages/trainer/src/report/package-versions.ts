/**
 * The versions of the packages a run actually executes, read when the run starts from the package.json files
 * Node resolves (not the ones @kd/trainer was built against): a run record then says which installed copies of
 * @kd/* produced it, even when an app pins an older or newer @kd/losses than the trainer was tested with.
 */

/** What is recorded for a package whose version cannot be read (a browser bundle has no package.json). */
export const UNKNOWN_VERSION = 'unknown';

/** The Node built-ins the lookup needs, injectable so a test can play a browser (no built-ins). */
export interface NodeBuiltins {
  createRequire(from: string): { resolve(id: string): string };
  readFileSync(path: string, encoding: 'utf8'): string;
  dirname(path: string): string;
  join(...parts: string[]): string;
}

/**
 * Node's built-ins through `process.getBuiltinModule` (Node ≥ 20.16): no import statement, so a browser bundle
 * of the trainer pulls in nothing from Node; undefined in a browser (and on older Node, which records
 * {@link UNKNOWN_VERSION}).
 */
export function nodeBuiltins(): NodeBuiltins | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const load = proc?.getBuiltinModule;
  if (typeof load !== 'function') return undefined;
  const moduleApi = load.call(proc, 'node:module') as { createRequire?: NodeBuiltins['createRequire'] } | undefined;
  const fs = load.call(proc, 'node:fs') as { readFileSync?: NodeBuiltins['readFileSync'] } | undefined;
  const path = load.call(proc, 'node:path') as Pick<NodeBuiltins, 'dirname' | 'join'> | undefined;
  if (moduleApi?.createRequire === undefined || fs?.readFileSync === undefined || path === undefined) return undefined;
  const { createRequire } = moduleApi;
  return { createRequire, readFileSync: fs.readFileSync, dirname: path.dirname, join: path.join };
}

interface PackageJson {
  name?: unknown;
  version?: unknown;
  dependencies?: unknown;
}

/** The package.json of `name` as resolved from `from` (a file path or URL), or undefined. */
function resolvePackageJson(
  name: string,
  from: string,
  node: NodeBuiltins,
): { path: string; json: PackageJson } | undefined {
  const requireFrom = node.createRequire(from);
  const read = (path: string): PackageJson => JSON.parse(node.readFileSync(path, 'utf8')) as PackageJson;
  try {
    const path = requireFrom.resolve(`${name}/package.json`);
    return { path, json: read(path) };
  } catch {
    // Not exported (an `exports` map without "./package.json"): walk up from the resolved entry point.
  }
  let directory: string;
  try {
    directory = node.dirname(requireFrom.resolve(name));
  } catch {
    return undefined;
  }
  for (;;) {
    const path = node.join(directory, 'package.json');
    try {
      const json = read(path);
      if (json.name === name) return { path, json };
    } catch {
      // no package.json here: keep walking up
    }
    const parent = node.dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

/**
 * The installed version of `name` as Node resolves it from `from` (a file path or `file:` URL): its
 * package.json's `version`, or {@link UNKNOWN_VERSION} when it cannot be resolved or read, or without Node's
 * built-ins (`node`, default {@link nodeBuiltins}()).
 */
export function installedVersion(options: { name: string; from: string; node?: NodeBuiltins | undefined }): string {
  const { name, from } = options;
  const node = 'node' in options ? options.node : nodeBuiltins();
  if (node === undefined) return UNKNOWN_VERSION;
  try {
    const version = resolvePackageJson(name, from, node)?.json.version;
    return typeof version === 'string' ? version : UNKNOWN_VERSION;
  } catch {
    return UNKNOWN_VERSION;
  }
}

/**
 * `self` (a package name) and every `@kd/*` package it depends on at run time, each with the version installed
 * where `self` resolves it from `from`; `fallback` lists the names to report as {@link UNKNOWN_VERSION} when
 * `self`'s package.json cannot be read (in a browser).
 */
export function installedKdVersions(options: {
  self: string;
  from: string;
  fallback: readonly string[];
  node?: NodeBuiltins | undefined;
}): Record<string, string> {
  const { self, from, fallback } = options;
  const node = 'node' in options ? options.node : nodeBuiltins();
  const unknown = Object.fromEntries(fallback.map((name) => [name, UNKNOWN_VERSION]));
  if (node === undefined) return unknown;
  let own: { path: string; json: PackageJson } | undefined;
  try {
    own = resolvePackageJson(self, from, node);
  } catch {
    own = undefined;
  }
  if (own === undefined) return unknown;
  const dependencies = own.json.dependencies;
  const names = Object.keys(dependencies !== null && typeof dependencies === 'object' ? dependencies : {})
    .filter((name) => name.startsWith('@kd/'))
    .sort();
  const versions: Record<string, string> = {
    [self]: typeof own.json.version === 'string' ? own.json.version : UNKNOWN_VERSION,
  };
  // Resolved from self's own package.json: the copies self imports, wherever the app's copies live.
  for (const name of names) versions[name] = installedVersion({ name, from: own.path, node });
  return versions;
}
