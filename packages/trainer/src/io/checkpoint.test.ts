import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { readCheckpoint, writeCheckpoint } from './checkpoint';
import { MemoryStore, prefixedStore, type RunStore } from './store';
import { crc32 } from '@kd/internal';

describeWithBackends('checkpoints', () => {
  const write = async (store: RunStore, epoch: number) => {
    const a = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const b = tf.tensor1d([7, 8, 9], 'int32');
    await writeCheckpoint({
      store,
      epoch,
      step: 10 * epoch,
      tensors: new Map<string, tf.Tensor>([
        ['a', a],
        ['b', b],
      ]),
      state: { rng: [1, 2, 3, 4], note: 'x' },
    });
    tf.dispose([a, b]);
  };

  it('round-trips tensors and state, and keeps only the latest binary', async () => {
    const store = new MemoryStore();
    await write(store, 1);
    await write(store, 2);
    expect([...store.files.keys()].sort()).toEqual(['checkpoint-2.bin', 'checkpoint.json']);
    const checkpoint = (await readCheckpoint(store))!;
    expect(checkpoint.epoch).toBe(2);
    expect(checkpoint.step).toBe(20);
    expect(checkpoint.state).toEqual({ rng: [1, 2, 3, 4], note: 'x' });
    expect(Array.from(checkpoint.tensors.get('a')!.dataSync())).toEqual([1, 2, 3, 4]);
    expect(checkpoint.tensors.get('b')!.dtype).toBe('int32');
    tf.dispose([...checkpoint.tensors.values()]);
    expect(await readCheckpoint(new MemoryStore())).toBeUndefined();
  });

  it('names the file when the binary is truncated, corrupt or missing', async () => {
    const store = new MemoryStore();
    await write(store, 1);
    const bytes = store.files.get('checkpoint-1.bin')!;
    store.files.set('checkpoint-1.bin', bytes.slice(0, bytes.length - 4));
    await expect(readCheckpoint(store)).rejects.toThrow(
      'readCheckpoint: checkpoint-1.bin is truncated or corrupt: 24 bytes, expected 28',
    );
    const flipped = bytes.slice();
    flipped[0] = flipped[0]! ^ 1;
    store.files.set('checkpoint-1.bin', flipped);
    await expect(readCheckpoint(store)).rejects.toThrow('readCheckpoint: checkpoint-1.bin checksum mismatch');
    store.files.delete('checkpoint-1.bin');
    await expect(readCheckpoint(store)).rejects.toThrow(
      'readCheckpoint: checkpoint-1.bin (named by checkpoint.json) is missing',
    );
    store.files.set('checkpoint.json', new TextEncoder().encode('{"format":'));
    await expect(readCheckpoint(store)).rejects.toThrow('readCheckpoint: checkpoint.json is not valid JSON');
  });

  /** The manifest with `edit` applied and its checksum recomputed (a writer that is not @kd/trainer). */
  const resealed = (store: MemoryStore, edit: (manifest: Record<string, unknown>) => void) => {
    const { manifestCrc32: _old, ...body } = JSON.parse(store.text('checkpoint.json')!);
    edit(body);
    const manifestCrc32 = crc32(new TextEncoder().encode(JSON.stringify(body)));
    return new TextEncoder().encode(JSON.stringify({ ...body, manifestCrc32 }));
  };

  it('checksums the manifest: an edited epoch or state, any flipped bit is an error naming the file', async () => {
    const store = new MemoryStore();
    await write(store, 2);
    const good = store.files.get('checkpoint.json')!;
    const text = store.text('checkpoint.json')!;
    const edits = [
      text.replace('"epoch":2', '"epoch":3'),
      text.replace('"note":"x"', '"note":"y"'),
      text.replace('"dtype":"float32"', '"dtype":"fmoat32"'),
    ];
    for (const edited of edits) {
      expect(edited).not.toBe(text);
      store.files.set('checkpoint.json', new TextEncoder().encode(edited));
      await expect(readCheckpoint(store)).rejects.toThrow(
        /^readCheckpoint: checkpoint\.json checksum mismatch: crc32 \d+, expected \d+ \(the file was edited or damaged\)$/,
      );
    }
    // Every single-bit flip of the manifest is caught (CRC-32 detects all of them), with a message naming the file.
    let flips = 0;
    for (let index = 0; index < good.length; index++) {
      const flipped = good.slice();
      flipped[index] = flipped[index]! ^ (1 << (index % 8));
      store.files.set('checkpoint.json', flipped);
      await expect(readCheckpoint(store)).rejects.toThrow(/^readCheckpoint: checkpoint\.json /);
      flips++;
    }
    expect(flips).toBe(good.length);
    store.files.set('checkpoint.json', new TextEncoder().encode(text.replace(/,"manifestCrc32":\d+/, '')));
    await expect(readCheckpoint(store)).rejects.toThrow(
      "readCheckpoint: checkpoint.json lacks its checksum 'manifestCrc32'",
    );
    store.files.set('checkpoint.json', good);
    const loaded = (await readCheckpoint(store))!;
    expect(loaded.epoch).toBe(2);
    tf.dispose([...loaded.tensors.values()]);
  });

  it('validates the structure of a manifest whose checksum matches', async () => {
    const store = new MemoryStore();
    await write(store, 2);
    const cases: Array<[(manifest: Record<string, unknown>) => void, string]> = [
      [(m) => (m.epoch = 0), "readCheckpoint: checkpoint.json: 'epoch' must be an integer >= 1, got 0"],
      [
        (m) => (m.epoch = 3),
        'readCheckpoint: checkpoint.json: \'binary\' must be checkpoint-3.bin, got "checkpoint-2.bin"',
      ],
      [(m) => (m.step = -1), "readCheckpoint: checkpoint.json: 'step' must be an integer >= 0, got -1"],
      [(m) => (m.state = []), "readCheckpoint: checkpoint.json: 'state' must be an object"],
      [(m) => (m.specs = {}), "readCheckpoint: checkpoint.json: 'specs' and 'keys' must be arrays"],
      [
        (m) => ((m.specs as Array<Record<string, unknown>>)[0]!.dtype = 'fmoat32'),
        'readCheckpoint: checkpoint.json: specs[0] (\'a\'): dtype must be one of float32, int32, bool, got "fmoat32"',
      ],
      [
        (m) => ((m.specs as Array<Record<string, unknown>>)[1]!.shape = [2.5]),
        "readCheckpoint: checkpoint.json: specs[1] ('b'): shape must be a list of sizes, got [2.5]",
      ],
      [
        (m) => ((m.specs as Array<Record<string, unknown>>)[1]!.shape = [4]),
        "readCheckpoint: checkpoint.json: the specs describe 32 bytes, 'byteLength' says 28",
      ],
      [
        (m) => ((m.keys as string[])[1] = 'c'),
        'readCheckpoint: checkpoint.json: keys[1] "c" names no tensor of \'specs\'',
      ],
      [
        (m) => (m.version = 1),
        'readCheckpoint: checkpoint.json has version 1; this @kd/trainer reads version 2 (start the run afresh)',
      ],
      [(m) => (m.crc32 = -5), "readCheckpoint: checkpoint.json: 'crc32' must be a 32-bit unsigned integer, got -5"],
    ];
    for (const [edit, message] of cases) {
      store.files.set('checkpoint.json', resealed(store, edit));
      await expect(readCheckpoint(store)).rejects.toThrow(message);
      await write(store, 2);
    }
  });

  it('removes checkpoint binaries no manifest names after each commit', async () => {
    const store = new MemoryStore();
    store.files.set('checkpoint-9.bin', Uint8Array.of(1));
    store.files.set('prestage-0-ft-checkpoint-1.bin', Uint8Array.of(1));
    await write(store, 1);
    expect([...store.files.keys()].sort()).toEqual([
      'checkpoint-1.bin',
      'checkpoint.json',
      'prestage-0-ft-checkpoint-1.bin',
    ]);
    // Through a prefixed view only the view's own orphans go.
    store.files.set('prestage-0-ft-checkpoint-7.bin', Uint8Array.of(1));
    store.files.set('checkpoint-8.bin', Uint8Array.of(1));
    await write(prefixedStore(store, 'prestage-0-ft-'), 2);
    expect([...store.files.keys()].sort()).toEqual([
      'checkpoint-1.bin',
      'checkpoint-8.bin',
      'checkpoint.json',
      'prestage-0-ft-checkpoint-2.bin',
      'prestage-0-ft-checkpoint.json',
    ]);
  });
});
