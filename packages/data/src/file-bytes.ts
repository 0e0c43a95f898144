/** Input of every reader: the file's bytes and the name errors should mention. */
import { gunzipSync } from 'fflate';
import { crc32 } from '@kd/internal';

export interface FileBytes {
  /** The file's content. */
  readonly bytes: Uint8Array;
  /** The file name (or path) quoted in errors. */
  readonly name: string;
}

/** Throws unless `file` is a {@link FileBytes}. */
export function assertFileBytes(fn: string, arg: string, file: unknown): FileBytes {
  const f = file as Partial<FileBytes> | null;
  if (f === null || typeof f !== 'object' || !(f.bytes instanceof Uint8Array) || typeof f.name !== 'string') {
    throw new Error(`${fn}: ${arg} must be { bytes: Uint8Array, name: string }`);
  }
  return f as FileBytes;
}

/** True when `bytes` start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompresses a gzip file, checking its trailer: the CRC-32 and the length mod 2^32 (fflate checks neither).
 */
export function gunzipFile(fn: string, file: FileBytes): Uint8Array {
  let out: Uint8Array;
  try {
    out = gunzipSync(file.bytes);
  } catch (error) {
    throw new Error(`${fn}: ${file.name}: corrupt or truncated gzip data (${(error as Error).message})`);
  }
  const n = file.bytes.length;
  if (n < 18) throw new Error(`${fn}: ${file.name}: truncated gzip file (${n} bytes)`);
  const trailer = new DataView(file.bytes.buffer, file.bytes.byteOffset + n - 8, 8);
  const expectedCrc = trailer.getUint32(0, true);
  const expectedSize = trailer.getUint32(4, true);
  if (expectedSize !== out.length % 4294967296) {
    throw new Error(
      `${fn}: ${file.name}: truncated or corrupt gzip data (trailer says ${expectedSize} bytes, decompressed ${out.length})`,
    );
  }
  const actualCrc = crc32(out);
  if (actualCrc !== expectedCrc) {
    throw new Error(
      `${fn}: ${file.name}: corrupt gzip data (CRC-32 ${hex(actualCrc)}, trailer says ${hex(expectedCrc)})`,
    );
  }
  return out;
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}

/** Decodes UTF-8 text and splits it into trimmed non-empty lines. */
export function textLines(bytes: Uint8Array): string[] {
  return new TextDecoder('utf-8')
    .decode(bytes)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * Reads a class-name file (one name per line: CIFAR's `batches.meta.txt`, `fine_label_names.txt`,
 * `coarse_label_names.txt`, STL-10's `class_names.txt`) and checks it has `expected` names.
 */
export function parseClassNames({ file, expected }: { file: FileBytes; expected: number }): string[] {
  assertFileBytes('parseClassNames', 'file', file);
  const names = textLines(file.bytes);
  if (names.length !== expected) {
    throw new Error(
      `parseClassNames: ${file.name}: expected ${expected} class names (one per line), found ${names.length}`,
    );
  }
  return names;
}
