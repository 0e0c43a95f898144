/** Atomic file writes: a temp file in the same directory, fsync, then rename, so readers never see half a file. */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A temp path beside `path`: `name.tmp-<pid>-<random>`. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes `bytes` (or the concatenation of several chunks) to `path` atomically. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string | readonly Uint8Array[]): void {
  const temporary = temporaryPathFor(path);
  const fd = openSync(temporary, 'w');
  try {
    const chunks = typeof bytes === 'string' ? [Buffer.from(bytes, 'utf8')] : bytes instanceof Uint8Array ? [bytes] : bytes;
    for (const data of chunks) {
      let written = 0;
      while (written < data.length) written += writeSync(fd, data, written, data.length - written);
    }
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
}

/** fsyncs a file by path (before renaming it into place). */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
