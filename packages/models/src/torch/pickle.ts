/**
 * A restricted unpickler for what `torch.save` writes (protocols 2 to 5). It builds plain data only: a
 * global outside the allow-list (the one PyTorch's `weights_only` loader applies: tensor and storage
 * rebuild functions, `collections.OrderedDict`, `torch.Size`, numpy scalar and dtype reconstruction) is
 * refused before anything is called, so a malicious pickle cannot run code. Every length is checked against
 * the remaining bytes before a slice or allocation.
 */
import type { ErrorContext } from './errors';
import { checkedTensor, type StorageRef, type TorchDtype, TorchTensor } from './tensor';

/** A Python dict (also OrderedDict), keys as unpickled. */
export type PickleDict = Map<PickleValue, PickleValue>;

/** A numpy array, kept opaque (checkpoints carry them as metadata, never as weights). */
export class NumpyArray {
  state: PickleValue = null;
}

/** numpy's dtype object, enough to decode a numpy scalar. */
export class NumpyDtype {
  byteOrder = '=';
  constructor(readonly code: string) {}
}

/** An allowed global: a callable the VM may apply, or a plain value (storage classes, torch dtypes). */
export class PickleGlobal {
  constructor(
    readonly qualifiedName: string,
    readonly call: ((args: PickleValue[], context: ErrorContext) => PickleValue) | undefined,
    readonly storageDtype?: TorchDtype,
  ) {}
}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleDict
  | Set<PickleValue>
  | TorchTensor
  | StorageRef
  | PickleGlobal
  | NumpyDtype
  | NumpyArray;

/** What the format reader does with a persistent id (`BINPERSID`): the storage it names. */
export type PersistentLoad = (pid: PickleValue) => PickleValue;

const storageClasses: Record<string, TorchDtype> = {
  DoubleStorage: 'float64',
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

const torchDtypes: Record<string, TorchDtype> = {
  float64: 'float64',
  float32: 'float32',
  float16: 'float16',
  bfloat16: 'bfloat16',
  int64: 'int64',
  int32: 'int32',
  int16: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

function rebuildTensor(args: PickleValue[], context: ErrorContext): TorchTensor {
  const [storage, offset, size, stride] = args;
  if (storage === null || typeof storage !== 'object' || !('bytes' in storage) || !('numel' in storage)) {
    return context.fail('pickle: a tensor rebuild got no storage');
  }
  return checkedTensor(context, `storage ${(storage as StorageRef).key}`, storage as StorageRef, offset, size, stride);
}

function tensorArgument(value: PickleValue, context: ErrorContext): TorchTensor {
  if (!(value instanceof TorchTensor)) context.fail('pickle: a parameter rebuild got no tensor');
  return value as TorchTensor;
}

const numpyModules = ['numpy.core.multiarray', 'numpy._core.multiarray'];

function numpyScalar([dtype, data]: PickleValue[], context: ErrorContext): PickleValue {
  if (!(dtype instanceof NumpyDtype) || !(data instanceof Uint8Array))
    return context.fail('pickle: numpy scalar needs a dtype and bytes');
  const match = /^([fiub])(\d)$/.exec(dtype.code);
  const size = match === null ? 0 : Number(match[2]);
  if (match === null || data.length !== size)
    context.fail(`pickle: unsupported numpy scalar of dtype '${dtype.code}' (${data.length} bytes)`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const little = dtype.byteOrder !== '>';
  const kind = (match as RegExpExecArray)[1];
  if (kind === 'f') {
    if (size === 8) return view.getFloat64(0, little);
    if (size === 4) return view.getFloat32(0, little);
  } else if (kind === 'b' && size === 1) {
    return data[0] !== 0;
  } else if (size === 1 || size === 2 || size === 4 || size === 8) {
    const signed = kind === 'i';
    if (size === 1) return signed ? view.getInt8(0) : view.getUint8(0);
    if (size === 2) return signed ? view.getInt16(0, little) : view.getUint16(0, little);
    if (size === 4) return signed ? view.getInt32(0, little) : view.getUint32(0, little);
    return Number(signed ? view.getBigInt64(0, little) : view.getBigUint64(0, little));
  }
  return context.fail(`pickle: unsupported numpy scalar of dtype '${dtype.code}'`);
}

/** The allow-list, keyed `module.name`. */
function allowedGlobals(): Map<string, PickleGlobal> {
  const entries: PickleGlobal[] = [
    new PickleGlobal('collections.OrderedDict', () => new Map()),
    new PickleGlobal('builtins.set', ([items]) => new Set(Array.isArray(items) ? items : [])),
    new PickleGlobal('builtins.frozenset', ([items]) => new Set(Array.isArray(items) ? items : [])),
    new PickleGlobal('torch.Size', ([dims]) => (Array.isArray(dims) ? [...dims] : [])),
    new PickleGlobal('torch._utils._rebuild_tensor', rebuildTensor),
    new PickleGlobal('torch._utils._rebuild_tensor_v2', rebuildTensor),
    new PickleGlobal('torch._utils._rebuild_parameter', ([data], context) =>
      tensorArgument(data as PickleValue, context),
    ),
    new PickleGlobal('torch._utils._rebuild_parameter_with_state', ([data], context) =>
      tensorArgument(data as PickleValue, context),
    ),
    new PickleGlobal('torch._tensor._rebuild_from_type_v2', ([func, , args], context) => {
      if (!(func instanceof PickleGlobal) || func.call === undefined || !Array.isArray(args)) {
        return context.fail('pickle: _rebuild_from_type_v2 needs an allowed rebuild function and its arguments');
      }
      return func.call(args, context);
    }),
    new PickleGlobal('torch.Tensor', undefined),
    new PickleGlobal('torch.nn.parameter.Parameter', undefined),
    new PickleGlobal('_codecs.encode', ([text, encoding], context) => {
      if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
        return context.fail(`pickle: _codecs.encode is only allowed with latin1, got ${String(encoding)}`);
      }
      const bytes = new Uint8Array(text.length);
      for (let index = 0; index < text.length; index++) bytes[index] = text.charCodeAt(index) & 0xff;
      return bytes;
    }),
    ...numpyModules.flatMap((module) => [
      new PickleGlobal(`${module}.scalar`, numpyScalar),
      new PickleGlobal(`${module}._reconstruct`, () => new NumpyArray()),
    ]),
    new PickleGlobal('numpy.ndarray', undefined),
    new PickleGlobal('numpy.dtype', ([code], context) => {
      if (typeof code !== 'string') return context.fail('pickle: numpy.dtype needs a type code');
      return new NumpyDtype(code);
    }),
    ...Object.entries(storageClasses).map(([name, dtype]) => new PickleGlobal(`torch.${name}`, undefined, dtype)),
    ...Object.entries(torchDtypes).map(([name, dtype]) => new PickleGlobal(`torch.${name}`, undefined, dtype)),
  ];
  return new Map(entries.map((entry) => [entry.qualifiedName, entry]));
}

let allowList: Map<string, PickleGlobal> | undefined;

const mark = Symbol('mark');
type StackEntry = PickleValue | typeof mark;

/**
 * Unpickles `bytes` from `start`; returns the value and the offset after STOP (the legacy format stores
 * several pickles back to back).
 */
export function unpickle(
  bytes: Uint8Array,
  start: number,
  persistentLoad: PersistentLoad,
  context: ErrorContext,
): { value: PickleValue; end: number } {
  allowList ??= allowedGlobals();
  const allowed = allowList;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const stack: StackEntry[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  let position = start;
  const fail = (what: string): never => context.fail(`corrupt pickle at byte ${position}: ${what}`);
  const need = (count: number): number => {
    if (!Number.isSafeInteger(count) || count < 0 || position + count > bytes.length) {
      fail(`needs ${count} more bytes, the data ends at ${bytes.length} (truncated file?)`);
    }
    const at = position;
    position += count;
    return at;
  };
  const u8 = (): number => view.getUint8(need(1));
  const u16 = (): number => view.getUint16(need(2), true);
  const u32 = (): number => view.getUint32(need(4), true);
  const i32 = (): number => view.getInt32(need(4), true);
  const u64 = (): number => {
    const at = need(8);
    return view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
  };
  const slice = (count: number): Uint8Array => {
    const at = need(count);
    return bytes.subarray(at, at + count);
  };
  const text = (count: number): string => {
    const raw = slice(count);
    try {
      return decoder.decode(raw);
    } catch {
      return fail('invalid UTF-8 string');
    }
  };
  const latin1 = (count: number): string => {
    const raw = slice(count);
    let result = '';
    for (const byte of raw) result += String.fromCharCode(byte);
    return result;
  };
  const pop = (): PickleValue => {
    const value = stack.pop();
    if (value === undefined || value === mark) return fail('stack underflow');
    return value;
  };
  const top = (): PickleValue => {
    const value = stack[stack.length - 1];
    if (value === undefined || value === mark) return fail('stack underflow');
    return value;
  };
  const popMark = (): PickleValue[] => {
    const at = marks.pop();
    if (at === undefined) return fail('no mark');
    const items = stack.splice(at + 1) as PickleValue[];
    stack.pop();
    return items;
  };
  const global = (module: string, name: string): PickleGlobal => {
    const entry = allowed.get(`${module}.${name}`);
    if (entry === undefined) {
      context.fail(
        `the pickle asks for the global '${module}.${name}', which is not allowed: only tensor and storage rebuild functions, collections.OrderedDict, torch.Size and numpy scalars are (refusing to run code from a checkpoint)`,
      );
    }
    return entry as PickleGlobal;
  };
  const apply = (callable: PickleValue, args: PickleValue): PickleValue => {
    if (!(callable instanceof PickleGlobal) || callable.call === undefined) {
      return fail(`cannot call ${callable instanceof PickleGlobal ? callable.qualifiedName : typeof callable}`);
    }
    if (!Array.isArray(args)) return fail('call arguments must be a tuple');
    return callable.call(args, context);
  };
  const setItems = (target: PickleValue, items: PickleValue[]): void => {
    if (!(target instanceof Map)) fail('SETITEMS on a value that is not a dict');
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
    for (let index = 0; index < items.length; index += 2)
      (target as PickleDict).set(items[index] as PickleValue, items[index + 1] as PickleValue);
  };
  const appendItems = (target: PickleValue, items: PickleValue[]): void => {
    if (target instanceof Set) for (const item of items) target.add(item);
    else if (Array.isArray(target)) target.push(...items);
    else fail('APPENDS on a value that is not a list');
  };
  const long = (count: number): number | bigint => {
    const raw = slice(count);
    if (count === 0) return 0;
    let value = 0n;
    for (let index = count - 1; index >= 0; index--) value = (value << 8n) | BigInt(raw[index] as number);
    if ((raw[count - 1] as number) & 0x80) value -= 1n << BigInt(8 * count);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  };

  const length4 = (opcode: string): number => {
    const count = i32();
    if (count < 0) fail(`negative ${opcode} length`);
    return count;
  };
  const reduce = (): PickleValue => {
    const args = pop();
    return apply(pop(), args);
  };
  const tuple2 = (): PickleValue[] => {
    const second = pop();
    return [pop(), second];
  };
  const tuple3 = (): PickleValue[] => {
    const third = pop();
    const second = pop();
    return [pop(), second, third];
  };
  const dict = (): PickleDict => {
    const result: PickleDict = new Map();
    setItems(result, popMark());
    return result;
  };
  const memoized = (key: number): PickleValue => {
    if (!memo.has(key)) fail(`memo entry ${key} was never stored`);
    return memo.get(key) as PickleValue;
  };
  const globalFromLines = (): PickleGlobal => {
    const line = (): string => {
      const end = bytes.indexOf(0x0a, position);
      if (end < 0) return fail('unterminated GLOBAL');
      return latin1(end - position + 1).slice(0, -1);
    };
    const module = line();
    return global(module, line());
  };
  const stackGlobal = (): PickleGlobal => {
    const name = pop();
    const module = pop();
    if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
    return global(module as string, name as string);
  };
  /** The opcodes whose whole effect is to push one value, read from their argument bytes or the stack. */
  const pushes = new Map<number, () => PickleValue>([
    [0x7d, () => new Map()], // EMPTY_DICT
    [0x5d, () => []], // EMPTY_LIST
    [0x29, () => []], // EMPTY_TUPLE
    [0x8f, () => new Set()], // EMPTY_SET
    [0x4e, () => null], // NONE
    [0x88, () => true], // NEWTRUE
    [0x89, () => false], // NEWFALSE
    [0x4a, i32], // BININT
    [0x4b, u8], // BININT1
    [0x4d, u16], // BININT2
    [0x8a, () => long(u8())], // LONG1
    [0x8b, () => long(length4('LONG4'))], // LONG4
    [0x47, () => view.getFloat64(need(8), false)], // BINFLOAT (big-endian)
    [0x58, () => text(u32())], // BINUNICODE
    [0x8c, () => text(u8())], // SHORT_BINUNICODE
    [0x8d, () => text(u64())], // BINUNICODE8
    [0x54, () => latin1(length4('BINSTRING'))], // BINSTRING (Python 2 str)
    [0x55, () => latin1(u8())], // SHORT_BINSTRING
    [0x42, () => slice(u32())], // BINBYTES
    [0x43, () => slice(u8())], // SHORT_BINBYTES
    [0x8e, () => slice(u64())], // BINBYTES8
    [0x74, popMark], // TUPLE
    [0x6c, popMark], // LIST
    [0x85, () => [pop()]], // TUPLE1
    [0x86, tuple2], // TUPLE2
    [0x87, tuple3], // TUPLE3
    [0x64, dict], // DICT
    [0x91, () => new Set(popMark())], // FROZENSET
    [0x32, top], // DUP
    [0x52, reduce], // REDUCE
    [0x81, reduce], // NEWOBJ: cls.__new__(cls, *args), for the allowed classes the same as calling them
    [0x51, () => persistentLoad(pop())], // BINPERSID
    [0x68, () => memoized(u8())], // BINGET
    [0x6a, () => memoized(u32())], // LONG_BINGET
    [0x63, globalFromLines], // GLOBAL "module\nname\n"
    [0x93, stackGlobal], // STACK_GLOBAL
  ]);

  for (;;) {
    const opcode = u8();
    const push = pushes.get(opcode);
    if (push !== undefined) {
      stack.push(push());
      continue;
    }
    switch (opcode) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: position };
      case 0x28: // MARK
        marks.push(stack.length);
        stack.push(mark);
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const value = pop();
        appendItems(top(), [value]);
        break;
      }
      case 0x65: // APPENDS
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x30: // POP
        if (stack[stack.length - 1] === mark) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x92: // NEWOBJ_EX: kwargs dropped, as NEWOBJ
        pop();
        stack.push(reduce());
        break;
      case 0x62: {
        // BUILD: set the state of the object below
        const state = pop();
        const target = top();
        if (target instanceof NumpyDtype) {
          if (Array.isArray(state) && typeof state[1] === 'string') target.byteOrder = state[1];
        } else if (target instanceof NumpyArray) {
          target.state = state;
        } else if (!(target instanceof Map) && !(target instanceof TorchTensor)) {
          // OrderedDict carries `_metadata`, parameters their attributes: nothing the weights need.
          fail('BUILD on a value that has no state');
        }
        break;
      }
      default:
        fail(`unsupported pickle opcode 0x${opcode.toString(16).padStart(2, '0')}`);
    }
  }
}
