import type { RunStore } from './store';

/** The object store inside the database that holds one record per file (key: the file name, value: its bytes). */
const FILES = 'files';

/** A {@link RunStore} in an IndexedDB database, with the two extra operations a browser app needs. */
export interface IndexedDbStore extends RunStore {
  /** The database name given to {@link indexedDbStore}. */
  readonly name: string;
  /** Names of the stored files that start with `prefix` (all files by default), sorted. */
  names(prefix?: string): Promise<string[]>;
  /** Closes the connection (the next operation opens it again). */
  close(): void;
}

function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

function transactionDone(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error ?? new Error('IndexedDB transaction failed'));
    transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/**
 * A {@link RunStore} kept in the browser's IndexedDB: database `name`, one record per file. Runs written to it
 * survive a reload or a closed tab, so `resume: 'auto'` continues from the last checkpoint.
 *
 * Each `writeAtomic` and `append` is one read-write transaction with `durability: 'strict'` (the browser's
 * fsync): a reader sees the old or the new content, never a mix, and a tab closed mid-epoch loses at most that
 * epoch. Use `prefixedStore`-style names (`run-1/teacher/checkpoint…`) to keep several runs in one database.
 *
 * @example
 * const store = indexedDbStore('kd-playground');
 * await trainSupervised({ ...options, store, resume: 'auto' });
 * console.log(await store.names()); // ['checkpoint.json', 'metrics.jsonl', …]
 */
export function indexedDbStore(name: string): IndexedDbStore {
  const fn = 'indexedDbStore';
  if (typeof name !== 'string' || name.length === 0) {
    throw new Error(`${fn}: name must be a non-empty string, got ${typeof name === 'string' ? "''" : typeof name}`);
  }
  const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (factory === undefined) {
    throw new Error(
      `${fn}: IndexedDB is not available here (globalThis.indexedDB is undefined); in Node use directoryStore from '@kd/trainer/node'`,
    );
  }

  let connection: Promise<IDBDatabase> | undefined;
  const open = (): Promise<IDBDatabase> =>
    (connection ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = factory.open(name, 1);
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(FILES)) request.result.createObjectStore(FILES);
      };
      request.onblocked = () =>
        reject(new Error(`${fn}('${name}'): opening the database is blocked by another tab holding an older version`));
      request.onerror = () => reject(request.error ?? new Error('open failed'));
      request.onsuccess = () => {
        const database = request.result;
        // Another tab deleting or upgrading the database: let it, and reopen on the next operation.
        database.onversionchange = () => {
          database.close();
          connection = undefined;
        };
        resolve(database);
      };
    }).catch((error: unknown) => {
      connection = undefined;
      throw error;
    }));

  const fail = (operation: string, file: string | undefined, error: unknown): never => {
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`${fn}('${name}'): ${operation}${file === undefined ? '' : `('${file}')`} failed: ${what}`);
  };

  const asBytes = (file: string, value: unknown): Uint8Array => {
    if (value instanceof Uint8Array) return value;
    throw new Error(
      `${fn}('${name}'): record '${file}' is not a byte array (got ${Object.prototype.toString.call(value)}); the database is corrupt or not a run store`,
    );
  };

  const transaction = async (mode: IDBTransactionMode): Promise<IDBTransaction> => {
    const database = await open();
    return database.transaction(FILES, mode, { durability: 'strict' });
  };

  return {
    name,
    async read(file) {
      let value: unknown;
      try {
        const tx = await transaction('readonly');
        value = await requestResult(tx.objectStore(FILES).get(file));
      } catch (error) {
        return fail('read', file, error);
      }
      return value === undefined ? undefined : asBytes(file, value);
    },
    async writeAtomic(file, data) {
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data.slice();
      try {
        const tx = await transaction('readwrite');
        const done = transactionDone(tx);
        tx.objectStore(FILES).put(bytes, file);
        await done;
      } catch (error) {
        fail('writeAtomic', file, error);
      }
    },
    async append(file, text) {
      const added = new TextEncoder().encode(text);
      let corrupt: Error | undefined;
      try {
        const tx = await transaction('readwrite');
        const done = transactionDone(tx);
        const files = tx.objectStore(FILES);
        const get = files.get(file);
        // Read and write in the same transaction, so two appends never lose each other's text.
        get.onsuccess = () => {
          const previous = get.result === undefined ? new Uint8Array(0) : get.result;
          if (!(previous instanceof Uint8Array)) {
            corrupt = new Error(
              `${fn}('${name}'): record '${file}' is not a byte array; the database is corrupt or not a run store`,
            );
            tx.abort();
            return;
          }
          const joined = new Uint8Array(previous.length + added.length);
          joined.set(previous);
          joined.set(added, previous.length);
          files.put(joined, file);
        };
        await done;
      } catch (error) {
        if (corrupt !== undefined) throw corrupt;
        fail('append', file, error);
      }
    },
    async remove(file) {
      try {
        const tx = await transaction('readwrite');
        const done = transactionDone(tx);
        tx.objectStore(FILES).delete(file);
        await done;
      } catch (error) {
        fail('remove', file, error);
      }
    },
    async names(prefix = '') {
      try {
        const tx = await transaction('readonly');
        const keys = await requestResult(tx.objectStore(FILES).getAllKeys());
        return keys.filter((key): key is string => typeof key === 'string' && key.startsWith(prefix)).sort();
      } catch (error) {
        return fail('names', undefined, error);
      }
    },
    close() {
      const pending = connection;
      connection = undefined;
      void pending?.then(
        (database) => database.close(),
        () => undefined,
      );
    },
  };
}
