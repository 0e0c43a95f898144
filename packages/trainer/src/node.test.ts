import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { directoryStore } from './node';

describe('directoryStore', () => {
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
});
