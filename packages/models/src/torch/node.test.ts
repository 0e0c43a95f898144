/**
 * The file functions: loadTorchCheckpoint reads a checkpoint file and names it in errors;
 * saveSafetensorsFile writes atomically (no temporary file left) and reads back.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithBackends } from '@kd/test-utils';
import { afterAll, expect, it } from 'vitest';
import { expectLogitsMatch, fixtureBytes, fixtureLogits, manifest } from '../../test/torch-fixtures';
import { loadTorchCheckpoint, saveSafetensorsFile } from '../node';
import { createModel } from '../registry';

const root = mkdtempSync(join(tmpdir(), 'kd-torch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeWithBackends('loadTorchCheckpoint / saveSafetensorsFile', () => {
  it('loads a legacy checkpoint file, saves it as safetensors atomically, and the file reads back', async () => {
    const path = join(root, 'resnet20.pth');
    writeFileSync(path, fixtureBytes('resnet20.legacy.pth.gz'));
    const model = createModel('resnet20', { numClasses: 10 });
    expect(loadTorchCheckpoint(model, path).format).toBe('legacy');
    const output = join(root, 'no-such-directory', 'student.safetensors');
    await expect(saveSafetensorsFile(model, output)).rejects.toThrow(
      `saveSafetensorsFile: cannot write ${output}: ENOENT`,
    );
    const target = join(root, 'student.safetensors');
    await saveSafetensorsFile(model, target);
    await saveSafetensorsFile(model, target);
    expect(
      readdirSync(root)
        .filter((name) => name.startsWith('student'))
        .sort(),
    ).toEqual(['student.safetensors']);
    const copy = createModel('resnet20', { numClasses: 10, seed: 9 });
    expect(loadTorchCheckpoint(copy, target).format).toBe('safetensors');
    expectLogitsMatch(fixtureLogits(copy), manifest.models.resnet20?.logits as number[], target);
    model.dispose();
    copy.dispose();
  });

  it('names the file in every error', async () => {
    const model = createModel('resnet20', { numClasses: 10 });
    const missing = join(root, 'nope.pth');
    expect(() => loadTorchCheckpoint(model, missing)).toThrow(`loadTorchCheckpoint: cannot read ${missing}: ENOENT`);
    const truncated = join(root, 'truncated.pth');
    writeFileSync(truncated, fixtureBytes('resnet20.zip.pth.gz').subarray(0, 1000));
    expect(() => loadTorchCheckpoint(model, truncated)).toThrow(
      `loadTorchCheckpoint: ${truncated}: truncated or corrupt zip archive: no end-of-central-directory record in 1000 bytes`,
    );
    const other = join(root, 'resnet8x4.pth');
    writeFileSync(other, fixtureBytes('resnet8x4.legacy.pth.gz'));
    expect(() => loadTorchCheckpoint(model, other)).toThrow(
      `loadTorchCheckpoint: ${other}: resnet8x4 checkpoint into resnet20: conv1.weight is [32, 3, 3, 3], the model wants [16, 3, 3, 3]`,
    );
    expect(() => loadTorchCheckpoint(model, '')).toThrow(
      'loadTorchCheckpoint: path must be a non-empty string, got ""',
    );
    await expect(saveSafetensorsFile(model, '')).rejects.toThrow(
      'saveSafetensorsFile: path must be a non-empty string, got ""',
    );
    model.dispose();
  });
});
