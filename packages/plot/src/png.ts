/**
 * PNG encoding and decoding (8-bit, non-interlaced), with zlib from fflate and the packages' CRC-32.
 * Spec: PNG (Third Edition), W3C; CRC-32 is the ISO-HDLC polynomial 0xEDB88320 (reflected).
 */
import { unzlibSync, zlibSync } from 'fflate';
import { crc32 } from '@kd/internal';
import { assertImage, type RasterImage } from './image';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

const colorTypeOfChannels = { 1: 0, 3: 2, 4: 6 } as const;

/** Paeth predictor: the neighbour (left a, up b, up-left c) closest to a + b − c. */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Filter prediction for filter type `type` (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth). */
function predict(type: number, left: number, up: number, upLeft: number): number {
  switch (type) {
    case 0:
      return 0;
    case 1:
      return left;
    case 2:
      return up;
    case 3:
      return (left + up) >>> 1;
    default:
      return paeth(left, up, upLeft);
  }
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
 * Encodes an 8-bit gray, RGB or RGBA image as PNG. Each row gets the filter (None, Sub, Up, Average, Paeth)
 * with the smallest sum of |residual| (the libpng heuristic), then zlib level 9.
 *
 * @example
 * const bytes = encodePng({ width: 1, height: 1, channels: 3, data: new Uint8Array([255, 0, 0]) });
 */
export function encodePng(image: RasterImage): Uint8Array {
  const { width, height, channels, data } = assertImage('encodePng', 'image', image);
  const stride = width * channels;
  const filtered = new Uint8Array(height * (stride + 1));
  const candidate = new Uint8Array(stride);
  for (let row = 0; row < height; row++) {
    let bestCost = Infinity;
    const target = filtered.subarray(row * (stride + 1), (row + 1) * (stride + 1));
    for (let type = 0; type <= 4; type++) {
      let cost = 0;
      for (let index = 0; index < stride; index++) {
        const left = index >= channels ? (data[row * stride + index - channels] as number) : 0;
        const up = row > 0 ? (data[(row - 1) * stride + index] as number) : 0;
        const upLeft = row > 0 && index >= channels ? (data[(row - 1) * stride + index - channels] as number) : 0;
        const residual = ((data[row * stride + index] as number) - predict(type, left, up, upLeft)) & 0xff;
        candidate[index] = residual;
        cost += residual < 128 ? residual : 256 - residual;
      }
      if (cost < bestCost) {
        bestCost = cost;
        target[0] = type;
        target.set(candidate, 1);
      }
    }
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = colorTypeOfChannels[channels];
  // bytes 10–12: compression 0 (deflate), filter method 0, interlace 0
  const parts = [
    new Uint8Array(SIGNATURE),
    chunk('IHDR', header),
    chunk('IDAT', zlibSync(filtered, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Decodes a non-interlaced 8-bit PNG: gray (→ 1 channel), RGB (3), RGBA (4), gray+alpha and palette (→ RGB, or
 * RGBA when the palette has transparency). Every chunk's CRC is checked; corrupt, truncated or unsupported
 * files throw an Error that says what is wrong.
 *
 * @example
 * const image = decodePng(bytes); // { width, height, channels, data }
 */
export function decodePng(bytes: Uint8Array): RasterImage {
  const fn = 'decodePng';
  if (!(bytes instanceof Uint8Array)) throw new Error(`${fn}: bytes must be a Uint8Array`);
  if (bytes.length < 8 || SIGNATURE.some((value, index) => bytes[index] !== value)) {
    throw new Error(`${fn}: not a PNG file (bad signature)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let header: { width: number; height: number; bitDepth: number; colorType: number; interlace: number } | undefined;
  let palette: Uint8Array | undefined;
  let transparency: Uint8Array | undefined;
  const dataParts: Uint8Array[] = [];
  let ended = false;
  while (!ended) {
    if (offset + 12 > bytes.length) throw new Error(`${fn}: truncated file (chunk header at byte ${offset}, no IEND)`);
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    if (offset + 12 + length > bytes.length)
      throw new Error(`${fn}: truncated file (chunk ${type} needs ${length} bytes)`);
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    const storedCrc = view.getUint32(offset + 8 + length);
    const actualCrc = crc32(bytes.subarray(offset + 4, offset + 8 + length));
    if (storedCrc !== actualCrc) {
      throw new Error(
        `${fn}: CRC mismatch in chunk ${type} at byte ${offset} (stored ${storedCrc}, computed ${actualCrc})`,
      );
    }
    if (type === 'IHDR') {
      if (length !== 13) throw new Error(`${fn}: IHDR must be 13 bytes, got ${length}`);
      const ihdr = new DataView(body.buffer, body.byteOffset, 13);
      header = {
        width: ihdr.getUint32(0),
        height: ihdr.getUint32(4),
        bitDepth: body[8] as number,
        colorType: body[9] as number,
        interlace: body[12] as number,
      };
    } else if (type === 'PLTE') palette = body.slice();
    else if (type === 'tRNS') transparency = body.slice();
    else if (type === 'IDAT') dataParts.push(body);
    else if (type === 'IEND') ended = true;
    offset += 12 + length;
  }
  if (header === undefined) throw new Error(`${fn}: missing IHDR chunk`);
  const { width, height, bitDepth, colorType, interlace } = header;
  if (width === 0 || height === 0) throw new Error(`${fn}: empty image ${width}×${height}`);
  if (bitDepth !== 8) throw new Error(`${fn}: unsupported bit depth ${bitDepth} (only 8-bit PNGs are supported)`);
  if (interlace !== 0) throw new Error(`${fn}: interlaced PNGs are not supported`);
  const samplesOf: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
  const samples = samplesOf[colorType];
  if (samples === undefined) throw new Error(`${fn}: invalid colour type ${colorType}`);
  if (colorType === 3 && palette === undefined) throw new Error(`${fn}: palette image without a PLTE chunk`);
  if (dataParts.length === 0) throw new Error(`${fn}: missing IDAT chunk`);

  const compressed = new Uint8Array(dataParts.reduce((total, part) => total + part.length, 0));
  let position = 0;
  for (const part of dataParts) {
    compressed.set(part, position);
    position += part.length;
  }
  let raw: Uint8Array;
  try {
    raw = unzlibSync(compressed);
  } catch (error) {
    throw new Error(`${fn}: corrupt image data (zlib: ${(error as Error).message})`);
  }
  const stride = width * samples;
  if (raw.length < height * (stride + 1)) {
    throw new Error(`${fn}: image data holds ${raw.length} bytes, expected ${height * (stride + 1)} (truncated)`);
  }
  const pixels = new Uint8Array(height * stride);
  for (let row = 0; row < height; row++) {
    const type = raw[row * (stride + 1)] as number;
    if (type > 4) throw new Error(`${fn}: invalid filter type ${type} on row ${row}`);
    for (let index = 0; index < stride; index++) {
      const left = index >= samples ? (pixels[row * stride + index - samples] as number) : 0;
      const up = row > 0 ? (pixels[(row - 1) * stride + index] as number) : 0;
      const upLeft = row > 0 && index >= samples ? (pixels[(row - 1) * stride + index - samples] as number) : 0;
      pixels[row * stride + index] =
        ((raw[row * (stride + 1) + 1 + index] as number) + predict(type, left, up, upLeft)) & 0xff;
    }
  }
  if (colorType === 0) return { width, height, channels: 1, data: pixels };
  if (colorType === 2) return { width, height, channels: 3, data: pixels };
  if (colorType === 6) return { width, height, channels: 4, data: pixels };
  const count = width * height;
  if (colorType === 4) {
    const data = new Uint8Array(count * 4);
    for (let index = 0; index < count; index++) {
      const gray = pixels[index * 2] as number;
      data.set([gray, gray, gray, pixels[index * 2 + 1] as number], index * 4);
    }
    return { width, height, channels: 4, data };
  }
  const entries = (palette as Uint8Array).length / 3;
  const channels = transparency !== undefined ? 4 : 3;
  const data = new Uint8Array(count * channels);
  for (let index = 0; index < count; index++) {
    const entry = pixels[index] as number;
    if (entry >= entries) throw new Error(`${fn}: pixel ${index} uses palette entry ${entry}, palette has ${entries}`);
    for (let channel = 0; channel < 3; channel++)
      data[index * channels + channel] = (palette as Uint8Array)[entry * 3 + channel] as number;
    if (channels === 4) data[index * 4 + 3] = (transparency as Uint8Array)[entry] ?? 255;
  }
  return { width, height, channels, data };
}
