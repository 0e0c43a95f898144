/**
 * A small writer of `torch.save` files (zip with stored members, and the legacy format) for the bad-input
 * tests and the load benchmark: pickle protocol 2 with the opcodes PyTorch emits. The fixtures made by
 * PyTorch itself (src/__fixtures__/torch) are what the readers are checked against; this writer only builds
 * variants of them (corruptions, wrappers) and files too large to commit.
 */
import { crc32 } from '@kd/internal';

export type PickleInput =
  | null
  | boolean
  | number
  | string
  | PickleInput[]
  | { tuple: PickleInput[] }
  | { dict: Array<[PickleInput, PickleInput]>; ordered?: boolean }
  | { tensor: TensorInput }
  | { raw: number[] };

export interface TensorInput {
  /** Row-major values; stored as float32 unless `dtype` says otherwise. */
  values: ArrayLike<number>;
  shape: number[];
  dtype?: 'float32' | 'int64';
}

/** A state dict from `{ name: tensor }`, as an OrderedDict. */
export function stateDict(tensors: Record<string, TensorInput>): PickleInput {
  return { dict: Object.entries(tensors).map(([name, tensor]) => [name, { tensor }]), ordered: true };
}

class Bytes {
  private chunks: number[] = [];
  byte(...values: number[]): this {
    this.chunks.push(...values);
    return this;
  }
  u32(value: number): this {
    return this.byte(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff);
  }
  u16(value: number): this {
    return this.byte(value & 0xff, (value >>> 8) & 0xff);
  }
  u64(value: number): this {
    return this.u32(value % 2 ** 32).u32(Math.floor(value / 2 ** 32));
  }
  bytes(values: Uint8Array): this {
    for (const value of values) this.chunks.push(value);
    return this;
  }
  text(value: string): this {
    return this.bytes(new TextEncoder().encode(value));
  }
  get length(): number {
    return this.chunks.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** Pickles `value` (protocol 2); tensors become storages appended to `storages`, keyed '0', '1', …. */
export function pickle(
  value: PickleInput,
  storages: Array<{ key: string; dtype: 'float32' | 'int64'; data: Uint8Array; numel: number }>,
  legacy: boolean,
): Uint8Array {
  const out = new Bytes().byte(0x80, 2);
  const unicode = (text: string): void => {
    const encoded = new TextEncoder().encode(text);
    out.byte(0x58).u32(encoded.length).bytes(encoded);
  };
  const write = (item: PickleInput): void => {
    if (item === null) out.byte(0x4e);
    else if (item === true) out.byte(0x88);
    else if (item === false) out.byte(0x89);
    else if (typeof item === 'number') {
      if (Number.isInteger(item) && item >= -(2 ** 31) && item < 2 ** 31) out.byte(0x4a).u32(item >>> 0);
      else {
        const view = new DataView(new ArrayBuffer(8));
        view.setFloat64(0, item, false);
        out.byte(0x47).bytes(new Uint8Array(view.buffer));
      }
    } else if (typeof item === 'string') unicode(item);
    else if (Array.isArray(item)) {
      out.byte(0x5d, 0x28);
      item.forEach(write);
      out.byte(0x65);
    } else if ('raw' in item) out.byte(...item.raw);
    else if ('tuple' in item) {
      out.byte(0x28);
      item.tuple.forEach(write);
      out.byte(0x74);
    } else if ('dict' in item) {
      if (item.ordered === true) out.text('ccollections\nOrderedDict\n').byte(0x29, 0x52);
      else out.byte(0x7d);
      out.byte(0x28);
      for (const [key, entry] of item.dict) {
        write(key);
        write(entry);
      }
      out.byte(0x75);
    } else {
      const { values, shape, dtype = 'float32' } = item.tensor;
      const key = String(storages.length);
      const size = dtype === 'float32' ? 4 : 8;
      const data = new Uint8Array(values.length * size);
      const view = new DataView(data.buffer);
      for (let index = 0; index < values.length; index++) {
        if (dtype === 'float32') view.setFloat32(index * size, values[index] as number, true);
        else view.setBigInt64(index * size, BigInt(values[index] as number), true);
      }
      storages.push({ key, dtype, data, numel: values.length });
      const strides = shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
      out.text('ctorch._utils\n_rebuild_tensor_v2\n').byte(0x28);
      // Persistent id ('storage', type, key, location, numel[, view_metadata]).
      out.byte(0x28);
      unicode('storage');
      out.text(dtype === 'float32' ? 'ctorch\nFloatStorage\n' : 'ctorch\nLongStorage\n');
      unicode(key);
      unicode('cpu');
      write(values.length);
      if (legacy) out.byte(0x4e);
      out.byte(0x74, 0x51);
      write(0);
      write({ tuple: shape });
      write({ tuple: strides });
      write(false);
      out.text('ccollections\nOrderedDict\n').byte(0x29, 0x52);
      out.byte(0x74, 0x52);
    }
  };
  write(value);
  return out.byte(0x2e).done();
}

/** A zip archive of stored members (what torch.save writes, minus its alignment padding). */
export function zipArchive(members: Array<{ name: string; data: Uint8Array }>): Uint8Array {
  const out = new Bytes();
  const directory = new Bytes();
  for (const { name, data } of members) {
    const encodedName = new TextEncoder().encode(name);
    const offset = out.length;
    const crc = crc32(data);
    out
      .u32(0x04034b50)
      .u16(20)
      .u16(0)
      .u16(0)
      .u16(0)
      .u16(0)
      .u32(crc)
      .u32(data.length)
      .u32(data.length)
      .u16(encodedName.length)
      .u16(0)
      .bytes(encodedName)
      .bytes(data);
    directory.u32(0x02014b50).u16(20).u16(20).u16(0).u16(0).u16(0).u16(0).u32(crc).u32(data.length).u32(data.length);
    directory.u16(encodedName.length).u16(0).u16(0).u16(0).u16(0).u32(0).u32(offset).bytes(encodedName);
  }
  const directoryOffset = out.length;
  const directoryBytes = directory.done();
  out.bytes(directoryBytes);
  out
    .u32(0x06054b50)
    .u16(0)
    .u16(0)
    .u16(members.length)
    .u16(members.length)
    .u32(directoryBytes.length)
    .u32(directoryOffset)
    .u16(0);
  return out.done();
}

/** `torch.save(value, f)` in the zip format. */
export function torchSaveZip(value: PickleInput, archiveName = 'archive'): Uint8Array {
  const storages: Parameters<typeof pickle>[1] = [];
  const data = pickle(value, storages, false);
  return zipArchive([
    { name: `${archiveName}/data.pkl`, data },
    ...storages.map((storage) => ({ name: `${archiveName}/data/${storage.key}`, data: storage.data })),
    { name: `${archiveName}/version`, data: new TextEncoder().encode('3\n') },
  ]);
}

/** `torch.save(value, f, _use_new_zipfile_serialization=False)`. */
export function torchSaveLegacy(value: PickleInput): Uint8Array {
  const storages: Parameters<typeof pickle>[1] = [];
  const main = pickle(value, storages, true);
  const magic = pickle({ raw: [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19] }, [], true);
  const protocol = pickle(1001, [], true);
  const systemInfo = pickle(
    {
      dict: [
        ['protocol_version', 1001],
        ['little_endian', true],
        [
          'type_sizes',
          {
            dict: [
              ['short', 2],
              ['int', 4],
              ['long', 4],
            ],
          },
        ],
      ],
    },
    [],
    true,
  );
  const keys = pickle(
    storages.map((storage) => storage.key),
    [],
    true,
  );
  const out = new Bytes().bytes(magic).bytes(protocol).bytes(systemInfo).bytes(main).bytes(keys);
  for (const storage of storages) out.u64(storage.numel).bytes(storage.data);
  return out.done();
}
