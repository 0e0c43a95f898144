import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeWithBackends } from '@kd/test-utils';
import { afterAll, expect, it } from 'vitest';
import { UNKNOWN_VERSION, installedKdVersions, installedVersion, nodeBuiltins } from './package-versions';
import { buildRunRecord } from './run-record';

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value));
}

describeWithBackends('installed package versions', () => {
  // An app's node_modules with versions no build of the trainer could have inlined.
  const root = mkdtempSync(join(tmpdir(), 'kd-versions-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const modules = join(root, 'app', 'node_modules', '@kd');
  writeJson(join(root, 'app', 'package.json'), { name: 'app', version: '0.0.1' });
  writeJson(join(modules, 'trainer', 'package.json'), {
    name: '@kd/trainer',
    version: '1.2.3',
    exports: { '.': './dist/index.js', './package.json': './package.json' },
    dependencies: { '@kd/losses': '^9.0.0', '@kd/hidden': '^4.0.0', '@kd/missing': '^1.0.0', other: '^1.0.0' },
  });
  mkdirSync(join(modules, 'trainer', 'dist'), { recursive: true });
  writeFileSync(join(modules, 'trainer', 'dist', 'index.js'), '');
  writeJson(join(modules, 'losses', 'package.json'), {
    name: '@kd/losses',
    version: '9.8.7',
    exports: { '.': './index.js', './package.json': './package.json' },
  });
  writeFileSync(join(modules, 'losses', 'index.js'), '');
  // No "./package.json" in its exports: found by walking up from the resolved entry point.
  const hiddenExports = { '.': './dist/lib/index.js' };
  writeJson(join(modules, 'hidden', 'package.json'), { name: '@kd/hidden', version: '4.5.6', exports: hiddenExports });
  writeJson(join(modules, 'hidden', 'dist', 'package.json'), { type: 'commonjs' });
  mkdirSync(join(modules, 'hidden', 'dist', 'lib'), { recursive: true });
  writeFileSync(join(modules, 'hidden', 'dist', 'lib', 'index.js'), '');
  const trainerEntry = join(modules, 'trainer', 'dist', 'index.js');

  it('reads the version of the package.json Node resolves, exported or found by walking up', () => {
    expect(installedVersion({ name: '@kd/losses', from: trainerEntry })).toBe('9.8.7');
    expect(installedVersion({ name: '@kd/hidden', from: pathToFileURL(trainerEntry).href })).toBe('4.5.6');
    expect(installedVersion({ name: '@kd/missing', from: trainerEntry })).toBe(UNKNOWN_VERSION);
  });

  it("lists the package and each of its @kd dependencies with the installed versions, 'unknown' without Node", () => {
    const fallback = ['@kd/trainer', '@kd/losses'];
    expect(installedKdVersions({ self: '@kd/trainer', from: trainerEntry, fallback })).toEqual({
      '@kd/trainer': '1.2.3',
      '@kd/hidden': '4.5.6',
      '@kd/losses': '9.8.7',
      '@kd/missing': UNKNOWN_VERSION,
    });
    // A browser: no Node built-ins, so the fallback names, each 'unknown'.
    expect(installedKdVersions({ self: '@kd/trainer', from: trainerEntry, fallback, node: undefined })).toEqual({
      '@kd/trainer': UNKNOWN_VERSION,
      '@kd/losses': UNKNOWN_VERSION,
    });
    expect(installedVersion({ name: '@kd/losses', from: trainerEntry, node: undefined })).toBe(UNKNOWN_VERSION);
  });

  it("records in run.json the versions of the workspace's package.json files and tfjs-core's running version", () => {
    expect(nodeBuiltins()).toBeDefined();
    const record = buildRunRecord({ functionName: 'trainSupervised', config: {}, seed: 0 });
    const packages = join(dirname(new URL(import.meta.url).pathname), '..', '..', '..');
    const version = (name: string) => JSON.parse(readFileSync(join(packages, name, 'package.json'), 'utf8')).version;
    const trainerJson = JSON.parse(readFileSync(join(packages, 'trainer', 'package.json'), 'utf8'));
    const kdDependencies = Object.keys(trainerJson.dependencies).filter((name) => name.startsWith('@kd/'));
    const expectedNames = ['@kd/trainer', ...kdDependencies, '@tensorflow/tfjs-core'];
    expect(Object.keys(record.packageVersions).sort()).toEqual(expectedNames.sort());
    for (const name of ['@kd/trainer', ...kdDependencies]) {
      expect(record.packageVersions[name]).toBe(version(name.slice('@kd/'.length)));
    }
    expect(record.packageVersions['@tensorflow/tfjs-core']).toBe(record.tfjsVersion);
  });
});
