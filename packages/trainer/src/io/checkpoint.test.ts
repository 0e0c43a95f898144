import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { readCheckpoint, writeCheckpoint } from './checkpoint';
import { MemoryStore } from './store';

describeWithBackends('checkpoints', () => {
  const write = async (store: MemoryStore, epoch: number) => {
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const b = tf.tensor1d([7, 8, 9], 'int32');
    await writeCheckpoint({ store, epoch, step: 10 * epoch, tensors: new Map<string, tf.Tensor>([['a', a], ['b', b]]), state: { rng: [1, 2, 3, 4], note: 'x' } });
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
    await expect(readCheckpoint(store)).rejects.toThrow('readCheckpoint: checkpoint-1.bin is truncated or corrupt: 24 bytes, expected 28');
    const flipped = bytes.slice();
    flipped[0] = flipped[0]! ^ 1;
    store.files.set('checkpoint-1.bin', flipped);
    await expect(readCheckpoint(store)).rejects.toThrow('readCheckpoint: checkpoint-1.bin checksum mismatch');
    store.files.delete('checkpoint-1.bin');
    await expect(readCheckpoint(store)).rejects.toThrow('readCheckpoint: checkpoint-1.bin (named by checkpoint.json) is missing');
    store.files.set('checkpoint.json', new TextEncoder().encode('{"format":'));
    await expect(readCheckpoint(store)).rejects.toThrow('readCheckpoint: checkpoint.json is not valid JSON');
  });
});
