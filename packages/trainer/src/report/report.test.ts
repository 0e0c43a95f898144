import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../io/checksum';
import { renderCurvesPng } from './plot';
import { encodeRgbPng } from './png';
import { formatProgressLine } from './progress';

describe('encodeRgbPng', () => {
  it('writes a valid PNG: signature, IHDR, chunk CRCs and a zlib stream of the filtered rows', () => {
    const rgb = Uint8Array.from({ length: 3 * 2 * 3 }, (_, index) => index * 10);
    const png = encodeRgbPng({ rgb, width: 3, height: 2 });
    expect(Array.from(png.slice(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const view = new DataView(png.buffer);
    let offset = 8;
    const chunks: Record<string, Uint8Array> = {};
    while (offset < png.length) {
      const length = view.getUint32(offset);
      const type = new TextDecoder().decode(png.slice(offset + 4, offset + 8));
      const data = png.slice(offset + 8, offset + 8 + length);
      expect(view.getUint32(offset + 8 + length)).toBe(crc32(png.slice(offset + 4, offset + 8 + length)));
      chunks[type] = data;
      offset += 12 + length;
    }
    expect(Object.keys(chunks)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const header = new DataView(chunks.IHDR!.buffer);
    expect([header.getUint32(0), header.getUint32(4), chunks.IHDR![8], chunks.IHDR![9]]).toEqual([3, 2, 8, 2]);
    const raw = inflateSync(chunks.IDAT!);
    expect(Array.from(raw)).toEqual([0, ...rgb.slice(0, 9), 0, ...rgb.slice(9)]);
  });

  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

describe('renderCurvesPng', () => {
  it('draws each curve in its colour on a white canvas', () => {
    const png = renderCurvesPng({ panels: [[{ name: 'loss', values: [3, 2, 1], color: [255, 0, 0] }]], panelWidth: 40, height: 30 });
    const idat = png.slice(8 + 25 + 8, png.length - 12 - 4);
    const raw = inflateSync(idat);
    let red = 0;
    for (let index = 0; index < raw.length - 2; index++) if (raw[index] === 255 && raw[index + 1] === 0 && raw[index + 2] === 0) red++;
    expect(red).toBeGreaterThan(10);
  });
});

describe('formatProgressLine', () => {
  it('shows epoch, bar, step, loss parts, throughput and ETA', () => {
    const line = formatProgressLine(
      { epoch: 3, epochs: 240, step: 50, stepsPerEpoch: 100, globalStep: 250, losses: { total: 1.5, ce: 0.5, kd: 1 }, learningRate: 0.05, imagesPerSecond: 812.34 },
      250,
    );
    expect(line).toBe('epoch 3/240 [##########----------] 50/100 loss 1.5000 (ce 0.5000 kd 1.0000) lr 0.0500 812.3 img/s ETA 4m10s');
  });
});
