import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importedPackages, installProblems, packageOfSpec, parseReadme } from './readme';

// The Install and Example sections of @kd/cam's README before this test existed: pnpm could not find tfjs-core.
const OLD_CAM_README = [
  '## Install',
  '```sh',
  'npm i @kd/cam @tensorflow/tfjs',
  '```',
  '## Example',
  '```ts',
  "import '@tensorflow/tfjs';",
  "import * as tf from '@tensorflow/tfjs-core';",
  "import { eigenCam } from '@kd/cam';",
  "import { writePng } from '@kd/cam/node';",
  "import type { KdModel } from '@kd/models';",
  "import { readFileSync } from 'node:fs';",
  "import { join } from 'path';",
  '```',
  '<!-- readme-test: skip: needs a GPU -->',
  '```js',
  "const { kdLoss } = require('@kd/losses');",
  '```',
].join('\n');

describe('README snippet extraction', () => {
  const [example, skipped] = parseReadme('cam/README.md', OLD_CAM_README);

  it('finds each ts/js snippet with its line, the install line above it and its skip reason', () => {
    assert.deepEqual([example!.line, example!.language, example!.skip], [6, 'ts', undefined]);
    assert.deepEqual(example!.install, { line: 3, specs: ['@kd/cam', '@tensorflow/tfjs'] });
    assert.equal(example!.code.split('\n')[0], "import '@tensorflow/tfjs';");
    assert.deepEqual([skipped!.line, skipped!.language, skipped!.skip], [16, 'js', 'needs a GPU']);
  });

  it('lists imported packages: subpaths and type imports count, builtins do not', () => {
    const expected = ['@kd/cam', '@kd/models', '@tensorflow/tfjs', '@tensorflow/tfjs-core'];
    assert.deepEqual(importedPackages(example!.code), expected);
    assert.deepEqual(importedPackages(skipped!.code), ['@kd/losses']);
    const dynamic = 'const m = await import(\'fflate\'); export { x } from "jpeg-js/lib";';
    assert.deepEqual(importedPackages(dynamic), ['fflate', 'jpeg-js']);
  });

  it('reports every import the install line does not install, skipped snippets included', () => {
    const line = 'its install line (line 3: npm i @kd/cam @tensorflow/tfjs) does not install';
    assert.deepEqual(installProblems(example!), [
      `cam/README.md:6: imports @kd/models, which ${line}`,
      `cam/README.md:6: imports @tensorflow/tfjs-core, which ${line}`,
    ]);
    assert.deepEqual(installProblems(skipped!), [`cam/README.md:16: imports @kd/losses, which ${line}`]);
    assert.deepEqual(installProblems(parseReadme('x.md', "```ts\nimport '@kd/losses';\n```")[0]!), [
      'x.md:1: no `npm i` line above the snippet, which imports @kd/losses',
    ]);
  });

  it('reads package names from install specs with versions', () => {
    assert.deepEqual(['@kd/cam@^0.1.0', '@tensorflow/tfjs@4.22.0', 'fflate@0.8.2', 'jpeg-js'].map(packageOfSpec), [
      '@kd/cam',
      '@tensorflow/tfjs',
      'fflate',
      'jpeg-js',
    ]);
  });
});
