/**
 * Node-only helpers of `@kd/trainer` (`import { directoryStore } from '@kd/trainer/node'`).
 */
import { statSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMPORARY_FILE_PATTERN, writeFileAtomic } from '@kd/internal/node';
import type { RunStore } from './io/store';

export type { RunStore } from './io/store';

function describeError(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  return code !== undefined && !message.startsWith(code) ? `${code}: ${message}` : message;
}

/** True when no process with this id runs (a temp file it left can be deleted). */
function processIsGone(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: it runs under another user; only ESRCH says it is gone.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * A {@link RunStore} on a directory (created if missing). `writeAtomic` writes `name.tmp-<pid>-<random>` in the
 * same directory, fsyncs it, renames it over `name` and fsyncs the directory, so a killed run never leaves a
 * half-written file under the final name. A write that fails (disk full, …) deletes its temp file and throws
 * an error naming the file. When the store is first used it deletes the temp files of processes that no
 * longer run (a killed run's), so they never pile up.
 *
 * @example
 * const result = await trainSupervised({ ..., store: directoryStore('runs/resnet56'), resume: 'auto' });
 */
export function directoryStore(directory: string): RunStore {
  const fn = 'directoryStore';
  if (typeof directory !== 'string' || directory === '') {
    throw new Error(`${fn}: directory must be a non-empty string, got ${JSON.stringify(directory)}`);
  }
  let existing: ReturnType<typeof statSync>;
  try {
    existing = statSync(directory, { throwIfNoEntry: false });
  } catch (error) {
    throw new Error(
      `${fn}: cannot use ${directory} as the run directory (${describeError(error)}); is a part of the path a file?`,
    );
  }
  if (existing !== undefined && !existing.isDirectory()) {
    throw new Error(`${fn}: ${directory} exists and is not a directory; pass a directory path (or remove the file)`);
  }
  let ready: Promise<void> | undefined;
  const ensure = () =>
    (ready ??= (async () => {
      try {
        await mkdir(directory, { recursive: true });
      } catch (error) {
        throw new Error(
          `${fn}: cannot create the run directory ${directory} (${describeError(error)}); is a part of the path a file?`,
        );
      }
      for (const name of await readdir(directory)) {
        const match = TEMPORARY_FILE_PATTERN.exec(name);
        if (match !== null && processIsGone(Number(match[1]))) await rm(join(directory, name), { force: true });
      }
    })());
  const failure = (operation: string, path: string, error: unknown) =>
    new Error(`${fn}.${operation}: cannot write ${path} (${describeError(error)})`, { cause: error });
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
      try {
        await writeFileAtomic(target, data);
      } catch (error) {
        throw failure('writeAtomic', target, error);
      }
    },
    async append(name, text) {
      await ensure();
      const target = join(directory, name);
      try {
        await appendFile(target, text);
      } catch (error) {
        throw failure('append', target, error);
      }
    },
    async remove(name) {
      await ensure();
      await rm(join(directory, name), { force: true });
    },
    async names(prefix = '') {
      await ensure();
      return (await readdir(directory, { withFileTypes: true }))
        .filter((entry) => entry.isFile() && entry.name.startsWith(prefix))
        .map((entry) => entry.name)
        .sort();
    },
  };
}
