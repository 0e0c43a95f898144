/**
 * Atomic file writes, the one implementation of the packages: the data goes to `name.tmp-<pid>-<random>` in the
 * same directory, that file is fsynced, renamed over `name`, and the directory is fsynced, so a reader (or a run
 * resumed after a kill or a power cut) sees the old file or the new one, never a mix. A write that fails removes
 * its temp file and rethrows the error. Node-only: import it from `@kd/internal/node`.
 *
 * The asynchronous {@link writeFileAtomic} goes through `node:fs/promises` (`open`, `FileHandle.writeFile`,
 * `FileHandle.sync`, `rename`): the trainer's fault-injection test wraps exactly those to kill a run inside a write.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The temp files these functions write: `name.tmp-<pid>-<8 hex digits>`; group 1 is the writer's process id. */
export const TEMPORARY_FILE_PATTERN = /\.tmp-(\d+)-[0-9a-f]{8}$/;

/** A fresh temp path beside `path`: `name.tmp-<pid>-<random>` (see {@link TEMPORARY_FILE_PATTERN}). */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Error codes of platforms that cannot open or fsync a directory (Windows): the rename is then all we get. */
const DIRECTORY_SYNC_UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EBADF']);

function ignoreUnsupported(error: unknown): void {
  if (!DIRECTORY_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
}

/** fsyncs `directory`, so a rename inside it survives a power cut (a no-op where directories cannot be synced). */
export function fsyncDirectorySync(directory: string): void {
  let fd: number;
  try {
    fd = openSync(directory, 'r');
  } catch (error) {
    ignoreUnsupported(error);
    return;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    ignoreUnsupported(error);
  } finally {
    closeSync(fd);
  }
}

/**
 * Moves a finished temp file into place: fsync `temporary`, rename it over `path`, fsync the directory. For
 * files written by a stream (a download's `.part` file); on failure `temporary` is left for the caller.
 */
export function commitFileSync(temporary: string, path: string): void {
  const fd = openSync(temporary, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  fsyncDirectorySync(dirname(path));
}

/**
 * Writes `data` (text as UTF-8, bytes, or the concatenation of several byte chunks) to `path` atomically,
 * synchronously.
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const temporary = temporaryPathFor(path);
  try {
    const fd = openSync(temporary, 'w');
    try {
      const chunks =
        typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
      for (const chunk of chunks) {
        let written = 0;
        while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  fsyncDirectorySync(dirname(path));
}

/** Writes `data` (text as UTF-8, or bytes) to `path` atomically. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = temporaryPathFor(path);
  try {
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  fsyncDirectorySync(dirname(path));
}
