/**
 * The three checkpoint formats people have, read into a tree of plain values whose tensors are lazy views
 * into the file's bytes:
 * - `torch.save` zip (PyTorch ≥ 1.6): `<root>/data.pkl` whose persistent ids name `<root>/data/<key>`;
 * - legacy (PyTorch < 1.6): magic number, protocol and system-info pickles, the object pickle, the pickled
 *   list of storage keys, then each storage as an int64 element count and its raw bytes;
 * - safetensors: u64 little-endian header length, JSON header, raw little-endian data.
 */
import type { ErrorContext } from './errors';
import { unpickle, PickleGlobal, type PickleValue } from './pickle';
import {
  checkedTensor,
  contiguousStrides,
  elementSize,
  maxElements,
  type StorageRef,
  type TorchDtype,
  type TorchTensor,
} from './tensor';
import { readZipDirectory, readZipMember, zipSignature } from './zip';

export type CheckpointFormat = 'zip' | 'legacy' | 'safetensors';

export interface Checkpoint {
  format: CheckpointFormat;
  /** What `torch.load` would return (a dict for safetensors), tensors as {@link TorchTensor}. */
  root: PickleValue;
}

/** Reads `bytes` as whichever of the three formats it is. */
export function readCheckpoint(bytes: Uint8Array, context: ErrorContext): Checkpoint {
  if (bytes.length >= 4 && zipSignature.every((byte, index) => bytes[index] === byte))
    return { format: 'zip', root: readZipCheckpoint(bytes, context) };
  if (bytes.length >= 2 && bytes[0] === 0x80 && (bytes[1] as number) >= 2 && (bytes[1] as number) <= 5) {
    return { format: 'legacy', root: readLegacyCheckpoint(bytes, context) };
  }
  if (bytes.length >= 9 && bytes[8] === 0x7b) return { format: 'safetensors', root: readSafetensors(bytes, context) };
  if (bytes.length < 9) return context.fail(`not a checkpoint: only ${bytes.length} bytes`);
  return context.fail('not a checkpoint: neither a torch.save zip, a legacy torch.save pickle nor a safetensors file');
}

/** Parses a storage persistent id `('storage', storage_type, key, location, numel, …)`. */
function storageId(
  pid: PickleValue,
  context: ErrorContext,
): { dtype: TorchDtype; key: string; numel: number; view: PickleValue } {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5)
    return context.fail('corrupt pickle: a persistent id that is not a storage');
  const [, type, key, , numel, view] = pid;
  if (!(type instanceof PickleGlobal) || type.storageDtype === undefined)
    return context.fail('corrupt pickle: a storage without a storage type');
  if (typeof key !== 'string') return context.fail('corrupt pickle: a storage key that is not a string');
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0)
    return context.fail(`corrupt pickle: storage ${key} has an invalid size ${String(numel)}`);
  if (numel > maxElements) return context.fail(`storage ${key} has ${numel} elements, more than one tensor may hold`);
  return { dtype: type.storageDtype, key, numel, view: view ?? null };
}

function readZipCheckpoint(bytes: Uint8Array, context: ErrorContext): PickleValue {
  const members = readZipDirectory(bytes, context);
  const pickleName = [...members.keys()].find((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickleName === undefined)
    return context.fail(
      `zip archive has no <name>/data.pkl member: not a torch.save checkpoint (members: ${[...members.keys()].slice(0, 5).join(', ')})`,
    );
  const root = pickleName.slice(0, -'data.pkl'.length);
  const byteOrder = members.get(`${root}byteorder`);
  if (byteOrder !== undefined) {
    const order = new TextDecoder().decode(readZipMember(bytes, byteOrder, context)).trim();
    if (order !== 'little')
      context.fail(`checkpoint was saved on a ${order}-endian machine; only little-endian checkpoints are supported`);
  }
  const storages = new Map<string, StorageRef>();
  const pickle = readZipMember(bytes, members.get(pickleName) as NonNullable<ReturnType<typeof members.get>>, context);
  const { value } = unpickle(
    pickle,
    0,
    (pid) => {
      const { dtype, key, numel } = storageId(pid, context);
      const existing = storages.get(key);
      if (existing !== undefined) return existing;
      const name = `${root}data/${key}`;
      const member = members.get(name);
      if (member === undefined)
        return context.fail(`truncated or corrupt checkpoint: storage member '${name}' is missing`);
      const expected = numel * elementSize[dtype];
      if (member.uncompressedSize < expected) {
        context.fail(
          `corrupt checkpoint: storage '${name}' holds ${member.uncompressedSize} bytes, ${numel} ${dtype} elements need ${expected}`,
        );
      }
      let cached: Uint8Array | undefined;
      const storage: StorageRef = {
        key,
        dtype,
        numel,
        bytes: () => (cached ??= readZipMember(bytes, member, context).subarray(0, expected)),
      };
      storages.set(key, storage);
      return storage;
    },
    context,
  );
  return value;
}

/** The legacy format's magic number, 0x1950a86a20f9469cfc6c, as the pickle's LONG1 gives it. */
const legacyMagic = 0x1950a86a20f9469cfc6cn;

function readLegacyCheckpoint(bytes: Uint8Array, context: ErrorContext): PickleValue {
  const noStorage = (): PickleValue => context.fail('corrupt legacy checkpoint: a storage in its header');
  const magic = unpickle(bytes, 0, noStorage, context);
  if (magic.value !== legacyMagic)
    context.fail("not a checkpoint: a pickle that does not start with torch.save's magic number");
  const protocol = unpickle(bytes, magic.end, noStorage, context);
  if (protocol.value !== 1001)
    context.fail(`unsupported legacy checkpoint protocol ${String(protocol.value)} (expected 1001)`);
  const systemInfo = unpickle(bytes, protocol.end, noStorage, context);
  if (systemInfo.value instanceof Map && systemInfo.value.get('little_endian') === false) {
    context.fail('checkpoint was saved on a big-endian machine; only little-endian checkpoints are supported');
  }
  interface Pending {
    dtype: TorchDtype;
    numel: number;
    data: Uint8Array | undefined;
  }
  const pending = new Map<string, Pending>();
  const storages = new Map<string, StorageRef>();
  const storageOf = (key: string, entry: Pending): StorageRef => {
    let storage = storages.get(key);
    if (storage === undefined) {
      storage = {
        key,
        dtype: entry.dtype,
        numel: entry.numel,
        bytes: () => entry.data ?? context.fail(`corrupt legacy checkpoint: storage ${key} has no data`),
      };
      storages.set(key, storage);
    }
    return storage;
  };
  const main = unpickle(
    bytes,
    systemInfo.end,
    (pid) => {
      const { dtype, key, numel, view } = storageId(pid, context);
      let entry = pending.get(key);
      if (entry === undefined) {
        entry = { dtype, numel, data: undefined };
        pending.set(key, entry);
      } else if (entry.dtype !== dtype) {
        context.fail(`corrupt legacy checkpoint: storage ${key} is both ${entry.dtype} and ${dtype}`);
      }
      const storage = storageOf(key, entry);
      if (view === null) return storage;
      // (view_key, offset, size): a slice of the root storage (PyTorch < 0.4).
      if (!Array.isArray(view) || typeof view[1] !== 'number' || typeof view[2] !== 'number')
        return context.fail(`corrupt legacy checkpoint: storage ${key} has a malformed view`);
      const [viewKey, offset, size] = view as [PickleValue, number, number];
      if (offset < 0 || size < 0 || offset + size > numel)
        context.fail(`corrupt legacy checkpoint: storage view ${String(viewKey)} lies outside storage ${key}`);
      return {
        key: String(viewKey),
        dtype,
        numel: size,
        bytes: () => storage.bytes().subarray(offset * elementSize[dtype], (offset + size) * elementSize[dtype]),
      };
    },
    context,
  );
  const keys = unpickle(bytes, main.end, noStorage, context);
  if (!Array.isArray(keys.value) || !keys.value.every((key) => typeof key === 'string'))
    context.fail('corrupt legacy checkpoint: the storage key list is not a list of strings');
  let offset = keys.end;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keys.value as string[]) {
    const entry = pending.get(key);
    if (entry === undefined)
      return context.fail(`corrupt legacy checkpoint: data for storage ${key}, which no tensor uses`);
    if (offset + 8 > bytes.length)
      context.fail(
        `truncated legacy checkpoint: the data of storage ${key} should start at byte ${offset}, the file has ${bytes.length}`,
      );
    const count = view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 2 ** 32;
    if (count !== entry.numel)
      context.fail(
        `corrupt legacy checkpoint: storage ${key} has ${count} elements in the data, ${entry.numel} in the pickle`,
      );
    const size = count * elementSize[entry.dtype];
    if (offset + 8 + size > bytes.length) {
      context.fail(
        `truncated legacy checkpoint: storage ${key} needs ${size} bytes at ${offset + 8}, the file has ${bytes.length}`,
      );
    }
    entry.data = bytes.subarray(offset + 8, offset + 8 + size);
    offset += 8 + size;
  }
  const missing = [...pending.keys()].filter((key) => pending.get(key)?.data === undefined);
  if (missing.length > 0)
    context.fail(`truncated legacy checkpoint: no data for storage(s) ${missing.slice(0, 5).join(', ')}`);
  return main.value;
}

const safetensorsDtypes: Record<string, TorchDtype> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

export const safetensorsCodes: Partial<Record<TorchDtype, string>> = Object.fromEntries(
  Object.entries(safetensorsDtypes).map(([code, dtype]) => [dtype, code]),
);

/** The safetensors reference implementation refuses headers above 100 MB. */
const maxHeaderBytes = 100_000_000;

function readSafetensors(bytes: Uint8Array, context: ErrorContext): Map<string, TorchTensor> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength > bytes.length - 8) {
    context.fail(
      `corrupt safetensors file: the header length ${headerLength} runs past the end of the file (${bytes.length} bytes)`,
    );
  }
  if (headerLength > maxHeaderBytes)
    context.fail(`corrupt safetensors file: a header of ${headerLength} bytes (at most ${maxHeaderBytes})`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    return context.fail(`corrupt safetensors file: the header is not valid JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    return context.fail('corrupt safetensors file: the header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, TorchTensor>();
  for (const [key, entry] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') continue;
    const {
      dtype: code,
      shape,
      data_offsets: offsets,
    } = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof code === 'string' ? safetensorsDtypes[code] : undefined;
    if (dtype === undefined)
      return context.fail(`safetensors tensor '${key}' has unsupported dtype ${JSON.stringify(code)}`);
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((value) => Number.isSafeInteger(value) && value >= 0)
    ) {
      return context.fail(
        `corrupt safetensors file: tensor '${key}' has invalid data_offsets ${JSON.stringify(offsets)}`,
      );
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin || end > dataLength) {
      context.fail(
        `corrupt or truncated safetensors file: tensor '${key}' spans bytes ${begin}..${end} of a ${dataLength}-byte data section`,
      );
    }
    const size = elementSize[dtype];
    if ((end - begin) % size !== 0)
      context.fail(
        `corrupt safetensors file: tensor '${key}' has ${end - begin} bytes, not a whole number of ${dtype} elements`,
      );
    if (!Array.isArray(shape) || !shape.every((value) => Number.isSafeInteger(value) && value >= 0)) {
      return context.fail(`corrupt safetensors file: tensor '${key}' has an invalid shape ${JSON.stringify(shape)}`);
    }
    const numel = (shape as number[]).reduce((product, value) => product * value, 1);
    if (numel * size !== end - begin) {
      context.fail(
        `corrupt safetensors file: tensor '${key}' of shape [${shape.join(', ')}] needs ${numel * size} bytes, its data_offsets give ${end - begin}`,
      );
    }
    const storage: StorageRef = { key, dtype, numel, bytes: () => bytes.subarray(dataStart + begin, dataStart + end) };
    tensors.set(key, checkedTensor(context, key, storage, 0, shape, contiguousStrides(shape as number[])));
  }
  return tensors;
}
