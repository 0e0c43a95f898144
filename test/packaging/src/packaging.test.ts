/**
 * What a user gets from npm: every published package is packed (`pnpm pack`), installed into fresh projects
 * outside the repository at the lowest tfjs 4.x the peer ranges accept and at the newest 4.x, and used there:
 * - with npm, all tarballs together: no nested second tfjs-core, a consumer program whose results are checked
 *   against hand computations (fixtures/smoke.mjs), every entry point loading through import and require, and
 *   their types under moduleResolution node10 (typesVersions), nodenext and bundler;
 * - with pnpm (strict: only what a line installs can be imported), each README's install line alone, then every
 *   snippet under it, as written. A snippet that cannot run here says why in its README
 *   (`<!-- readme-test: skip: … -->`) and is listed as skipped; it is still checked against its install line.
 * npm and pnpm install from their caches (the registry only for what they lack). KD_PACKAGING_KEEP=1 keeps the
 * projects (the path is printed).
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  entryPoints,
  latestTfjs4,
  limited,
  lowestSupportedTfjs,
  npmProject,
  packAll,
  publishedPackages,
  readmeProject,
  repoRoot,
  runScript,
  run,
  scratchDirectory,
  typecheck,
} from './projects';
import { installProblems, parseReadme, type Snippet } from './readme';

const packages = publishedPackages();
const entries = entryPoints(packages);
const readmes = [
  'README.md',
  ...packages.map(({ directory }) => relative(repoRoot, join(directory, 'README.md'))),
].filter((path) => existsSync(join(repoRoot, path)));
const snippets = readmes.flatMap((path) => parseReadme(path, readFileSync(join(repoRoot, path), 'utf8')));
const lowest = lowestSupportedTfjs(packages);
const fixtures = join(repoRoot, 'test/packaging/fixtures');

type Label = 'lowest' | 'latest';
const LABELS: Label[] = ['lowest', 'latest'];
const versions = new Map<Label, string>([['lowest', lowest]]);
const npmProjects = new Map<Label, Promise<string>>();
const readmeProjects = new Map<string, Promise<string>>();
let scratch = '';

// READMEs with the same install line (the root README's and @kd/losses') share a project.
const installKey = (label: Label, { install }: Snippet) => `${label}: npm i ${[...install!.specs].sort().join(' ')}`;
const slug = (text: string) =>
  text
    .replace(/[^a-zA-Z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();

function prepareNpmProject(directory: string): string {
  for (const file of ['smoke.mjs', 'smoke.cjs', 'entries.mjs', 'consumer.ts']) {
    copyFileSync(join(fixtures, file), join(directory, file));
  }
  writeFileSync(join(directory, 'entries.json'), `${JSON.stringify(entries, null, 2)}\n`);
  // Every entry point's types, whatever the package: `export * as` fails to compile when one does not resolve.
  const reexports = entries.map((entry, i) => `export * as entry${i} from '${entry}';`);
  writeFileSync(join(directory, 'entries.ts'), `${reexports.join('\n')}\n`);
  return directory;
}

/** `pkg/node_modules/@tensorflow/tfjs-core` below any installed package: a second, nested tfjs-core. */
function nestedTfjsCores(directory: string): string[] {
  const root = join(directory, 'node_modules');
  const installed = readdirSync(root).flatMap((name) =>
    name.startsWith('@') ? readdirSync(join(root, name)).map((inner) => join(name, inner)) : [name],
  );
  return installed.filter((name) => existsSync(join(root, name, 'node_modules/@tensorflow/tfjs-core')));
}

before(async () => {
  scratch = scratchDirectory();
  if (process.env.KD_PACKAGING_KEEP === '1') console.log(`packaging test projects: ${scratch}`);
  versions.set('latest', await latestTfjs4(scratch));
  console.log(`tfjs-core versions under test: lowest ${lowest}, latest ${versions.get('latest')}`);
  const tarballs = await packAll(packages, join(scratch, 'tarballs'));
  const queue = limited<string>(3);
  for (const label of LABELS) {
    const version = versions.get(label)!;
    npmProjects.set(label, queue(() => npmProject(scratch, version, tarballs)).then(prepareNpmProject));
    for (const snippet of snippets) {
      if (snippet.skip !== undefined || snippet.install === undefined) continue;
      const key = installKey(label, snippet);
      if (readmeProjects.has(key)) continue;
      const name = `readme-${label}-${slug(snippet.readme)}-${snippet.install.line}`;
      readmeProjects.set(
        key,
        queue(() => readmeProject(scratch, name, snippet.install!.specs, version, tarballs)),
      );
    }
  }
  // A failed install fails the tests that use it (with npm's or pnpm's output), not the whole file.
  for (const project of [...npmProjects.values(), ...readmeProjects.values()]) project.catch(() => undefined);
});

after(() => {
  if (scratch !== '' && process.env.KD_PACKAGING_KEEP !== '1') rmSync(scratch, { recursive: true, force: true });
});

describe('README snippets import only what their install line installs', () => {
  for (const snippet of snippets) {
    it(`${snippet.readme}:${snippet.line}`, () => assert.deepEqual(installProblems(snippet), []));
  }
});

// Concurrent: a test waits for its project's install while others run.
const concurrently = { concurrency: 3 };
for (const label of LABELS)
  describe(`packed tarballs in fresh projects, tfjs-core ${label}`, concurrently, () => {
    it('npm installs every tarball beside that tfjs-core, with no second (nested) tfjs-core', async () => {
      const directory = await npmProjects.get(label)!;
      const core = JSON.parse(readFileSync(join(directory, 'node_modules/@tensorflow/tfjs-core/package.json'), 'utf8'));
      assert.equal(core.version, versions.get(label));
      assert.deepEqual(nestedTfjsCores(directory), []);
    });

    it('the consumer program gets hand-computed values (kdLoss, parameter counts, loader, Eigen-CAM, …)', async () => {
      const { stdout } = await run(process.execPath, ['smoke.mjs'], { cwd: await npmProjects.get(label)! });
      assert.ok(stdout.includes(`tfjs-core ${versions.get(label)}`), stdout);
      assert.match(stdout, /^ok: \d+ checks/m);
    });

    it(`every entry point (${entries.length}) loads with import and with require`, async () => {
      const directory = await npmProjects.get(label)!;
      assert.match((await run(process.execPath, ['entries.mjs'], { cwd: directory })).stdout, /^ok: ESM/m);
      assert.match((await run(process.execPath, ['smoke.cjs'], { cwd: directory })).stdout, /^ok: CommonJS/m);
    });

    const modes = label === 'lowest' ? (['node10', 'nodenext', 'bundler'] as const) : (['nodenext'] as const);
    for (const mode of modes) {
      it(`every entry point has types under moduleResolution ${mode}`, async () => {
        await typecheck(await npmProjects.get(label)!, ['consumer.ts', 'entries.ts'], mode);
      });
    }

    for (const snippet of snippets) {
      const name = `${snippet.readme}:${snippet.line} runs after its install line`;
      if (snippet.skip !== undefined) {
        it(name, { skip: `in its README: ${snippet.skip}` }, () => undefined);
        continue;
      }
      it(name, async () => {
        assert.deepEqual(installProblems(snippet), []);
        const directory = await readmeProjects.get(installKey(label, snippet))!;
        const file = `${slug(snippet.readme)}-${snippet.line}.${snippet.language.startsWith('j') ? 'mjs' : 'mts'}`;
        writeFileSync(join(directory, file), snippet.code);
        await runScript(directory, file);
      });
    }
  });
