import { crc32 } from '../io/checksum';

/** Adler-32 of `bytes` (the zlib stream checksum). */
function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let index = 0; index < bytes.length; index++) {
    a = (a + (bytes[index] as number)) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** A zlib stream of stored (uncompressed) deflate blocks: valid everywhere, no compressor needed. */
function zlibStored(raw: Uint8Array): Uint8Array {
  const blockSize = 65535;
  const blocks = Math.max(1, Math.ceil(raw.length / blockSize));
  const out = new Uint8Array(2 + blocks * 5 + raw.length + 4);
  out[0] = 0x78;
  out[1] = 0x01;
  let offset = 2;
  for (let block = 0; block < blocks; block++) {
    const start = block * blockSize;
    const length = Math.min(blockSize, raw.length - start);
    out[offset++] = block === blocks - 1 ? 1 : 0;
    out[offset++] = length & 0xff;
    out[offset++] = length >>> 8;
    out[offset++] = ~length & 0xff;
    out[offset++] = (~length >>> 8) & 0xff;
    out.set(raw.subarray(start, start + length), offset);
    offset += length;
  }
  const checksum = adler32(raw);
  out[offset++] = checksum >>> 24;
  out[offset++] = (checksum >>> 16) & 0xff;
  out[offset++] = (checksum >>> 8) & 0xff;
  out[offset++] = checksum & 0xff;
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let index = 0; index < 4; index++) out[4 + index] = type.charCodeAt(index);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encodes `[height, width, 3]` RGB bytes as a PNG (8-bit truecolour, filter 0, stored deflate).
 *
 * @example
 * const png = encodeRgbPng({ rgb: new Uint8Array(2 * 2 * 3), width: 2, height: 2 });
 */
export function encodeRgbPng({ rgb, width, height }: { rgb: Uint8Array; width: number; height: number }): Uint8Array {
  if (rgb.length !== width * height * 3) {
    throw new Error(`encodeRgbPng: rgb has ${rgb.length} bytes, expected width·height·3 = ${width * height * 3}`);
  }
  const raw = new Uint8Array(height * (1 + width * 3));
  for (let row = 0; row < height; row++) {
    raw[row * (1 + width * 3)] = 0;
    raw.set(rgb.subarray(row * width * 3, (row + 1) * width * 3), row * (1 + width * 3) + 1);
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8;
  header[9] = 2;
  const parts = [
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    chunk('IHDR', header),
    chunk('IDAT', zlibStored(raw)),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
