/**
 * Fresh consumer projects outside the repository: the published packages packed as a user gets them, installed
 * with npm (all tarballs and one tfjs 4.x version) or with exactly a README's install line (pnpm, whose strict
 * layout lets a program import only what that line installs).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageOfSpec } from './readme';

export const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');
const require = createRequire(import.meta.url);

/** The tfjs packages a project pins to the version under test. */
const TFJS_PACKAGES = [
  'tfjs',
  'tfjs-core',
  'tfjs-layers',
  'tfjs-converter',
  'tfjs-data',
  'tfjs-backend-cpu',
  'tfjs-backend-webgl',
  'tfjs-backend-wasm',
].map((name) => `@tensorflow/${name}`);

export interface PublishedPackage {
  name: string;
  directory: string;
  manifest: {
    name: string;
    version: string;
    exports?: Record<string, unknown>;
    peerDependencies?: Record<string, string>;
  };
}

/** Every package of packages/ that is not private: what npm users install. */
export function publishedPackages(): PublishedPackage[] {
  const root = join(repoRoot, 'packages');
  return readdirSync(root)
    .map((folder) => join(root, folder))
    .flatMap((directory) => {
      let manifest: PublishedPackage['manifest'] & { private?: boolean };
      try {
        manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
      } catch {
        return [];
      }
      return manifest.private === true ? [] : [{ name: manifest.name, directory, manifest }];
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every import path of the packages (`@kd/models`, `@kd/models/node`), from their `exports`. */
export function entryPoints(packages: PublishedPackage[]): string[] {
  return packages.flatMap(({ name, manifest }) =>
    Object.keys(manifest.exports ?? { '.': null })
      .filter((key) => !key.endsWith('.json'))
      .map((key) => (key === '.' ? name : `${name}/${key.slice(2)}`)),
  );
}

/**
 * The lowest `@tensorflow/tfjs-core` every package accepts: the highest floor of their peer ranges (`^4.6.0` or
 * `>=4.6.0 <5`).
 */
export function lowestSupportedTfjs(packages: PublishedPackage[]): string {
  const floors = packages.flatMap(({ name, manifest }) => {
    const range = manifest.peerDependencies?.['@tensorflow/tfjs-core'];
    if (range === undefined) return [];
    const floor = /^(?:\^|>=\s*)(\d+)\.(\d+)\.(\d+)/.exec(range.trim());
    if (floor === null) throw new Error(`${name}: cannot read the floor of the tfjs-core peer range ${range}`);
    return [floor.slice(1, 4).map(Number) as [number, number, number]];
  });
  if (floors.length === 0) throw new Error('no published package has a @tensorflow/tfjs-core peer range');
  floors.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  return floors.at(-1)!.join('.');
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command; rejects with its output when it fails or passes `timeoutMs`. */
export function run(command: string, args: string[], options: { cwd: string; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise({ stdout, stderr });
      else {
        const why = signal === null ? `exit code ${code}` : `signal ${signal} (timeout?)`;
        reject(new Error(`${command} ${args.join(' ')} (in ${options.cwd}) failed: ${why}\n${stdout}\n${stderr}`));
      }
    });
  });
}

/** pnpm: the one running this test (`pnpm test`), else the repository's pinned version through npx. */
function pnpm(args: string[]): [string, string[]] {
  const execPath = process.env.npm_execpath;
  if (execPath !== undefined && /pnpm/.test(execPath)) return [process.execPath, [execPath, ...args]];
  return ['npx', ['--yes', 'pnpm@10.34.9', ...args]];
}

/** Runs `pnpm pack` in every package (two at a time); returns the tarball of each package name. */
export async function packAll(packages: PublishedPackage[], destination: string): Promise<Map<string, string>> {
  const queue = limited<void>(2);
  const [command, args] = pnpm(['pack', '--pack-destination', destination]);
  const pack = (directory: string) => queue(async () => void (await run(command, args, { cwd: directory })));
  await Promise.all(packages.map(({ directory }) => pack(directory)));
  const tarball = (name: string, version: string) => `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
  return new Map(packages.map(({ name, manifest }) => [name, join(destination, tarball(name, manifest.version))]));
}

/** The newest 4.x of tfjs-core on the registry (what `npm i @tensorflow/tfjs@4` installs today). */
export async function latestTfjs4(cwd: string): Promise<string> {
  const { stdout } = await run('npm', ['view', '@tensorflow/tfjs-core@^4', 'version', '--json'], { cwd });
  const listed = JSON.parse(stdout) as string | string[];
  const versions = (Array.isArray(listed) ? listed : [listed]).map((version) => version.split('.').map(Number));
  versions.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!);
  return versions.at(-1)!.join('.');
}

export function makeProjectDirectory(parent: string, name: string): string {
  const directory = join(parent, name);
  mkdirSync(directory, { recursive: true });
  const manifest = { name, private: true, type: 'module' };
  writeFileSync(join(directory, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return directory;
}

const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/**
 * A fresh npm project with every tarball and the tfjs packages they name at `version`, as in an app on that tfjs.
 * (Named, because npm installs a missing peer such as tfjs-layers at its newest version, which then conflicts with
 * the exact version `@tensorflow/tfjs` pins.)
 */
export async function npmProject(parent: string, version: string, tarballs: Map<string, string>): Promise<string> {
  const directory = makeProjectDirectory(parent, `npm-tfjs-${version}`);
  const names = ['tfjs', 'tfjs-core', 'tfjs-layers', 'tfjs-converter', 'tfjs-backend-wasm'];
  const tfjs = names.map((name) => `@tensorflow/${name}@${version}`);
  await run('npm', ['install', ...NPM_FLAGS, ...tarballs.values(), ...tfjs], { cwd: directory });
  return directory;
}

/**
 * A fresh pnpm project with exactly the packages of a README's install line: `@kd/*` from the tarballs (their
 * dependencies on each other too), tfjs at `version`, anything else as written.
 */
export async function readmeProject(
  parent: string,
  name: string,
  specs: string[],
  version: string,
  tarballs: Map<string, string>,
): Promise<string> {
  const directory = makeProjectDirectory(parent, name);
  const pinned = (spec: string): [string, string] => {
    const pkg = packageOfSpec(spec);
    const tarball = tarballs.get(pkg);
    if (tarball !== undefined) return [pkg, `file:${tarball}`];
    if (TFJS_PACKAGES.includes(pkg)) return [pkg, version];
    return [pkg, spec.length > pkg.length ? spec.slice(pkg.length + 1) : 'latest'];
  };
  const overrides = Object.fromEntries([
    ...[...tarballs].map(([pkg, tarball]) => [pkg, `file:${tarball}`]),
    ...TFJS_PACKAGES.map((pkg) => [pkg, version]),
  ]);
  const dependencies = Object.fromEntries(specs.map(pinned));
  const manifest = { name, private: true, type: 'module', dependencies, pnpm: { overrides } };
  writeFileSync(join(directory, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // No lockfile: CI=true would otherwise make pnpm insist on a frozen one.
  const [command, args] = pnpm(['install', '--prefer-offline', '--no-frozen-lockfile', '--reporter=append-only']);
  await run(command, args, { cwd: directory });
  return directory;
}

/** Runs a TypeScript or JavaScript file with tsx (types stripped, ESM) in its project. */
export function runScript(directory: string, file: string): Promise<RunResult> {
  return run(process.execPath, [require.resolve('tsx/cli'), file], { cwd: directory, timeoutMs: 180_000 });
}

/** `tsc --noEmit` over files of a project under a module resolution mode. */
export function typecheck(
  directory: string,
  files: string[],
  moduleResolution: 'node10' | 'nodenext' | 'bundler',
): Promise<RunResult> {
  const module = { node10: 'commonjs', nodenext: 'nodenext', bundler: 'esnext' }[moduleResolution];
  const flags = ['--noEmit', '--strict', '--target', 'es2022', '--lib', 'es2022,dom', '--skipLibCheck'];
  const tsc = require.resolve('typescript/bin/tsc');
  return run(process.execPath, [tsc, ...flags, '--moduleResolution', moduleResolution, '--module', module, ...files], {
    cwd: directory,
  });
}

/** A temporary folder for one run of the test. */
export function scratchDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'kd-packaging-'));
}

/** Runs `tasks` with at most `limit` at a time; each result is the task's promise. */
export function limited<T>(limit: number): (task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return (task) =>
    new Promise<T>((resolvePromise, reject) => {
      const start = () => {
        active++;
        task()
          .then(resolvePromise, reject)
          .finally(() => {
            active--;
            queue.shift()?.();
          });
      };
      if (active < limit) start();
      else queue.push(start);
    });
}
