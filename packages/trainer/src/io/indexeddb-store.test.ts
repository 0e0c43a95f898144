import { describeWithBackends } from '@kd/test-utils';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { snapshot, syntheticDataset, tinyModel } from '../../test/fixtures';
import { trainSupervised } from '../supervised';
import { indexedDbStore } from './indexeddb-store';

const decode = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));

describeWithBackends('indexedDbStore', () => {
  const globals = globalThis as { indexedDB?: IDBFactory };
  const original = globals.indexedDB;
  beforeEach(() => {
    // A fresh, empty IndexedDB per test (fake-indexeddb implements the spec in memory).
    globals.indexedDB = new IDBFactory();
  });
  afterEach(() => {
    globals.indexedDB = original;
  });

  it('reads, writes, appends, removes and lists files, and keeps them across connections (a reload)', async () => {
    const store = indexedDbStore('kd-test');
    expect(await store.read('run.json')).toBeUndefined();
    await store.writeAtomic('run.json', '{"status":"running"}');
    await store.writeAtomic('run-1/checkpoint-1.bin', new Uint8Array([1, 2, 3, 255]));
    await store.append('metrics.jsonl', 'a\n');
    await store.append('metrics.jsonl', 'b\n');
    await store.writeAtomic('run.json', '{"status":"finished"}');
    expect(decode(await store.read('run.json'))).toBe('{"status":"finished"}');
    expect(decode(await store.read('metrics.jsonl'))).toBe('a\nb\n');
    expect(await store.names()).toEqual(['metrics.jsonl', 'run-1/checkpoint-1.bin', 'run.json']);
    expect(await store.names('run-1/')).toEqual(['run-1/checkpoint-1.bin']);
    store.close();

    const reopened = indexedDbStore('kd-test');
    expect(Array.from((await reopened.read('run-1/checkpoint-1.bin')) ?? [])).toEqual([1, 2, 3, 255]);
    await reopened.remove('run-1/checkpoint-1.bin');
    await reopened.remove('never-written');
    expect(await reopened.names()).toEqual(['metrics.jsonl', 'run.json']);
    // Another database name is another store.
    expect(await indexedDbStore('kd-other').names()).toEqual([]);
    reopened.close();
  });

  it('writes a copy: changing the caller’s buffer afterwards changes nothing stored', async () => {
    const store = indexedDbStore('kd-test');
    const bytes = new Uint8Array([7, 7]);
    await store.writeAtomic('file', bytes);
    bytes[0] = 0;
    expect(Array.from((await store.read('file')) ?? [])).toEqual([7, 7]);
    store.close();
  });

  it('concurrent appends lose nothing (each is one read-write transaction)', async () => {
    const store = indexedDbStore('kd-test');
    const lines = Array.from({ length: 20 }, (_, index) => `line ${index}\n`);
    await Promise.all(lines.map((line) => store.append('log', line)));
    expect(decode(await store.read('log'))).toBe(lines.join(''));
    store.close();
  });

  it('names the function, the database and the record on bad input and corrupt records', async () => {
    expect(() => indexedDbStore('')).toThrow("indexedDbStore: name must be a non-empty string, got ''");
    const raw = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = (globals.indexedDB as IDBFactory).open('kd-corrupt', 1);
      request.onupgradeneeded = () => request.result.createObjectStore('files');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = raw.transaction('files', 'readwrite');
      tx.objectStore('files').put('not bytes', 'run.json');
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    raw.close();
    const store = indexedDbStore('kd-corrupt');
    await expect(store.read('run.json')).rejects.toThrow(
      "indexedDbStore('kd-corrupt'): record 'run.json' is not a byte array (got [object String]); the database is corrupt or not a run store",
    );
    await expect(store.append('run.json', 'x')).rejects.toThrow(
      "indexedDbStore('kd-corrupt'): record 'run.json' is not a byte array",
    );
    store.close();

    globals.indexedDB = undefined;
    expect(() => indexedDbStore('kd-test')).toThrow(
      'indexedDbStore: IndexedDB is not available here (globalThis.indexedDB is undefined)',
    );
  });

  it('a run interrupted mid-epoch resumes from IndexedDB to the weights of an uninterrupted run', async () => {
    const base = {
      data: { train: syntheticDataset({ count: 64, seed: 3 }) },
      epochs: 3,
      batchSize: 16,
      augmentation: false as const,
      progress: false as const,
    };
    const reference = tinyModel({ seed: 4 });
    await trainSupervised({ ...base, model: reference });
    const expected = snapshot(reference);
    reference.dispose();

    const interrupted = tinyModel({ seed: 4 });
    const controller = new AbortController();
    await expect(
      trainSupervised({
        ...base,
        model: interrupted,
        store: indexedDbStore('kd-run'),
        signal: controller.signal,
        onStepEnd: (info) => (info.epoch === 2 && info.step === 2 ? controller.abort() : undefined),
      }),
    ).rejects.toThrow('trainSupervised: aborted at epoch 2 before step 3');
    interrupted.dispose();

    // A reload: a new model and a new connection to the same database.
    const resumed = tinyModel({ seed: 4 });
    const store = indexedDbStore('kd-run');
    try {
      const result = await trainSupervised({ ...base, model: resumed, store, resume: 'auto' });
      expect(result.history).toHaveLength(3);
      expect(snapshot(resumed)).toEqual(expected);
      expect(JSON.parse(decode(await store.read('run.json')) ?? '{}').status).toBe('finished');
      expect(
        decode(await store.read('metrics.jsonl'))
          ?.trim()
          .split('\n'),
      ).toHaveLength(3);
    } finally {
      resumed.dispose();
      store.close();
    }
  });

  it('lets a resumed run remove the checkpoint binary a kill orphaned (through names)', async () => {
    const store = indexedDbStore('kd-orphans');
    const train = syntheticDataset({ count: 32, seed: 5 });
    const options = {
      data: { train },
      epochs: 2,
      batchSize: 16,
      augmentation: false as const,
      progress: false as const,
    };
    const model = tinyModel({ seed: 6 });
    try {
      // Stopped after epoch 1's checkpoint (a callback that throws ends the run).
      await expect(
        trainSupervised({
          ...options,
          model,
          store,
          onEpochEnd: () => {
            throw new Error('stop');
          },
        }),
      ).rejects.toThrow('stop');
      // As a kill between writing epoch 2's binary and committing its manifest leaves it.
      await store.writeAtomic('checkpoint-2.bin', new Uint8Array([1, 2, 3]));
      await trainSupervised({ ...options, model, store, resume: true });
      expect((await store.names('checkpoint')).sort()).toEqual(['checkpoint-2.bin', 'checkpoint.json']);
      expect((await store.read('checkpoint-2.bin'))!.length).toBeGreaterThan(3);
      await store.writeAtomic('checkpoint-5.bin', new Uint8Array([9]));
      await trainSupervised({ ...options, model, store, resume: true });
      expect((await store.names('checkpoint')).sort()).toEqual(['checkpoint-2.bin', 'checkpoint.json']);
    } finally {
      model.dispose();
      store.close();
    }
  });
});
