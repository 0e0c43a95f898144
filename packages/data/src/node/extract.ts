/**
 * Safe archive extraction: every member path is checked (no absolute paths, no `..` escaping the target, no
 * links), the archive is unpacked into a temp directory beside the target, and only a complete, error-free
 * extraction is renamed into place. Truncated or corrupt archives throw an error naming the archive and leave
 * nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { unzipSync } from 'fflate';
import { safeRelativePath } from '../archive-paths';
import { TarParser } from '../tar';

export interface ExtractOptions {
  /** The archive file (`.tar.gz`, `.tgz`, `.tar` or `.zip`). */
  archive: string;
  /** Directory the archive's members are placed in. */
  directory: string;
  /** Top-level folder the archive must contain (e.g. `cifar-10-batches-bin`); it is renamed into `directory`. */
  folder: string;
}

function temporaryDirectory(directory: string): string {
  const path = join(directory, `.extract-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(path, { recursive: true });
  return path;
}

async function extractTarInto(archive: string, target: string): Promise<void> {
  const archiveName = basename(archive);
  let fd: number | undefined;
  const parser = new TarParser({
    archiveName,
    handlers: {
      onEntry(entry) {
        if (entry.type === 'symlink' || entry.type === 'hardlink') throw new Error(`${archiveName}: member '${entry.name}' is a link; links are not extracted`);
        const relative = safeRelativePath({ name: entry.name, archiveName });
        if (relative === '') return;
        const path = join(target, relative);
        if (entry.type === 'directory') {
          mkdirSync(path, { recursive: true });
          return;
        }
        if (entry.type !== 'file') return;
        mkdirSync(dirname(path), { recursive: true });
        fd = openSync(path, 'w');
      },
      onData(chunk) {
        if (fd === undefined) return;
        let written = 0;
        while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written);
      },
      onEntryEnd() {
        if (fd === undefined) return;
        fsyncSync(fd);
        closeSync(fd);
        fd = undefined;
      },
    },
  });
  const compressed = /\.(tar\.gz|tgz)$/i.test(archive);
  const source = createReadStream(archive);
  const stream = compressed ? source.pipe(createGunzip()) : source;
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (error: Error) => {
        if (failed) return;
        failed = true;
        source.destroy();
        if (stream !== source) stream.destroy();
        reject(error);
      };
      source.on('error', fail);
      stream.on('error', (error: Error & { code?: string }) => {
        const what = error.code === 'Z_BUF_ERROR' || /unexpected end/i.test(error.message) ? 'truncated gzip stream' : 'corrupt gzip stream';
        fail(new Error(`${archiveName}: ${what} (${error.message})`));
      });
      stream.on('data', (chunk: Buffer) => {
        if (failed) return;
        try {
          parser.push(chunk);
        } catch (error) {
          fail(error as Error);
        }
      });
      stream.on('end', () => {
        if (failed) return;
        try {
          parser.end();
          resolve();
        } catch (error) {
          fail(error as Error);
        }
      });
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function extractZipInto(archive: string, target: string): void {
  const archiveName = basename(archive);
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(new Uint8Array(readFileSync(archive)));
  } catch (error) {
    throw new Error(`${archiveName}: truncated or corrupt zip archive (${(error as Error).message})`);
  }
  for (const [name, bytes] of Object.entries(members)) {
    const relative = safeRelativePath({ name, archiveName });
    if (relative === '') continue;
    const path = join(target, relative);
    if (name.endsWith('/')) {
      mkdirSync(path, { recursive: true });
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'w');
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Extracts `archive` and moves its top-level `folder` to `directory/folder`, atomically: on any error the temp
 * directory is removed and `directory/folder` is untouched.
 *
 * @example
 * await extractArchive({ archive: '/data/cifar-10-binary.tar.gz', directory: '/data', folder: 'cifar-10-batches-bin' });
 */
export async function extractArchive({ archive, directory, folder }: ExtractOptions): Promise<string> {
  const archiveName = basename(archive);
  const destination = join(directory, folder);
  mkdirSync(directory, { recursive: true });
  const temporary = temporaryDirectory(directory);
  try {
    if (/\.zip$/i.test(archive)) extractZipInto(archive, temporary);
    else if (/\.(tar\.gz|tgz|tar)$/i.test(archive)) await extractTarInto(archive, temporary);
    else throw new Error(`extractArchive: ${archiveName}: unknown archive type (expected .tar.gz, .tgz, .tar or .zip)`);
    const extracted = join(temporary, folder);
    if (!existsSync(extracted)) throw new Error(`extractArchive: ${archiveName} does not contain the folder '${folder}/'`);
    if (existsSync(destination)) rmSync(destination, { recursive: true, force: true });
    renameSync(extracted, destination);
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
  return destination;
}
