import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithBackends } from '@kd/test-utils';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  TEMPORARY_FILE_PATTERN,
  commitFileSync,
  temporaryPathFor,
  writeFileAtomic,
  writeFileAtomicSync,
} from './atomic-write';

describeWithBackends('atomic file writes', () => {
  let directory = '';
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'kd-atomic-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('names temp files name.tmp-<pid>-<8 hex digits> beside the target', () => {
    const path = temporaryPathFor(join(directory, 'run.json'));
    expect(path.startsWith(join(directory, `run.json.tmp-${process.pid}-`))).toBe(true);
    expect(TEMPORARY_FILE_PATTERN.exec(path)?.[1]).toBe(String(process.pid));
    expect(temporaryPathFor(path)).not.toBe(temporaryPathFor(path));
  });

  it('replaces the file with text, bytes or chunks and leaves no temp file (sync)', () => {
    const path = join(directory, 'data.bin');
    writeFileSync(path, 'old');
    writeFileAtomicSync(path, 'héllo');
    expect(readFileSync(path, 'utf8')).toBe('héllo');
    writeFileAtomicSync(path, Uint8Array.of(1, 2, 3));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    writeFileAtomicSync(path, [Uint8Array.of(4), new Uint8Array(0), Uint8Array.of(5, 6)]);
    expect([...readFileSync(path)]).toEqual([4, 5, 6]);
    expect(readdirSync(directory)).toEqual(['data.bin']);
  });

  it('replaces the file and leaves no temp file (async)', async () => {
    const path = join(directory, 'checkpoint.json');
    await writeFileAtomic(path, '{"epoch":1}');
    await writeFileAtomic(path, new TextEncoder().encode('{"epoch":2}'));
    expect(readFileSync(path, 'utf8')).toBe('{"epoch":2}');
    expect(readdirSync(directory)).toEqual(['checkpoint.json']);
  });

  it('removes its temp file and keeps the old content when the rename fails', async () => {
    // A directory in the target's place: the data is written and synced, then the rename fails (EISDIR).
    const path = join(directory, 'taken');
    mkdirSync(path);
    writeFileSync(join(path, 'inside'), 'x');
    expect(() => writeFileAtomicSync(path, 'new')).toThrow(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    await expect(writeFileAtomic(path, 'new')).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    expect(readdirSync(directory)).toEqual(['taken']);
    expect(readdirSync(path)).toEqual(['inside']);
  });

  it('fails without leaving anything when the directory does not exist', async () => {
    const path = join(directory, 'missing', 'file.txt');
    expect(() => writeFileAtomicSync(path, 'x')).toThrow(/ENOENT/);
    await expect(writeFileAtomic(path, 'x')).rejects.toThrow(/ENOENT/);
    expect(readdirSync(directory)).toEqual([]);
  });

  it('commits a streamed temp file into place', () => {
    const part = join(directory, 'archive.tar.gz.part');
    writeFileSync(part, 'payload');
    commitFileSync(part, join(directory, 'archive.tar.gz'));
    expect(readdirSync(directory)).toEqual(['archive.tar.gz']);
    expect(readFileSync(join(directory, 'archive.tar.gz'), 'utf8')).toBe('payload');
  });
});
