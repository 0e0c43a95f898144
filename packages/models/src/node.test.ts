import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithBackends } from '@kd/test-utils';
import { afterAll, expect, it } from 'vitest';
import { loadWeightsFromDirectory, saveWeightsToDirectory } from './node';
import { createModel } from './registry';

const root = mkdtempSync(join(tmpdir(), 'kd-models-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeWithBackends('saveWeightsToDirectory / loadWeightsFromDirectory', () => {
  it('writes model.json + weights.bin (no temporary files left) and loads them back exactly', async () => {
    const directory = join(root, 'nested', 'resnet8');
    const source = createModel('resnet8', { numClasses: 10, seed: 3 });
    const target = createModel('resnet8', { numClasses: 10, seed: 4 });
    await saveWeightsToDirectory(source, directory);
    expect(readdirSync(directory).sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(readFileSync(join(directory, 'model.json'), 'utf8'));
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(json.weightsManifest[0].weights[0]).toEqual({
      name: 'conv1.weight',
      shape: [3, 3, 3, 16],
      dtype: 'float32',
    });
    loadWeightsFromDirectory(target, directory);
    source.namedVariables.forEach((entry, index) => {
      expect(Array.from(target.namedVariables[index]!.variable.dataSync()), entry.name).toEqual(
        Array.from(entry.variable.dataSync()),
      );
    });
    // Saving again over the same directory replaces both files.
    await saveWeightsToDirectory(target, directory);
    expect(readdirSync(directory).sort()).toEqual(['model.json', 'weights.bin']);
    source.dispose();
    target.dispose();
  });

  it('names the file and the problem for missing, corrupt or truncated files', async () => {
    const directory = join(root, 'broken');
    const model = createModel('resnet8', { numClasses: 10, seed: 3 });
    expect(() => loadWeightsFromDirectory(model, directory)).toThrow(
      /loadWeightsFromDirectory: cannot read .*broken\/model.json/,
    );
    await saveWeightsToDirectory(model, directory);
    const weights = readFileSync(join(directory, 'weights.bin'));
    writeFileSync(join(directory, 'weights.bin'), weights.subarray(0, weights.length - 4));
    expect(() => loadWeightsFromDirectory(model, directory)).toThrow(
      /loadWeightsFromDirectory: .*broken: weight data is truncated: \d+ bytes, the weight specs need \d+/,
    );
    writeFileSync(join(directory, 'model.json'), '{"weightsManifest": [');
    expect(() => loadWeightsFromDirectory(model, directory)).toThrow(
      /loadWeightsFromDirectory: .*model.json is not valid JSON/,
    );
    writeFileSync(
      join(directory, 'model.json'),
      JSON.stringify({ weightsManifest: [{ paths: ['../x.bin'], weights: [] }] }),
    );
    expect(() => loadWeightsFromDirectory(model, directory)).toThrow(/must be relative and inside the directory/);
    model.dispose();
  });
});
