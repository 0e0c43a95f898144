import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWithBackends, expectThrowsWith } from '@kd/test-utils';
import { encodeTar } from './__fixtures__/archives';
import { safeRelativePath } from './archive-paths';
import { readTar } from './tar';

const payload = Uint8Array.from({ length: 1300 }, (_, i) => (i * 7) % 256);
const longName = `cifar-10-batches-bin/${'x'.repeat(120)}.bin`;
const archive = encodeTar([
  { name: 'cifar-10-batches-bin/', type: 'directory' },
  { name: 'cifar-10-batches-bin/data_batch_1.bin', bytes: payload },
  { name: 'cifar-10-batches-bin/empty.txt', bytes: new Uint8Array(0) },
  { name: longName, bytes: Uint8Array.of(1, 2, 3) },
]);

function hasSystemTar(): boolean {
  try {
    execFileSync('tar', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describeWithBackends('readTar', () => {
  it('reads files byte-exactly, skips directories, understands GNU long names', () => {
    const files = readTar({ bytes: archive, archiveName: 'a.tar' });
    expect(files.map((f) => f.name)).toEqual([
      'cifar-10-batches-bin/data_batch_1.bin',
      'cifar-10-batches-bin/empty.txt',
      longName,
    ]);
    expect([...files[0]!.bytes]).toEqual([...payload]);
    expect(files[1]!.bytes.length).toBe(0);
  });

  it.skipIf(!hasSystemTar())('reads an archive written by the system tar', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kd-tar-'));
    try {
      mkdirSync(join(dir, 'stl10_binary'));
      writeFileSync(join(dir, 'stl10_binary', 'train_y.bin'), payload);
      execFileSync('tar', ['cf', join(dir, 'out.tar'), '-C', dir, 'stl10_binary']);
      const files = readTar({ bytes: new Uint8Array(readFileSync(join(dir, 'out.tar'))), archiveName: 'out.tar' });
      expect(files.map((f) => f.name)).toEqual(['stl10_binary/train_y.bin']);
      expect([...files[0]!.bytes]).toEqual([...payload]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports truncation and corruption, naming the archive', () => {
    expectThrowsWith(
      () => readTar({ bytes: archive.subarray(0, 1200), archiveName: 'a.tar' }),
      'a.tar',
      'truncated',
      'data_batch_1.bin',
    );
    expectThrowsWith(
      () => readTar({ bytes: archive.subarray(0, archive.length - 1024), archiveName: 'a.tar' }),
      'a.tar',
      'truncated',
      'end-of-archive',
    );
    expectThrowsWith(() => readTar({ bytes: archive.subarray(0, 700), archiveName: 'a.tar' }), 'a.tar', 'truncated');
    const corrupt = archive.slice();
    corrupt[520] = corrupt[520]! ^ 0x55; // inside the second header's name
    expectThrowsWith(() => readTar({ bytes: corrupt, archiveName: 'a.tar' }), 'a.tar', 'checksum mismatch');
    expectThrowsWith(
      () => readTar({ bytes: new TextEncoder().encode('hello'.repeat(200)), archiveName: 'b.tar' }),
      'b.tar',
      'checksum',
    );
    const withLink = encodeTar([{ name: 'evil', type: 'symlink', linkName: '/etc/passwd' }]);
    expectThrowsWith(() => readTar({ bytes: withLink, archiveName: 'c.tar' }), 'c.tar', 'evil', 'link');
  });
});

describeWithBackends('safeRelativePath', () => {
  it('normalises harmless names and rejects escapes', () => {
    expect(safeRelativePath({ name: './a/./b/../c.bin', archiveName: 'x' })).toBe('a/c.bin');
    expectThrowsWith(
      () => safeRelativePath({ name: '/etc/passwd', archiveName: 'x.tar' }),
      'x.tar',
      '/etc/passwd',
      'absolute',
    );
    expectThrowsWith(() => safeRelativePath({ name: 'C:\\windows', archiveName: 'x.zip' }), 'x.zip', 'absolute');
    expectThrowsWith(() => safeRelativePath({ name: 'a/../../b', archiveName: 'x.tar' }), 'x.tar', "'..'");
    expectThrowsWith(() => safeRelativePath({ name: '..\\b', archiveName: 'x.zip' }), 'x.zip', "'..'");
  });
});
