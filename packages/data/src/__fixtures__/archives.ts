/** A minimal ustar writer for tests: generates archives in the exact format the readers expect. */

export interface TarFixtureEntry {
  name: string;
  bytes?: Uint8Array;
  type?: 'file' | 'directory' | 'symlink';
  linkName?: string;
}

function writeString(block: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > length) throw new Error(`encodeTar: '${text}' does not fit ${length} bytes`);
  block.set(bytes, offset);
}

function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  writeString(block, offset, length, value.toString(8).padStart(length - 1, '0'));
}

function header(name: string, size: number, typeFlag: string, linkName = ''): Uint8Array {
  const block = new Uint8Array(512);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, typeFlag === '5' ? 0o755 : 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, 1_700_000_000);
  block[156] = typeFlag.charCodeAt(0);
  writeString(block, 157, 100, linkName);
  writeString(block, 257, 6, 'ustar');
  writeString(block, 263, 2, '00');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/** Encodes entries as a tar archive (GNU 'L' records for names over 100 bytes), ending with two zero blocks. */
export function encodeTar(entries: readonly TarFixtureEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const pushData = (data: Uint8Array) => {
    parts.push(data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) parts.push(new Uint8Array(pad));
  };
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const flag = type === 'file' ? '0' : type === 'directory' ? '5' : '2';
    const data = entry.bytes ?? new Uint8Array(0);
    if (new TextEncoder().encode(entry.name).length > 100) {
      const longName = new TextEncoder().encode(`${entry.name}\0`);
      parts.push(header('././@LongLink', longName.length, 'L'));
      pushData(longName);
    }
    parts.push(header(entry.name.slice(0, 100), type === 'file' ? data.length : 0, flag, entry.linkName));
    if (type === 'file') pushData(data);
  }
  parts.push(new Uint8Array(1024));
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
