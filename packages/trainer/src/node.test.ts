import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { directoryStore } from './node';

describeWithBackends('directoryStore', () => {
  it('writes atomically (no temp file left), appends, reads and removes', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'kd-trainer-'));
    try {
      const store = directoryStore(join(directory, 'run'));
      expect(await store.read('missing.json')).toBeUndefined();
      await store.writeAtomic('a.json', '{"v":1}');
      await store.writeAtomic('a.json', '{"v":2}');
      await store.writeAtomic('b.bin', Uint8Array.of(1, 2, 3));
      await store.append('log.jsonl', 'x\n');
      await store.append('log.jsonl', 'y\n');
      expect(await readFile(join(directory, 'run', 'a.json'), 'utf8')).toBe('{"v":2}');
      expect(Array.from((await store.read('b.bin'))!)).toEqual([1, 2, 3]);
      expect(new TextDecoder().decode(await store.read('log.jsonl'))).toBe('x\ny\n');
      await store.remove('b.bin');
      await store.remove('never-existed');
      expect((await readdir(join(directory, 'run'))).sort()).toEqual(['a.json', 'log.jsonl']);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('deletes the temp files of dead processes when opened, and a failed write deletes its own', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'kd-trainer-'));
    try {
      // A pid that ran and exited: its temp files are stale. Our own pid's and a live process's are not touched.
      const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
      await writeFile(join(directory, `checkpoint-3.bin.tmp-${dead}-0a1b2c3d`), 'partial');
      await writeFile(join(directory, `run.json.tmp-${dead}-ffee0011`), '{');
      await writeFile(join(directory, `notes.tmp-${process.ppid}-00aa11bb`), 'live');
      await writeFile(join(directory, 'keep.txt'), 'user file');
      const store = directoryStore(directory);
      expect(await store.read('keep.txt')).toBeDefined();
      expect((await readdir(directory)).sort()).toEqual(['keep.txt', `notes.tmp-${process.ppid}-00aa11bb`]);
      // A write that fails after its temp file was created (here: data of the wrong type) leaves nothing.
      await expect(store.writeAtomic('bad.json', 42 as unknown as string)).rejects.toThrow(
        new RegExp(
          `^directoryStore\\.writeAtomic: cannot write ${join(directory, 'bad.json').replace(/[.]/g, '\\.')} \\(ERR_INVALID_ARG_TYPE: `,
        ),
      );
      expect((await readdir(directory)).sort()).toEqual(['keep.txt', `notes.tmp-${process.ppid}-00aa11bb`]);
      expect(await store.names!()).toEqual(['keep.txt', `notes.tmp-${process.ppid}-00aa11bb`]);
      expect(await store.names!('notes')).toEqual([`notes.tmp-${process.ppid}-00aa11bb`]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('says so when the directory is an existing file, or lies below one', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'kd-trainer-'));
    try {
      const file = join(directory, 'run');
      await writeFile(file, 'not a directory');
      expect(() => directoryStore(file)).toThrow(
        `directoryStore: ${file} exists and is not a directory; pass a directory path (or remove the file)`,
      );
      expect(() => directoryStore(join(file, 'inner'))).toThrow(
        `directoryStore: cannot use ${join(file, 'inner')} as the run directory (ENOTDIR: `,
      );
      expect(() => directoryStore('')).toThrow('directoryStore: directory must be a non-empty string, got ""');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
