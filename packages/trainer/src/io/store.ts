/**
 * Where a run keeps its files (checkpoints, metrics log, run record, plot). The trainer only needs these four
 * operations (and uses an optional fifth, `names`), so runs work in Node (`directoryStore` from `@kd/trainer/node`), in memory (tests, browsers) or
 * on any storage a user adapts (IndexedDB, S3, …).
 */
export interface RunStore {
  /** The file's bytes, or undefined when it does not exist. */
  read(name: string): Promise<Uint8Array | undefined>;
  /**
   * Replaces the file atomically: a reader sees either the old or the new content, never a mix (Node: temp
   * file in the same directory, fsync, rename).
   */
  writeAtomic(name: string, data: Uint8Array | string): Promise<void>;
  /** Appends text (the JSONL metrics log). */
  append(name: string, text: string): Promise<void>;
  /** Deletes the file if it exists. */
  remove(name: string): Promise<void>;
  /**
   * Names of the stored files that start with `prefix` (all by default), sorted. Optional: with it, the trainer removes checkpoint binaries that no
   * manifest names any more (left by a kill between two writes) when a run opens the store and after each commit.
   */
  names?(prefix?: string): Promise<string[]>;
}

/** A {@link RunStore} kept in a Map: for tests, browsers, or runs that need no files. */
export class MemoryStore implements RunStore {
  readonly files = new Map<string, Uint8Array>();

  async read(name: string): Promise<Uint8Array | undefined> {
    const data = this.files.get(name);
    return data === undefined ? undefined : data.slice();
  }

  async writeAtomic(name: string, data: Uint8Array | string): Promise<void> {
    this.files.set(name, typeof data === 'string' ? new TextEncoder().encode(data) : data.slice());
  }

  async append(name: string, text: string): Promise<void> {
    const previous = this.files.get(name) ?? new Uint8Array(0);
    const added = new TextEncoder().encode(text);
    const joined = new Uint8Array(previous.length + added.length);
    joined.set(previous);
    joined.set(added, previous.length);
    this.files.set(name, joined);
  }

  async remove(name: string): Promise<void> {
    this.files.delete(name);
  }

  async names(prefix = ''): Promise<string[]> {
    return [...this.files.keys()].filter((name) => name.startsWith(prefix)).sort();
  }

  /** The file decoded as UTF-8 (undefined when absent). */
  text(name: string): string | undefined {
    const data = this.files.get(name);
    return data === undefined ? undefined : new TextDecoder().decode(data);
  }
}

/** A view of `store` whose file names all start with `prefix` (pre-stages keep their own checkpoints). */
export function prefixedStore(store: RunStore, prefix: string): RunStore {
  const names = store.names?.bind(store);
  return {
    read: (name) => store.read(`${prefix}${name}`),
    writeAtomic: (name, data) => store.writeAtomic(`${prefix}${name}`, data),
    append: (name, text) => store.append(`${prefix}${name}`, text),
    remove: (name) => store.remove(`${prefix}${name}`),
    ...(names === undefined
      ? {}
      : { names: async (start = '') => (await names(`${prefix}${start}`)).map((name) => name.slice(prefix.length)) }),
  };
}
