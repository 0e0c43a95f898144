import { zlibSync } from 'fflate';
import { describeWithBackends, seededRandom } from '@kd/test-utils';
import { expect, it } from 'vitest';
import type { RasterImage } from './image';
import { crc32 } from '@kd/internal';
import { decodePng, encodePng } from './png';

function randomImage(width: number, height: number, channels: 1 | 3 | 4, seed: number): RasterImage {
  const random = seededRandom(seed);
  const data = Uint8Array.from({ length: width * height * channels }, () => Math.floor(256 * random()));
  return { width, height, channels, data };
}

/** A PNG assembled by hand (independently of encodePng): big-endian lengths, CRC over type + data. */
function handMadePng(
  width: number,
  height: number,
  colorType: number,
  filteredRows: number[][],
  extra: [string, number[]][] = [],
): Uint8Array {
  const bytes: number[] = [137, 80, 78, 71, 13, 10, 26, 10];
  const u32 = (value: number) => [(value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
  const addChunk = (type: string, data: ArrayLike<number>) => {
    const typeAndData = new Uint8Array([...Array.from(type, (c) => c.charCodeAt(0)), ...Array.from(data)]);
    bytes.push(...u32(data.length), ...typeAndData, ...u32(crc32(typeAndData)));
  };
  addChunk('IHDR', [...u32(width), ...u32(height), 8, colorType, 0, 0, 0]);
  for (const [type, data] of extra) addChunk(type, data);
  addChunk('IDAT', zlibSync(new Uint8Array(filteredRows.flat())));
  addChunk('IEND', []);
  return new Uint8Array(bytes);
}

describeWithBackends('PNG', () => {
  it.each([1, 3, 4] as const)('round-trips a random %i-channel image', (channels) => {
    const image = randomImage(7, 5, channels, channels);
    const decoded = decodePng(encodePng(image));
    expect(decoded.width).toBe(7);
    expect(decoded.height).toBe(5);
    expect(decoded.channels).toBe(channels);
    expect(Array.from(decoded.data)).toEqual(Array.from(image.data));
  });

  it('writes the signature and an IHDR with size, bit depth 8 and colour type 2 for RGB', () => {
    const bytes = encodePng(randomImage(300, 2, 3, 9));
    expect(Array.from(bytes.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    expect(String.fromCharCode(...bytes.subarray(12, 16))).toBe('IHDR');
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getUint32(16)).toBe(300);
    expect(view.getUint32(20)).toBe(2);
    expect(bytes[24]).toBe(8);
    expect(bytes[25]).toBe(2);
  });

  it('compresses a smooth gradient well (row filters + deflate)', () => {
    const width = 64;
    const data = new Uint8Array(width * width * 3);
    for (let y = 0; y < width; y++) for (let x = 0; x < width; x++) data.set([x * 4, y * 4, 128], (y * width + x) * 3);
    expect(encodePng({ width, height: width, channels: 3, data }).length).toBeLessThan(data.length / 20);
  });

  it('decodes every filter type of a hand-made gray image', () => {
    // Pixels: row 0 = [10, 20, 30], row 1 = [15, 5, 250], row 2 = [0, 100, 200], row 3 = [1, 2, 3].
    // Row 0 Sub: 10, 20−10, 30−20. Row 1 Paeth (a = left, b = up, c = up-left):
    //   x0: a=0,b=10,c=0 → p=10 → b → 15−10 = 5; x1: a=15,b=20,c=10 → p=25, pa=10,pb=5,pc=15 → b → 5−20 = −15 → 241;
    //   x2: a=5,b=30,c=20 → p=15, pa=10,pb=15,pc=5 → c → 250−20 = 230.
    // Row 2 Average ⌊(a + b)/2⌋: x0: (0+15)/2=7 → 0−7 → 249; x1: (0+5)/2=2 → 98; x2: (100+250)/2=175 → 25.
    // Row 3 Up: 1−0, 2−100 → 158, 3−200 → 59.
    const png = handMadePng(3, 4, 0, [
      [1, 10, 10, 10],
      [4, 5, 241, 230],
      [3, 249, 98, 25],
      [2, 1, 158, 59],
    ]);
    const image = decodePng(png);
    expect(image.channels).toBe(1);
    expect(Array.from(image.data)).toEqual([10, 20, 30, 15, 5, 250, 0, 100, 200, 1, 2, 3]);
  });

  it('expands palette (with tRNS) and gray+alpha images to RGBA', () => {
    const palette = handMadePng(
      2,
      1,
      3,
      [[0, 1, 0]],
      [
        ['PLTE', [255, 0, 0, 0, 0, 255]],
        ['tRNS', [128]],
      ],
    );
    expect(Array.from(decodePng(palette).data)).toEqual([0, 0, 255, 255, 255, 0, 0, 128]);
    const grayAlpha = handMadePng(1, 1, 4, [[0, 77, 9]]);
    expect(Array.from(decodePng(grayAlpha).data)).toEqual([77, 77, 77, 9]);
  });

  it('rejects corrupt, truncated and unsupported files with a clear message', () => {
    const good = encodePng(randomImage(4, 4, 3, 1));
    const flipped = good.slice();
    flipped[45] = (flipped[45] as number) ^ 0xff; // inside the IDAT data (IDAT type ends at byte 40)
    expect(() => decodePng(flipped)).toThrow(/decodePng: CRC mismatch in chunk IDAT/);
    expect(() => decodePng(good.subarray(0, good.length - 20))).toThrow(/decodePng: truncated file/);
    expect(() => decodePng(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))).toThrow('decodePng: not a PNG file');
    const sixteenBit = handMadePng(1, 1, 0, [[0, 0, 0]]);
    sixteenBit[24] = 16;
    const view = new DataView(sixteenBit.buffer);
    view.setUint32(29, crc32(sixteenBit.subarray(12, 29)));
    expect(() => decodePng(sixteenBit)).toThrow('decodePng: unsupported bit depth 16');
  });

  it('rejects an image whose data does not match its size', () => {
    expect(() => encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(5) })).toThrow(
      'encodePng: image.data has 5 bytes, width·height·channels = 12',
    );
  });
});
