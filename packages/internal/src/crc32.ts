/**
 * CRC-32 (IEEE 802.3, ISO-HDLC: the reflected polynomial 0xEDB88320 of zip, gzip and PNG). Slicing-by-8
 * (eight 256-entry tables, eight bytes per step): checkpoints of tens of megabytes are checked on every load.
 */
let tables: Uint32Array[] | undefined;

function crcTables(): Uint32Array[] {
  if (tables !== undefined) return tables;
  const first = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let value = byte;
    for (let bit = 0; bit < 8; bit++) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
    first[byte] = value >>> 0;
  }
  const built = [first];
  // built[k][b]: the CRC register after byte b followed by k zero bytes.
  for (let k = 1; k < 8; k++) {
    const previous = built[k - 1] as Uint32Array;
    const next = new Uint32Array(256);
    for (let byte = 0; byte < 256; byte++) {
      const value = previous[byte] as number;
      next[byte] = ((first[value & 0xff] as number) ^ (value >>> 8)) >>> 0;
    }
    built.push(next);
  }
  tables = built;
  return built;
}

/**
 * CRC-32 of `bytes`. Pass the previous result as `initial` to continue over a stream:
 * `crc32(b, crc32(a))` is the CRC of a followed by b.
 *
 * @example crc32(new TextEncoder().encode('123456789')) // 0xCBF43926
 */
export function crc32(bytes: Uint8Array, initial = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = crcTables() as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  let crc = (initial ^ 0xffffffff) >>> 0;
  let index = 0;
  const whole = bytes.length - (bytes.length % 8);
  for (; index < whole; index += 8) {
    const low =
      (crc ^
        ((bytes[index] as number) |
          ((bytes[index + 1] as number) << 8) |
          ((bytes[index + 2] as number) << 16) |
          ((bytes[index + 3] as number) << 24))) >>>
      0;
    crc =
      (t7[low & 0xff] as number) ^
      (t6[(low >>> 8) & 0xff] as number) ^
      (t5[(low >>> 16) & 0xff] as number) ^
      (t4[low >>> 24] as number) ^
      (t3[bytes[index + 4] as number] as number) ^
      (t2[bytes[index + 5] as number] as number) ^
      (t1[bytes[index + 6] as number] as number) ^
      (t0[bytes[index + 7] as number] as number);
  }
  for (; index < bytes.length; index++) crc = (t0[(crc ^ (bytes[index] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
