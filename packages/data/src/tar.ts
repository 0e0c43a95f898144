/**
 * A small streaming reader for POSIX ustar / GNU tar archives (what `tar czf` writes, and what the CIFAR and
 * STL-10 tarballs are). Each 512-byte header is checked against its checksum; file data follows, padded to a
 * 512-byte boundary; the archive ends with two zero blocks. GNU long names ('L') and pax path/size records
 * ('x') are understood. Anything that stops early is reported as truncated.
 */

import { formatBytes } from '@kd/internal';

const BLOCK = 512;
/** Largest GNU long-name or pax record read into memory. */
const MAX_METADATA_BYTES = 1 << 20;

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  /** Member path as stored (not yet made safe: see `safeRelativePath`). */
  name: string;
  type: TarEntryType;
  size: number;
  mode: number;
  linkName: string;
}

export interface TarHandlers {
  /** A member starts; its data (if any) follows through `onData`, then `onEntryEnd`. */
  onEntry(entry: TarEntry): void;
  onData(chunk: Uint8Array): void;
  onEntryEnd(): void;
}

const decoder = new TextDecoder('utf-8');

function readString(block: Uint8Array, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && block[end] !== 0) end++;
  return decoder.decode(block.subarray(offset, end));
}

function readNumber(block: Uint8Array, offset: number, length: number): number {
  if ((block[offset]! & 0x80) !== 0) {
    // GNU base-256 encoding for values that do not fit the octal field.
    let value = block[offset]! & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + block[offset + i]!;
    return value;
  }
  const text = readString(block, offset, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return Number.NaN;
  return parseInt(text, 8);
}

/** Σ of the header bytes with the checksum field (148..155) counted as spaces. */
function headerChecksum(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

function parsePax(data: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  const text = decoder.decode(data);
  let position = 0;
  while (position < text.length) {
    const space = text.indexOf(' ', position);
    if (space < 0) break;
    const length = Number(text.slice(position, space));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = text.slice(space + 1, position + length - 1);
    const equals = record.indexOf('=');
    if (equals > 0) records.set(record.slice(0, equals), record.slice(equals + 1));
    position += length;
  }
  return records;
}

/** Incremental tar parser: feed it chunks with `push`, then call `end` (which throws if the archive was cut short). */
export class TarParser {
  private readonly archiveName: string;
  private readonly handlers: TarHandlers;
  private header = new Uint8Array(BLOCK);
  private headerFill = 0;
  private state: 'header' | 'data' | 'padding' | 'meta' | 'done' = 'header';
  private remaining = 0;
  private padding = 0;
  private offset = 0;
  private zeroBlocks = 0;
  private current: TarEntry | undefined;
  private meta: { kind: 'longname' | 'pax' | 'global'; data: Uint8Array; fill: number } | undefined;
  private longName: string | undefined;
  private pax: Map<string, string> | undefined;

  constructor({ archiveName, handlers }: { archiveName: string; handlers: TarHandlers }) {
    this.archiveName = archiveName;
    this.handlers = handlers;
  }

  push(chunk: Uint8Array): void {
    let position = 0;
    while (position < chunk.length && this.state !== 'done') {
      if (this.state === 'header') {
        const take = Math.min(BLOCK - this.headerFill, chunk.length - position);
        this.header.set(chunk.subarray(position, position + take), this.headerFill);
        this.headerFill += take;
        position += take;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.parseHeader();
          this.offset += BLOCK;
        }
      } else if (this.state === 'data' || this.state === 'meta') {
        const take = Math.min(this.remaining, chunk.length - position);
        const piece = chunk.subarray(position, position + take);
        if (this.state === 'data') this.handlers.onData(piece);
        else {
          this.meta!.data.set(piece, this.meta!.fill);
          this.meta!.fill += take;
        }
        this.remaining -= take;
        position += take;
        this.offset += take;
        if (this.remaining === 0) this.finishMember();
      } else {
        const take = Math.min(this.padding, chunk.length - position);
        this.padding -= take;
        position += take;
        this.offset += take;
        if (this.padding === 0) this.state = 'header';
      }
    }
  }

  /** Checks the archive ended cleanly (after its two zero blocks). */
  end(): void {
    if (this.state === 'done') return;
    if (this.state === 'data' || this.state === 'meta') {
      throw new Error(
        `${this.archiveName}: truncated tar archive: ${this.remaining} bytes of '${this.current?.name ?? 'metadata'}' missing`,
      );
    }
    if (this.state === 'padding' || this.headerFill > 0)
      throw new Error(
        `${this.archiveName}: truncated tar archive: ends inside a 512-byte block at offset ${this.offset}`,
      );
    throw new Error(`${this.archiveName}: truncated tar archive: no end-of-archive marker after offset ${this.offset}`);
  }

  private parseHeader(): void {
    const block = this.header;
    if (block.every((byte) => byte === 0)) {
      this.zeroBlocks++;
      if (this.zeroBlocks === 2) this.state = 'done';
      return;
    }
    if (this.zeroBlocks > 0)
      throw new Error(`${this.archiveName}: corrupt tar archive: lone zero block before offset ${this.offset}`);
    const stored = readNumber(block, 148, 8);
    if (stored !== headerChecksum(block)) {
      throw new Error(
        `${this.archiveName}: corrupt tar archive: header checksum mismatch at offset ${this.offset} (not a tar file, or damaged)`,
      );
    }
    const typeFlag = String.fromCharCode(block[156]!);
    let size = readNumber(block, 124, 12);
    if (!Number.isFinite(size) || size < 0)
      throw new Error(`${this.archiveName}: corrupt tar archive: bad size field at offset ${this.offset}`);
    let name = readString(block, 0, 100);
    if (readString(block, 257, 5) === 'ustar') {
      const prefix = readString(block, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (typeFlag === 'L' || typeFlag === 'x' || typeFlag === 'g') {
      // Long names and pax records are a few hundred bytes: a huge claim is a corrupt header, not a buffer to allocate.
      if (size > MAX_METADATA_BYTES) {
        throw new Error(
          `${this.archiveName}: corrupt tar archive: a metadata record at offset ${this.offset} claims ${formatBytes(size)} (at most ${formatBytes(MAX_METADATA_BYTES)})`,
        );
      }
      // Global pax records ('g') are read and ignored.
      this.meta = {
        kind: typeFlag === 'L' ? 'longname' : typeFlag === 'x' ? 'pax' : 'global',
        data: new Uint8Array(size),
        fill: 0,
      };
      this.startMember(size, 'meta');
      return;
    }
    if (this.longName !== undefined) name = this.longName;
    if (this.pax?.has('path')) name = this.pax.get('path')!;
    if (this.pax?.has('size')) size = Number(this.pax.get('size'));
    this.longName = undefined;
    this.pax = undefined;
    const type: TarEntryType =
      typeFlag === '0' || typeFlag === '\0' || typeFlag === '7'
        ? 'file'
        : typeFlag === '5'
          ? 'directory'
          : typeFlag === '2'
            ? 'symlink'
            : typeFlag === '1'
              ? 'hardlink'
              : 'other';
    if (type !== 'file') size = type === 'other' ? size : 0;
    this.current = { name, type, size, mode: readNumber(block, 100, 8), linkName: readString(block, 157, 100) };
    this.handlers.onEntry(this.current);
    this.startMember(size, 'data');
  }

  private startMember(size: number, state: 'data' | 'meta'): void {
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    this.state = state;
    if (size === 0) this.finishMember();
  }

  private finishMember(): void {
    if (this.state === 'meta') {
      const meta = this.meta!;
      if (meta.kind === 'longname') this.longName = readString(meta.data, 0, meta.data.length);
      else if (meta.kind === 'pax') this.pax = parsePax(meta.data);
      this.meta = undefined;
    } else {
      this.handlers.onEntryEnd();
      this.current = undefined;
    }
    this.state = this.padding > 0 ? 'padding' : 'header';
  }
}

/**
 * Reads a whole (uncompressed) tar archive in memory: every regular file with its bytes. Directories are
 * skipped; links are rejected, since following them could write outside the target.
 */
export function readTar({
  bytes,
  archiveName,
}: {
  bytes: Uint8Array;
  archiveName: string;
}): Array<{ name: string; bytes: Uint8Array }> {
  const files: Array<{ name: string; bytes: Uint8Array }> = [];
  let current: { name: string; bytes: Uint8Array; fill: number } | undefined;
  const parser = new TarParser({
    archiveName,
    handlers: {
      onEntry(entry) {
        if (entry.type === 'symlink' || entry.type === 'hardlink')
          throw new Error(`${archiveName}: member '${entry.name}' is a link; links are not extracted`);
        if (entry.type === 'file' && entry.size > bytes.length) {
          // Checked before allocating: a header claiming 2^40 bytes is corrupt, not a reason to ask for a terabyte.
          throw new Error(
            `${archiveName}: truncated or corrupt tar archive: member '${entry.name}' claims ${formatBytes(entry.size)}, the whole archive is ${formatBytes(bytes.length)}`,
          );
        }
        current = entry.type === 'file' ? { name: entry.name, bytes: new Uint8Array(entry.size), fill: 0 } : undefined;
      },
      onData(chunk) {
        if (current) {
          current.bytes.set(chunk, current.fill);
          current.fill += chunk.length;
        }
      },
      onEntryEnd() {
        if (current) files.push({ name: current.name, bytes: current.bytes });
        current = undefined;
      },
    },
  });
  parser.push(bytes);
  parser.end();
  return files;
}
