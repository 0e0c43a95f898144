/**
 * Safe archive extraction: every member path is checked (no absolute paths, no `..` escaping the target, no
 * links), the archive is unpacked into a temp directory beside the target, and only a complete, error-free
 * extraction is renamed into place. Truncated or corrupt archives throw an error naming the archive and leave
 * nothing behind.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { Unzip, UnzipInflate, type UnzipFile } from 'fflate';
import { safeRelativePath } from '../archive-paths';
import { TarParser } from '../tar';
import { assertKnownOptions, crc32, formatBytes } from '@kd/internal';
import { fsyncDirectorySync } from '@kd/internal/node';

export interface ExtractOptions {
  /** The archive file (`.tar.gz`, `.tgz`, `.tar` or `.zip`). */
  archive: string;
  /** Directory the archive's members are placed in. */
  directory: string;
  /** Top-level folder the archive must contain (e.g. `cifar-10-batches-bin`); it is renamed into `directory`. */
  folder: string;
  /**
   * Most bytes the members may extract to, in all: a member that would pass it stops the extraction before
   * it is written (an archive bomb, or a corrupt size field). The loaders pass the data set's known size plus a
   * margin; default 100 × the archive's size.
   */
  maxBytes?: number;
}

/** Counts extracted bytes against the cap; throws naming the archive, the member and both sizes. */
class ExtractionBudget {
  private used = 0;
  constructor(
    private readonly archiveName: string,
    private readonly maxBytes: number,
  ) {}

  /** A member announces its size (tar headers, zip local headers): reject it before writing anything. */
  claim(member: string, size: number): void {
    if (this.used + size > this.maxBytes) this.fail(member, this.used + size);
  }

  /** Bytes actually written (a zip's stored size may lie). */
  spend(member: string, bytes: number): void {
    this.used += bytes;
    if (this.used > this.maxBytes) this.fail(member, this.used);
  }

  private fail(member: string, total: number): never {
    throw new Error(
      `extractArchive: ${this.archiveName}: member '${member}' would bring the extracted size to ${formatBytes(total)}, ` +
        `more than the ${formatBytes(this.maxBytes)} this archive may extract to (the maxBytes option)`,
    );
  }
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let written = 0;
  while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written);
}

function temporaryDirectory(directory: string): string {
  const path = join(directory, `.extract-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(path, { recursive: true });
  return path;
}

async function extractTarInto(archive: string, target: string, budget: ExtractionBudget): Promise<void> {
  const archiveName = basename(archive);
  let fd: number | undefined;
  let member = '';
  const parser = new TarParser({
    archiveName,
    handlers: {
      onEntry(entry) {
        if (entry.type === 'symlink' || entry.type === 'hardlink')
          throw new Error(`${archiveName}: member '${entry.name}' is a link; links are not extracted`);
        const relative = safeRelativePath({ name: entry.name, archiveName });
        if (relative === '') return;
        const path = join(target, relative);
        if (entry.type === 'directory') {
          mkdirSync(path, { recursive: true });
          return;
        }
        if (entry.type !== 'file') return;
        budget.claim(entry.name, entry.size);
        member = entry.name;
        mkdirSync(dirname(path), { recursive: true });
        fd = openSync(path, 'w');
      },
      onData(chunk) {
        if (fd === undefined) return;
        budget.spend(member, chunk.length);
        writeAll(fd, chunk);
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
        const what =
          error.code === 'Z_BUF_ERROR' || /unexpected end/i.test(error.message)
            ? 'truncated gzip stream'
            : 'corrupt gzip stream';
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

/** What the central directory says of a member: its CRC-32 and uncompressed size. */
interface ZipDirectoryEntry {
  crc32: number;
  size: number;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const read = readSync(fd, buffer, filled, length - filled, position + filled);
    if (read === 0) break;
    filled += read;
  }
  return buffer.subarray(0, filled);
}

/**
 * Reads the central directory of a zip (found through the end-of-central-directory record, PK\\5\\6, in the
 * last 22 + 65,535 bytes). Without it the file was cut short, even when every member before the cut looks
 * complete; with it each member's CRC-32 and size are checked after streaming (deflate has no checksum).
 */
function readZipDirectory(archive: string, archiveName: string): Map<string, ZipDirectoryEntry> {
  const corrupt = (what: string) => new Error(`${archiveName}: truncated or corrupt zip archive (${what})`);
  const size = statSync(archive).size;
  const fd = openSync(archive, 'r');
  try {
    const tailLength = Math.min(size, 22 + 65_535);
    const tail = readAt(fd, size - tailLength, tailLength);
    const end = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (end < 0 || end + 22 > tail.length) throw corrupt('no end-of-central-directory record');
    const count = tail.readUInt16LE(end + 10);
    const directorySize = tail.readUInt32LE(end + 12);
    const directoryOffset = tail.readUInt32LE(end + 16);
    if (directoryOffset + directorySize > size) throw corrupt('the central directory lies past the end of the file');
    const directory = readAt(fd, directoryOffset, directorySize);
    const entries = new Map<string, ZipDirectoryEntry>();
    let position = 0;
    for (let index = 0; index < count; index++) {
      if (position + 46 > directory.length || directory.readUInt32LE(position) !== 0x02014b50)
        throw corrupt(`bad central directory entry ${index}`);
      const nameLength = directory.readUInt16LE(position + 28);
      const name = directory.subarray(position + 46, position + 46 + nameLength).toString('utf8');
      entries.set(name, { crc32: directory.readUInt32LE(position + 16), size: directory.readUInt32LE(position + 24) });
      position += 46 + nameLength + directory.readUInt16LE(position + 30) + directory.readUInt16LE(position + 32);
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

/**
 * Streams a zip archive to disk member by member (fflate's streaming `Unzip`): memory stays at a chunk or two
 * whatever the archive's size, and every member is counted against the budget as it inflates.
 */
async function extractZipInto(archive: string, target: string, budget: ExtractionBudget): Promise<void> {
  const archiveName = basename(archive);
  const directory = readZipDirectory(archive, archiveName);
  const open = new Map<UnzipFile, { fd: number | undefined; name: string }>();
  const written = new Map<string, { crc32: number; size: number }>();
  let failure: Error | undefined;
  const fail = (error: unknown) => {
    failure ??= error instanceof Error ? error : new Error(String(error));
  };
  const unzip = new Unzip((file) => {
    if (failure !== undefined) return;
    try {
      const relative = safeRelativePath({ name: file.name, archiveName });
      const isDirectory = file.name.endsWith('/');
      if (relative !== '' && isDirectory) mkdirSync(join(target, relative), { recursive: true });
      if (relative === '' || isDirectory) return;
      if (file.originalSize !== undefined) budget.claim(file.name, file.originalSize);
      const path = join(target, relative);
      mkdirSync(dirname(path), { recursive: true });
      const state = { fd: openSync(path, 'w') as number | undefined, name: file.name };
      const sums = { crc32: 0, size: 0 };
      written.set(file.name, sums);
      open.set(file, state);
      file.ondata = (error, chunk, final) => {
        if (failure !== undefined) return;
        try {
          if (error)
            throw new Error(
              `${archiveName}: truncated or corrupt zip archive: member '${file.name}' (${error.message})`,
            );
          budget.spend(file.name, chunk.length);
          writeAll(state.fd as number, chunk);
          sums.crc32 = crc32(chunk, sums.crc32);
          sums.size += chunk.length;
          if (final) {
            fsyncSync(state.fd as number);
            closeSync(state.fd as number);
            state.fd = undefined;
            open.delete(file);
          }
        } catch (caught) {
          fail(caught);
        }
      };
      file.start();
    } catch (error) {
      fail(error);
    }
  });
  unzip.register(UnzipInflate);
  const source = createReadStream(archive);
  let sawData = false;
  try {
    await new Promise<void>((resolve, reject) => {
      source.on('error', reject);
      source.on('data', (chunk: string | Buffer) => {
        sawData = true;
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        try {
          unzip.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), false);
        } catch (error) {
          fail(new Error(`${archiveName}: truncated or corrupt zip archive (${(error as Error).message})`));
        }
        if (failure !== undefined) {
          source.destroy();
          reject(failure);
        }
      });
      source.on('end', () => {
        try {
          unzip.push(new Uint8Array(0), true);
        } catch (error) {
          fail(new Error(`${archiveName}: truncated or corrupt zip archive (${(error as Error).message})`));
        }
        if (failure === undefined && open.size > 0) {
          fail(new Error(`${archiveName}: truncated zip archive: member '${[...open.values()][0]!.name}' ends early`));
        }
        if (failure === undefined && !sawData)
          fail(new Error(`${archiveName}: truncated or corrupt zip archive (empty file)`));
        for (const [name, entry] of directory) {
          if (failure !== undefined || name.endsWith('/')) continue;
          const sums = written.get(name);
          if (sums === undefined && safeRelativePath({ name, archiveName }) !== '') {
            fail(
              new Error(
                `${archiveName}: truncated or corrupt zip archive: member '${name}' of the central directory was not found`,
              ),
            );
          } else if (
            sums !== undefined &&
            (sums.crc32 !== entry.crc32 || (entry.size !== 0xffffffff && sums.size !== entry.size))
          ) {
            fail(
              new Error(
                `${archiveName}: corrupt zip archive: member '${name}' has crc32 ${sums.crc32} and ${sums.size} bytes, the directory says ${entry.crc32} and ${entry.size}`,
              ),
            );
          }
        }
        if (failure !== undefined) reject(failure);
        else resolve();
      });
    });
  } finally {
    for (const state of open.values()) if (state.fd !== undefined) closeSync(state.fd);
  }
}

/**
 * Extracts `archive` and moves its top-level `folder` to `directory/folder`, atomically: on any error the temp
 * directory is removed and `directory/folder` is untouched.
 *
 * @example
 * await extractArchive({ archive: '/data/cifar-10-binary.tar.gz', directory: '/data', folder: 'cifar-10-batches-bin' });
 */
export async function extractArchive(options: ExtractOptions): Promise<string> {
  assertKnownOptions('extractArchive', options, ['archive', 'directory', 'folder', 'maxBytes']);
  const { archive, directory, folder, maxBytes } = options;
  const archiveName = basename(archive);
  const destination = join(directory, folder);
  if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes > 0)) {
    throw new Error(`extractArchive: maxBytes must be a positive integer, got ${String(maxBytes)}`);
  }
  const budget = () => new ExtractionBudget(archiveName, maxBytes ?? 100 * statSync(archive).size);
  mkdirSync(directory, { recursive: true });
  const temporary = temporaryDirectory(directory);
  try {
    if (/\.zip$/i.test(archive)) await extractZipInto(archive, temporary, budget());
    else if (/\.(tar\.gz|tgz|tar)$/i.test(archive)) await extractTarInto(archive, temporary, budget());
    else throw new Error(`extractArchive: ${archiveName}: unknown archive type (expected .tar.gz, .tgz, .tar or .zip)`);
    const extracted = join(temporary, folder);
    if (!existsSync(extracted))
      throw new Error(`extractArchive: ${archiveName} does not contain the folder '${folder}/'`);
    if (existsSync(destination)) rmSync(destination, { recursive: true, force: true });
    renameSync(extracted, destination);
    fsyncDirectorySync(directory);
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
  return destination;
}
