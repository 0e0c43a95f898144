/**
 * Every refusal of loadTorchStateDict: mismatched keys and shapes (naming the key and the checkpoint's
 * architecture), a pickle that asks for os.system, truncated and corrupt files, sizes too large to
 * allocate, wrappers and options; and nothing of the model changes when a load fails.
 */
import { describeWithBackends, tf } from '@kd/test-utils';
import { deflateSync } from 'fflate';
import { expect, it } from 'vitest';
import { fixtureBytes } from '../../test/torch-fixtures';
import {
  stateDict,
  torchSaveLegacy,
  torchSaveZip,
  zipArchive,
  type PickleInput,
  type TensorInput,
} from '../../test/torch-writer';
import { createModel } from '../registry';
import type { ZooModel } from '../zoo-model';
import { torchShape } from './layout';
import { loadTorchStateDict } from './load';

/** The model's variables as a PyTorch state dict (PyTorch layouts), with `change` applied per name. */
function stateDictOf(
  model: ZooModel,
  change: (name: string, tensor: TensorInput) => TensorInput | undefined = (_, tensor) => tensor,
): Record<string, TensorInput> {
  const tensors: Record<string, TensorInput> = {};
  for (const { name, variable } of model.namedVariables) {
    const rank = variable.shape.length;
    const permutation = rank === 4 ? [3, 2, 0, 1] : rank === 2 ? [1, 0] : [0];
    const values = tf.tidy(() => tf.transpose(variable, permutation).dataSync() as Float32Array);
    const changed = change(name, { values: Array.from(values), shape: torchShape(variable.shape) });
    if (changed !== undefined) tensors[name] = changed;
  }
  return tensors;
}

function snapshot(model: ZooModel): number[][] {
  return model.namedVariables.map(({ variable }) => Array.from(variable.dataSync()));
}

describeWithBackends('loadTorchStateDict: bad input', () => {
  it('reads a state dict written from the model itself back exactly (zip, legacy, deflated zip members)', () => {
    const source = createModel('resnet8', { numClasses: 3, seed: 1 });
    const target = createModel('resnet8', { numClasses: 3, seed: 2 });
    const tensors = stateDictOf(source);
    const zip = torchSaveZip({
      dict: [
        ['model', stateDict(tensors)],
        ['epoch', 240],
      ],
    });
    for (const bytes of [zip, torchSaveLegacy(stateDict(tensors)), deflatedCopy(zip)]) {
      tf.tidy(() => target.namedVariables.forEach(({ variable }) => variable.assign(tf.zerosLike(variable))));
      loadTorchStateDict(target, bytes);
      expect(snapshot(target)).toEqual(snapshot(source));
    }
    source.dispose();
    target.dispose();
  });

  it('names the checkpoint architecture and both shapes when it is another zoo model', () => {
    const model = createModel('resnet20', { numClasses: 10 });
    expect(() => loadTorchStateDict(model, fixtureBytes('resnet8x4.zip.pth.gz'))).toThrow(
      'loadTorchStateDict: resnet8x4 checkpoint into resnet20: conv1.weight is [32, 3, 3, 3], the model wants [16, 3, 3, 3]; layer1.0.conv1.weight is [64, 32, 3, 3], the model wants [16, 16, 3, 3]; layer1.0.conv2.weight is [64, 64, 3, 3], the model wants [16, 16, 3, 3]; … (46 shapes differ)',
    );
    const hundred = createModel('resnet8', { numClasses: 100 });
    expect(() => loadTorchStateDict(hundred, fixtureBytes('resnet8.safetensors.gz'))).toThrow(
      'loadTorchStateDict: resnet8 checkpoint (10 classes) into resnet8 (100 classes): fc.weight is [10, 64], the model wants [100, 64]; fc.bias is [10], the model wants [100]',
    );
    // Same keys as resnet8 (depth 8) but not its shapes: resnet8 checkpoint into resnet8x4 names both.
    const wide = createModel('resnet8x4', { numClasses: 10 });
    expect(() => loadTorchStateDict(wide, fixtureBytes('resnet8.bare.pth.gz'))).toThrow(
      /^loadTorchStateDict: resnet8 checkpoint into resnet8x4: conv1\.weight is \[16, 3, 3, 3\], the model wants \[32, 3, 3, 3\]/,
    );
    model.dispose();
    hundred.dispose();
    wide.dispose();
  });

  it('refuses missing and unexpected keys by name; strict: false reports them instead', () => {
    const model = createModel('resnet8', { numClasses: 3, seed: 1 });
    const before = snapshot(model);
    const missing = torchSaveZip(
      stateDict(stateDictOf(model, (name, tensor) => (name === 'fc.bias' ? undefined : tensor))),
    );
    expect(() => loadTorchStateDict(model, missing)).toThrow(
      'loadTorchStateDict: checkpoint into resnet8: the checkpoint lacks 1 key(s) the model has: fc.bias',
    );
    const extra = stateDictOf(model);
    extra['projector.weight'] = { values: [1, 2], shape: [2] };
    expect(() => loadTorchStateDict(model, torchSaveZip(stateDict(extra)))).toThrow(
      'loadTorchStateDict: checkpoint into resnet8: the checkpoint holds 1 key(s) the model does not have: projector.weight (strict: false ignores them)',
    );
    expect(snapshot(model)).toEqual(before);
    const result = loadTorchStateDict(model, torchSaveZip(stateDict(extra)), { strict: false });
    expect(result.unexpectedKeys).toEqual(['projector.weight']);
    const partial = loadTorchStateDict(model, missing, { strict: false });
    expect(partial.missingKeys).toEqual(['fc.bias']);
    expect(partial.loadedKeys).not.toContain('fc.bias');
    model.dispose();
  });

  it('changes nothing when any tensor is bad: NaN, an integer dtype', () => {
    const model = createModel('resnet8', { numClasses: 3, seed: 1 });
    const other = createModel('resnet8', { numClasses: 3, seed: 2 });
    const before = snapshot(model);
    // Every tensor but the last is valid and would change the model.
    const nan = stateDictOf(other, (name, tensor) =>
      name === 'fc.bias' ? { ...tensor, values: [0, Number.NaN, 0] } : tensor,
    );
    expect(() => loadTorchStateDict(model, torchSaveZip(stateDict(nan)))).toThrow(
      "loadTorchStateDict: tensor 'fc.bias' holds NaN at element 1",
    );
    const integer = stateDictOf(other, (name, tensor) =>
      name === 'fc.bias' ? { ...tensor, values: [3, -1, 2], dtype: 'int64' } : tensor,
    );
    expect(() => loadTorchStateDict(model, torchSaveLegacy(stateDict(integer)))).toThrow(
      "loadTorchStateDict: tensor 'fc.bias' is int64; the model's variables need floating-point values",
    );
    expect(snapshot(model)).toEqual(before);
    model.dispose();
    other.dispose();
  });

  it('refuses a pickle that asks for os.system (zip and legacy) without calling anything', () => {
    const model = createModel('resnet8', { numClasses: 3 });
    // GLOBAL 'posix system', ('echo owned',), REDUCE: what pickling os.system('echo owned') gives on Linux.
    const payload = [
      0x80,
      0x02,
      ...ascii('cposix\nsystem\n'),
      0x58,
      10,
      0,
      0,
      0,
      ...ascii('echo owned'),
      0x85,
      0x52,
      0x2e,
    ];
    const zip = zipArchive([{ name: 'archive/data.pkl', data: Uint8Array.from(payload) }]);
    expect(() => loadTorchStateDict(model, zip)).toThrow(
      "loadTorchStateDict: the pickle asks for the global 'posix.system', which is not allowed: only tensor and storage rebuild functions, collections.OrderedDict, torch.Size and numpy scalars are (refusing to run code from a checkpoint)",
    );
    const legacy = Uint8Array.from([
      0x80,
      0x02,
      ...ascii('cos\nsystem\n'),
      0x58,
      10,
      0,
      0,
      0,
      ...ascii('echo owned'),
      0x85,
      0x52,
      0x2e,
    ]);
    expect(() => loadTorchStateDict(model, legacy)).toThrow(
      "the pickle asks for the global 'os.system', which is not allowed",
    );
    // builtins.eval via STACK_GLOBAL (protocol 4) is refused the same way.
    const stackGlobal = Uint8Array.from([
      0x80,
      0x04,
      0x8c,
      8,
      ...ascii('builtins'),
      0x8c,
      4,
      ...ascii('eval'),
      0x93,
      0x2e,
    ]);
    expect(() => loadTorchStateDict(model, zipArchive([{ name: 'a/data.pkl', data: stackGlobal }]))).toThrow(
      "global 'builtins.eval', which is not allowed",
    );
    model.dispose();
  });

  it('names what is wrong with truncated and corrupt files', () => {
    const model = createModel('resnet8', { numClasses: 10 });
    const zip = fixtureBytes('resnet8.zip.pth.gz');
    expect(() => loadTorchStateDict(model, zip.subarray(0, Math.floor(zip.length / 2)))).toThrow(
      `loadTorchStateDict: truncated or corrupt zip archive: no end-of-central-directory record in ${Math.floor(zip.length / 2)} bytes`,
    );
    const flipped = zip.slice();
    const member = findStorageByte(flipped);
    flipped[member] = (flipped[member] as number) ^ 0xff;
    expect(() => loadTorchStateDict(model, flipped)).toThrow(
      /^loadTorchStateDict: corrupt zip archive: member '\w+\/data\/\d+' has CRC-32 0x[0-9a-f]{8}, the directory says 0x[0-9a-f]{8}$/,
    );
    const legacy = fixtureBytes('resnet8.legacy.pth.gz');
    expect(() => loadTorchStateDict(model, legacy.subarray(0, legacy.length - 100))).toThrow(
      /^loadTorchStateDict: truncated legacy checkpoint: storage \d+ needs \d+ bytes at \d+, the file has \d+$/,
    );
    expect(() => loadTorchStateDict(model, legacy.subarray(0, 300))).toThrow(
      /^loadTorchStateDict: corrupt pickle at byte \d+: needs \d+ more bytes, the data ends at 300 \(truncated file\?\)$/,
    );
    // A safetensors header length past the end of the file.
    const header = new Uint8Array(24);
    new DataView(header.buffer).setUint32(0, 1_000_000, true);
    header[8] = 0x7b;
    expect(() => loadTorchStateDict(model, header)).toThrow(
      'loadTorchStateDict: corrupt safetensors file: the header length 1000000 runs past the end of the file (24 bytes)',
    );
    const safetensors = fixtureBytes('resnet8.safetensors.gz');
    expect(() => loadTorchStateDict(model, safetensors.subarray(0, safetensors.length - 4))).toThrow(
      /^loadTorchStateDict: corrupt or truncated safetensors file: tensor '[\w.]+' spans bytes \d+\.\.\d+ of a \d+-byte data section$/,
    );
    expect(() => loadTorchStateDict(model, new Uint8Array([1, 2, 3]))).toThrow(
      'loadTorchStateDict: not a checkpoint: only 3 bytes',
    );
    expect(() => loadTorchStateDict(model, new TextEncoder().encode('not a checkpoint at all'))).toThrow(
      'loadTorchStateDict: not a checkpoint: neither a torch.save zip, a legacy torch.save pickle nor a safetensors file',
    );
    model.dispose();
  });

  it('checks sizes before allocating: storages, tensor shapes, deflate sizes', () => {
    const model = createModel('resnet8', { numClasses: 3 });
    // A persistent id claiming 2^40 float32 elements.
    const hugeStorage = torchSaveZip(stateDict({ 'fc.bias': { values: [1, 2, 3], shape: [3] } }));
    const patched = patchNumel(hugeStorage, 3, 2 ** 40);
    expect(() => loadTorchStateDict(model, patched)).toThrow(
      'loadTorchStateDict: storage 0 has 1099511627776 elements, more than one tensor may hold',
    );
    // A tensor view far larger than its 3-element storage.
    const view: PickleInput = { dict: [['fc.bias', { tensor: { values: [1, 2, 3], shape: [3] } }]], ordered: true };
    const bytes = torchSaveZip(view);
    const wide = replaceTupleInt(bytes, 3, 100_000);
    expect(() => loadTorchStateDict(model, wide)).toThrow(
      "loadTorchStateDict: tensor 'storage 0' of shape [100000] reaches element 99999 of a storage of 3 elements",
    );
    // A safetensors tensor whose shape needs more bytes than its offsets give.
    const lying = safetensorsFile({ 'fc.bias': { dtype: 'F32', shape: [1_000_000_000], data_offsets: [0, 12] } }, 12);
    expect(() => loadTorchStateDict(model, lying)).toThrow(
      "loadTorchStateDict: corrupt safetensors file: tensor 'fc.bias' of shape [1000000000] needs 4000000000 bytes, its data_offsets give 12",
    );
    // A deflated member declaring far more bytes than deflate can produce from its size.
    const deflated = deflatedCopy(bytes);
    expect(() => loadTorchStateDict(model, setDeclaredSize(deflated, 'archive/data.pkl', 2_000_000_000))).toThrow(
      /^loadTorchStateDict: corrupt zip archive: member 'archive\/data\.pkl' declares 2000000000 bytes from \d+ compressed, more than deflate can produce$/,
    );
    model.dispose();
  });

  it('finds the state dict in its wrapper, or says where it looked', () => {
    const model = createModel('resnet8', { numClasses: 3, seed: 1 });
    const tensors = stateDict(stateDictOf(model));
    expect(
      loadTorchStateDict(
        model,
        torchSaveZip({
          dict: [
            ['ema', tensors],
            ['epoch', 3],
          ],
        }),
        { key: 'ema' },
      ).entry,
    ).toBe('ema');
    expect(() =>
      loadTorchStateDict(
        model,
        torchSaveZip({
          dict: [
            ['ema', tensors],
            ['epoch', 3],
          ],
        }),
      ),
    ).toThrow(
      "loadTorchStateDict: no state dict in the checkpoint: it is a dict with entries ema, epoch and none of 'model', 'state_dict' holds one; pass options.key",
    );
    expect(() => loadTorchStateDict(model, torchSaveZip({ dict: [['ema', tensors]] }), { key: 'emma' })).toThrow(
      "loadTorchStateDict: options.key 'emma' is not in the checkpoint; its entries are: ema",
    );
    expect(() => loadTorchStateDict(model, torchSaveZip({ dict: [['epoch', 3]] }), { key: 'epoch' })).toThrow(
      "loadTorchStateDict: checkpoint entry 'epoch' is not a state dict (a dict of tensors)",
    );
    model.dispose();
  });

  it('rejects bad arguments and unknown options with the closest known key', () => {
    const model = createModel('resnet8', { numClasses: 10 });
    const bytes = fixtureBytes('resnet8.safetensors.gz');
    expect(() => loadTorchStateDict(model, bytes, { stirct: false } as never)).toThrow(
      "loadTorchStateDict: unknown option 'stirct', did you mean 'strict'? (known options: key, strict)",
    );
    expect(() => loadTorchStateDict(model, bytes, { strict: 'no' } as never)).toThrow(
      'loadTorchStateDict: options.strict must be a boolean, got no',
    );
    expect(() => loadTorchStateDict(model, [1, 2] as never)).toThrow(
      'loadTorchStateDict: bytes must be a Uint8Array or an ArrayBuffer, got Array',
    );
    expect(() => loadTorchStateDict({ name: 'x' } as never, bytes)).toThrow(
      "loadTorchStateDict: model 'x' does not list namedVariables; models from createModel do",
    );
    model.dispose();
  });
});

function ascii(text: string): number[] {
  return Array.from(text, (char) => char.charCodeAt(0));
}

/** The same archive with every member deflated (method 8), as a re-zipped checkpoint would be. */
function deflatedCopy(zip: Uint8Array): Uint8Array {
  const members = readStoredMembers(zip);
  const parts: Uint8Array[] = [];
  const directory: Uint8Array[] = [];
  let length = 0;
  let directoryLength = 0;
  const fields = (...values: Array<[number, number]>): Uint8Array => {
    const bytes: number[] = [];
    for (const [value, size] of values)
      for (let byte = 0; byte < size; byte++) bytes.push(Math.floor(value / 2 ** (8 * byte)) & 0xff);
    return Uint8Array.from(bytes);
  };
  for (const { name, data, crc } of members) {
    const compressed = deflateSync(data);
    const nameBytes = new TextEncoder().encode(name);
    const offset = length;
    const local = fields(
      [0x04034b50, 4],
      [20, 2],
      [0, 2],
      [8, 2],
      [0, 4],
      [crc, 4],
      [compressed.length, 4],
      [data.length, 4],
      [nameBytes.length, 2],
      [0, 2],
    );
    parts.push(local, nameBytes, compressed);
    length += local.length + nameBytes.length + compressed.length;
    const entry = fields(
      [0x02014b50, 4],
      [20, 2],
      [20, 2],
      [0, 2],
      [8, 2],
      [0, 4],
      [crc, 4],
      [compressed.length, 4],
      [data.length, 4],
      [nameBytes.length, 2],
      [0, 2],
      [0, 2],
      [0, 2],
      [0, 2],
      [0, 4],
      [offset, 4],
    );
    directory.push(entry, nameBytes);
    directoryLength += entry.length + nameBytes.length;
  }
  const end = fields(
    [0x06054b50, 4],
    [0, 2],
    [0, 2],
    [members.length, 2],
    [members.length, 2],
    [directoryLength, 4],
    [length, 4],
    [0, 2],
  );
  return new Uint8Array(Buffer.concat([...parts, ...directory, end]));
}

/** Members of a stored-only archive written by the test writer or PyTorch, from its central directory. */
function readStoredMembers(zip: Uint8Array): Array<{ name: string; data: Uint8Array; crc: number; entry: number }> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.length - 22;
  while (view.getUint32(end, true) !== 0x06054b50) end--;
  const count = view.getUint16(end + 10, true);
  let offset = view.getUint32(end + 16, true);
  const members = [];
  for (let index = 0; index < count; index++) {
    const nameLength = view.getUint16(offset + 28, true);
    const name = new TextDecoder().decode(zip.subarray(offset + 46, offset + 46 + nameLength));
    const size = view.getUint32(offset + 20, true);
    const local = view.getUint32(offset + 42, true);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    members.push({
      name,
      data: zip.subarray(start, start + size),
      crc: view.getUint32(offset + 16, true),
      entry: offset,
    });
    offset += 46 + nameLength + view.getUint16(offset + 30, true) + view.getUint16(offset + 32, true);
  }
  return members;
}

/** A byte inside the first storage member of a PyTorch zip. */
function findStorageByte(zip: Uint8Array): number {
  const member = readStoredMembers(zip).find(({ name }) => /\/data\/\d+$/.test(name));
  if (member === undefined) throw new Error('no storage member');
  return member.data.byteOffset - zip.byteOffset + 5;
}

function setDeclaredSize(zip: Uint8Array, name: string, size: number): Uint8Array {
  const copy = zip.slice();
  const member = readStoredMembers(copy).find((entry) => entry.name === name);
  if (member === undefined) throw new Error(`no member ${name}`);
  new DataView(copy.buffer).setUint32(member.entry + 24, size, true);
  return copy;
}

/** Rewrites data.pkl of a test-writer zip, replacing its first BININT `from` inside the persistent id with a LONG1 `to`. */
function patchNumel(zip: Uint8Array, from: number, to: number): Uint8Array {
  return rewritePickle(zip, (pickle) => {
    // The persistent id ends with ... 'cpu', numel, TUPLE, BINPERSID.
    const cpu = indexOfSequence(pickle, ascii('cpu'));
    const at = cpu + 3;
    if (pickle[at] !== 0x4a || new DataView(pickle.buffer, pickle.byteOffset).getInt32(at + 1, true) !== from)
      throw new Error('unexpected pickle layout');
    const long = [0x8a, 8];
    for (let byte = 0; byte < 8; byte++) long.push(Math.floor(to / 2 ** (8 * byte)) & 0xff);
    return Uint8Array.from([...pickle.subarray(0, at), ...long, ...pickle.subarray(at + 5)]);
  });
}

/** Replaces the size tuple `(from,)` of the first tensor with `(to,)`. */
function replaceTupleInt(zip: Uint8Array, from: number, to: number): Uint8Array {
  return rewritePickle(zip, (pickle) => {
    const at = indexOfSequence(pickle, [0x4a, 0, 0, 0, 0, 0x28, 0x4a, from, 0, 0, 0, 0x74]) + 6;
    const copy = pickle.slice();
    new DataView(copy.buffer).setInt32(at + 1, to, true);
    return copy;
  });
}

function rewritePickle(zip: Uint8Array, change: (pickle: Uint8Array) => Uint8Array): Uint8Array {
  const members = readStoredMembers(zip).map(({ name, data }) => ({
    name,
    data: name.endsWith('data.pkl') ? change(data) : data,
  }));
  return zipArchive(members);
}

function indexOfSequence(bytes: Uint8Array, sequence: number[]): number {
  for (let index = 0; index + sequence.length <= bytes.length; index++) {
    if (sequence.every((value, offset) => bytes[index + offset] === value)) return index;
  }
  throw new Error('sequence not found');
}

function safetensorsFile(header: Record<string, unknown>, dataBytes: number): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + dataBytes);
  new DataView(out.buffer).setUint32(0, text.length, true);
  out.set(text, 8);
  return out;
}
