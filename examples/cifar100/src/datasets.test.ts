import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeWithBackends } from '@kd/test-utils';
import { afterAll, expect, it } from 'vitest';
import { checkDataDirectory } from './datasets';

const empty = mkdtempSync(join(tmpdir(), 'kd-cifar100-empty-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

describeWithBackends('checkDataDirectory', () => {
  it('says where to put the files and how to download them', () => {
    expect(() => checkDataDirectory('cifar100', empty, false)).toThrow(join(empty, 'cifar-100-binary', 'train.bin'));
    expect(() => checkDataDirectory('cifar100', empty, false)).toThrow(
      /pass --download to fetch and verify https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar-100-binary\.tar\.gz/,
    );
    expect(() => checkDataDirectory('cifar10', empty, false)).toThrow(
      join(empty, 'cifar-10-batches-bin', 'data_batch_1.bin'),
    );
    expect(() => checkDataDirectory('stl10', empty, false)).toThrow(join(empty, 'stl10_binary', 'train_X.bin'));
    expect(() => checkDataDirectory('cifar100', empty, true)).not.toThrow();
  });

  it('the command line prints the message and exits with status 1', () => {
    const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'kd-cifar100.mjs');
    const result = spawnSync(
      process.execPath,
      [bin, 'train-teacher', '--preset', 'tiny', '--backend', 'cpu', '--data-dir', empty],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('backend: cpu');
    expect(result.stderr).toContain(`kd-cifar100: cifar100: missing ${join(empty, 'cifar-100-binary', 'train.bin')}`);
    expect(result.stderr).toContain('--download');
  });
});
