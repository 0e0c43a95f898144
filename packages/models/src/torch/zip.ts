/**
 * A zip reader for `torch.save` archives: the central directory (zip64 included), stored and deflate
 * members, CRC-32 checked. Sizes are checked against the archive before anything is allocated.
 */
import { inflateSync } from 'fflate';
import type { ErrorContext } from './errors';
import { crc32 } from '@kd/internal';

/** One member of the archive, located but not yet read. */
export interface ZipMember {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly crc32: number;
  readonly localHeaderOffset: number;
}

/** Deflate cannot expand more than 1032:1; a larger declared size is a lie (or a bomb). */
const maxDeflateRatio = 1032;
/** Members are read into one typed array. */
const maxMemberBytes = 2 ** 31 - 1;

export const zipSignature = [0x50, 0x4b, 0x03, 0x04] as const;

/** The members of the zip archive `bytes`, by name. */
export function readZipDirectory(bytes: Uint8Array, context: ErrorContext): Map<string, ZipMember> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (what: string): never => context.fail(`corrupt zip archive: ${what}`);
  // The end-of-central-directory record: 22 bytes plus a comment of up to 65535 bytes, at the end.
  let end = -1;
  for (let offset = bytes.length - 22; offset >= Math.max(0, bytes.length - 22 - 65535); offset--) {
    if (view.getUint32(offset, true) === 0x06054b50) {
      end = offset;
      break;
    }
  }
  if (end < 0)
    context.fail(`truncated or corrupt zip archive: no end-of-central-directory record in ${bytes.length} bytes`);
  let count = view.getUint16(end + 10, true);
  let directorySize = view.getUint32(end + 12, true);
  let directoryOffset = view.getUint32(end + 16, true);
  if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    // zip64: the locator sits right before the record and points at the zip64 end record.
    const locator = end - 20;
    if (locator < 0 || view.getUint32(locator, true) !== 0x07064b50)
      fail('zip64 end-of-central-directory locator missing');
    const record = readUint64(view, locator + 8, context);
    if (record + 56 > bytes.length || view.getUint32(record, true) !== 0x06064b50)
      fail('zip64 end-of-central-directory record missing');
    count = readUint64(view, record + 32, context);
    directorySize = readUint64(view, record + 40, context);
    directoryOffset = readUint64(view, record + 48, context);
  }
  if (directoryOffset + directorySize > bytes.length) {
    context.fail(
      `truncated zip archive: the central directory (${directorySize} bytes at ${directoryOffset}) ends past the end of the file (${bytes.length} bytes)`,
    );
  }
  const members = new Map<string, ZipMember>();
  let offset = directoryOffset;
  const directoryEnd = directoryOffset + directorySize;
  for (let index = 0; index < count; index++) {
    if (offset + 46 > directoryEnd || view.getUint32(offset, true) !== 0x02014b50)
      fail(`central directory entry ${index} is damaged`);
    const flags = view.getUint16(offset + 8, true);
    const method = view.getUint16(offset + 10, true);
    const crc = view.getUint32(offset + 16, true);
    let compressedSize = view.getUint32(offset + 20, true);
    let uncompressedSize = view.getUint32(offset + 24, true);
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    let localHeaderOffset = view.getUint32(offset + 42, true);
    const next = offset + 46 + nameLength + extraLength + commentLength;
    if (next > directoryEnd) fail(`central directory entry ${index} runs past the directory`);
    const name = new TextDecoder().decode(bytes.subarray(offset + 46, offset + 46 + nameLength));
    if (flags & 1) context.fail(`zip member '${name}' is encrypted`);
    // The zip64 extra field holds, in this order, whichever of the three sizes overflowed 32 bits.
    let extra = offset + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const tag = view.getUint16(extra, true);
      const size = view.getUint16(extra + 2, true);
      if (tag === 0x0001) {
        let field = extra + 4;
        if (uncompressedSize === 0xffffffff) {
          uncompressedSize = readUint64(view, field, context);
          field += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = readUint64(view, field, context);
          field += 8;
        }
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = readUint64(view, field, context);
      }
      extra += 4 + size;
    }
    members.set(name, { name, method, compressedSize, uncompressedSize, crc32: crc, localHeaderOffset });
    offset = next;
  }
  return members;
}

/** The uncompressed bytes of `member`, checked against its size and CRC-32. */
export function readZipMember(bytes: Uint8Array, member: ZipMember, context: ErrorContext): Uint8Array {
  const { name, localHeaderOffset, compressedSize, uncompressedSize } = member;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (localHeaderOffset + 30 > bytes.length || view.getUint32(localHeaderOffset, true) !== 0x04034b50) {
    context.fail(`corrupt zip archive: the local header of '${name}' is missing`);
  }
  const start =
    localHeaderOffset +
    30 +
    view.getUint16(localHeaderOffset + 26, true) +
    view.getUint16(localHeaderOffset + 28, true);
  if (start + compressedSize > bytes.length) {
    context.fail(
      `truncated zip archive: member '${name}' needs ${compressedSize} bytes at ${start}, the file has ${bytes.length}`,
    );
  }
  if (uncompressedSize > maxMemberBytes)
    context.fail(
      `zip member '${name}' declares ${uncompressedSize} bytes, more than the ${maxMemberBytes} a member may hold`,
    );
  const raw = bytes.subarray(start, start + compressedSize);
  let data: Uint8Array;
  if (member.method === 0) {
    if (compressedSize !== uncompressedSize)
      context.fail(`corrupt zip archive: stored member '${name}' has sizes ${compressedSize} and ${uncompressedSize}`);
    data = raw;
  } else if (member.method === 8) {
    if (uncompressedSize > maxDeflateRatio * compressedSize + 64) {
      context.fail(
        `corrupt zip archive: member '${name}' declares ${uncompressedSize} bytes from ${compressedSize} compressed, more than deflate can produce`,
      );
    }
    try {
      data = inflateSync(raw, { out: new Uint8Array(uncompressedSize) });
    } catch (error) {
      return context.fail(`corrupt zip archive: member '${name}' does not inflate (${(error as Error).message})`);
    }
    if (data.length !== uncompressedSize)
      context.fail(
        `corrupt zip archive: member '${name}' inflates to ${data.length} bytes, the directory says ${uncompressedSize}`,
      );
  } else {
    return context.fail(
      `zip member '${name}' uses compression method ${member.method}; only stored (0) and deflate (8) are supported`,
    );
  }
  const actual = crc32(data);
  if (actual !== member.crc32) {
    context.fail(
      `corrupt zip archive: member '${name}' has CRC-32 ${hex(actual)}, the directory says ${hex(member.crc32)}`,
    );
  }
  return data;
}

function readUint64(view: DataView, offset: number, context: ErrorContext): number {
  if (offset + 8 > view.byteLength) context.fail(`truncated zip archive: a 64-bit field at ${offset} is past the end`);
  const value = view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 2 ** 32;
  if (!Number.isSafeInteger(value))
    context.fail(`corrupt zip archive: 64-bit field ${value} at ${offset} is too large`);
  return value;
}

function hex(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}
