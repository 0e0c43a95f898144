import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { crc32 } from './crc32';

/** The definition, one bit at a time (no tables): the reference for the slicing-by-8 implementation. */
function bitwiseCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const ascii = (text: string) => new TextEncoder().encode(text);

describeWithBackends('crc32', () => {
  it('gives the published check values', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii('a'))).toBe(0xe8b7be43);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it('matches the bitwise definition for every length around the 8-byte steps', () => {
    const bytes = Uint8Array.from({ length: 70 }, (_, index) => (index * 151 + 17) & 0xff);
    for (let length = 0; length <= bytes.length; length++) {
      expect(crc32(bytes.subarray(0, length)), `length ${length}`).toBe(bitwiseCrc32(bytes.subarray(0, length)));
    }
  });

  it('continues over a stream: crc32(b, crc32(a)) is the CRC of a followed by b', () => {
    const whole = Uint8Array.from({ length: 37 }, (_, index) => (index * 29) & 0xff);
    for (const cut of [0, 1, 8, 13, 37]) {
      expect(crc32(whole.subarray(cut), crc32(whole.subarray(0, cut)))).toBe(bitwiseCrc32(whole));
    }
  });
});
