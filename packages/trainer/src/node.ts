/**
 * Node-only helpers of `@kd/trainer` (`import { directoryStore } from '@kd/trainer/node'`).
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunStore } from './io/store';

export type { RunStore } from './io/store';

/**
 * A {@link RunStore} on a directory (created if missing). `writeAtomic` writes `name.tmp-<pid>-<random>` in the
 * same directory, fsyncs it, renames it over `name` and fsyncs the directory, so a killed run never leaves a
 * half-written file under the final name.
 *
 * @example
 * const result = await trainTeacher({ ..., store: directoryStore('runs/resnet56'), resume: 'auto' });
 */
export function directoryStore(directory: string): RunStore {
  let ready: Promise<unknown> | undefined;
  const ensure = () => (ready ??= mkdir(directory, { recursive: true }));
  return {
    async read(name) {
      await ensure();
      try {
        return new Uint8Array(await readFile(join(directory, name)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async writeAtomic(name, data) {
      await ensure();
      const target = join(directory, name);
      const temporary = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      const handle = await open(temporary, 'w');
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await rename(temporary, target);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
      // fsync the directory so the rename itself survives a power cut (not supported on every platform).
      const directoryHandle = await open(directory, 'r').catch(() => undefined);
      if (directoryHandle !== undefined) {
        await directoryHandle.sync().catch(() => undefined);
        await directoryHandle.close();
      }
    },
    async append(name, text) {
      await ensure();
      await appendFile(join(directory, name), text);
    },
    async remove(name) {
      await ensure();
      await rm(join(directory, name), { force: true });
    },
  };
}
