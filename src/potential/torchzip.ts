/**
 * Reader of PyTorch `torch.save` files holding a plain state_dict (tensor name ->
 * tensor), the format of the M3GNet weights. Such a file is a zip archive
 * (./zip.ts) with `<root>/data.pkl`, a pickle (protocol 2) of an
 * `collections.OrderedDict`, and one entry `<root>/data/<key>` per storage holding
 * the raw little-endian elements. Each tensor in the pickle is
 * `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
 * backward_hooks)` where `storage` is a persistent id
 * `('storage', torch.FloatStorage, key, location, numel)` (BINPERSID).
 *
 * Only the opcodes and globals such a file uses are interpreted; anything else
 * (custom classes, arbitrary callables) is refused with a clear error, so loading a
 * file can never run code. Reference: CPython Lib/pickletools.py (opcode table).
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../util/errors.js';
import { ZipArchive } from './zip.js';

export type TorchDtype = 'float32' | 'float64' | 'int64';

export interface TorchTensor {
  dtype: TorchDtype;
  shape: number[];
  /** contiguous row-major elements (strides already applied) */
  data: Float32Array | Float64Array | BigInt64Array;
}

/** Storage classes we can read, by their pickled global name, with element size. */
const STORAGE_TYPES: Record<string, { dtype: TorchDtype; bytes: number }> = {
  FloatStorage: { dtype: 'float32', bytes: 4 },
  DoubleStorage: { dtype: 'float64', bytes: 8 },
  LongStorage: { dtype: 'int64', bytes: 8 },
};

// --- pickle values -------------------------------------------------------------------
class Mark {}
const MARK = new Mark();
class Global {
  constructor(readonly module: string, readonly name: string) {}
}
class PyDict {
  readonly map = new Map<string, unknown>();
}
class StorageRef {
  constructor(readonly dtype: TorchDtype, readonly elementBytes: number, readonly key: string, readonly numel: number) {}
}
class TensorValue {
  constructor(readonly tensor: TorchTensor) {}
}
type PickleValue = unknown;

/** Reads a state_dict from a `torch.save` zip file. */
export function readTorchStateDict(path: string): Map<string, TorchTensor> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read PyTorch weights '${path}': ${(err as Error).message}`);
  }
  return parseTorchStateDict(bytes, path);
}

/** Parses the bytes of a `torch.save` zip file holding a plain state_dict. */
export function parseTorchStateDict(bytes: Uint8Array, label = 'state_dict'): Map<string, TorchTensor> {
  const zip = new ZipArchive(bytes, label);
  const pkl = [...zip.entries.keys()].filter((n) => n.endsWith('/data.pkl') && n.split('/').length === 2);
  if (pkl.length !== 1) throw new InputError(`${label}: not a PyTorch zip checkpoint (expected one <root>/data.pkl, found ${pkl.length})`);
  const root = pkl[0]!.slice(0, -'data.pkl'.length);
  const loadStorage = (ref: StorageRef): Float32Array | Float64Array | BigInt64Array => {
    const raw = zip.read(`${root}data/${ref.key}`);
    const size = ref.elementBytes;
    if (raw.length !== ref.numel * size) {
      throw new InputError(`${label}: storage ${ref.key} holds ${raw.length} bytes, expected ${ref.numel} x ${size}`);
    }
    // Copy into an aligned buffer; data is little-endian (PyTorch's on-disk order).
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    if (ref.dtype === 'float32') return new Float32Array(copy.buffer);
    if (ref.dtype === 'float64') return new Float64Array(copy.buffer);
    return new BigInt64Array(copy.buffer);
  };
  const top = unpickle(zip.read(`${root}data.pkl`), label, loadStorage);
  if (!(top instanceof PyDict)) throw new InputError(`${label}: pickle does not hold a dict (not a plain state_dict)`);
  const out = new Map<string, TorchTensor>();
  for (const [k, v] of top.map) {
    if (!(v instanceof TensorValue)) throw new InputError(`${label}: state_dict entry '${k}' is not a tensor`);
    out.set(k, v.tensor);
  }
  return out;
}

function rebuildTensor(
  args: PickleValue[],
  label: string,
  loadStorage: (ref: StorageRef) => Float32Array | Float64Array | BigInt64Array,
  cache: Map<string, Float32Array | Float64Array | BigInt64Array>,
): TensorValue {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef) || typeof offset !== 'number' || !Array.isArray(size) || !Array.isArray(stride)) {
    throw new InputError(`${label}: malformed _rebuild_tensor_v2 arguments`);
  }
  const shape = size as number[];
  const strides = stride as number[];
  let src = cache.get(storage.key);
  if (!src) {
    src = loadStorage(storage);
    cache.set(storage.key, src);
  }
  const numel = shape.reduce((a, b) => a * b, 1);
  const data = new (src.constructor as { new (n: number): Float32Array | Float64Array | BigInt64Array })(numel);
  // Gather with the given strides (a state_dict's tensors are normally contiguous, but views are legal).
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < numel; i++) {
    let at = offset;
    for (let d = 0; d < shape.length; d++) at += index[d]! * strides[d]!;
    if (at < 0 || at >= src.length) throw new InputError(`${label}: tensor view reaches outside storage ${storage.key}`);
    (data as Float64Array)[i] = (src as Float64Array)[at]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
  return new TensorValue({ dtype: storage.dtype, shape: [...shape], data });
}

/** The pickle virtual machine restricted to the state_dict subset. */
function unpickle(
  bytes: Uint8Array,
  label: string,
  loadStorage: (ref: StorageRef) => Float32Array | Float64Array | BigInt64Array,
): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8');
  const stack: PickleValue[] = [];
  const memo = new Map<number, PickleValue>();
  const storages = new Map<string, Float32Array | Float64Array | BigInt64Array>();
  let p = 0;
  const need = (n: number) => {
    if (p + n > bytes.length) throw new InputError(`${label}: pickle truncated at byte ${p}`);
  };
  const u8 = () => (need(1), bytes[p++]!);
  const u16 = () => (need(2), (p += 2), view.getUint16(p - 2, true));
  const u32 = () => (need(4), (p += 4), view.getUint32(p - 4, true));
  const i32 = () => (need(4), (p += 4), view.getInt32(p - 4, true));
  const str = (n: number) => (need(n), (p += n), decoder.decode(bytes.subarray(p - n, p)));
  const line = () => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) throw new InputError(`${label}: pickle truncated in a text argument`);
    const s = decoder.decode(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0) throw new InputError(`${label}: pickle stack underflow at byte ${p}`);
    return stack.pop();
  };
  const popMark = (): PickleValue[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) throw new InputError(`${label}: pickle MARK missing at byte ${p}`);
    const items = stack.splice(at);
    items.shift();
    return items;
  };
  const setItem = (dict: PickleValue, key: PickleValue, value: PickleValue) => {
    if (!(dict instanceof PyDict)) throw new InputError(`${label}: pickle SETITEM on a non-dict`);
    if (typeof key !== 'string') throw new InputError(`${label}: pickle dict key is not a string`);
    dict.map.set(key, value);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw new InputError(`${label}: unsupported pickle protocol`);
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        stack.push(new Global(module, line()));
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), stack[stack.length - 1]);
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), stack[stack.length - 1]);
        break;
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) throw new InputError(`${label}: pickle memo ${k} undefined`);
        stack.push(memo.get(k));
        break;
      }
      case 0x29: // EMPTY_TUPLE
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        (stack[stack.length - 1] as PickleValue[]).push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        (stack[stack.length - 1] as PickleValue[]).push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItem(stack[stack.length - 1], k, v);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        for (let i = 0; i + 1 < items.length; i += 2) setItem(stack[stack.length - 1], items[i], items[i + 1]);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(str(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(str(u8()));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: { // LONG1 (little-endian two's complement, used for ints >= 2^31)
        const n = u8();
        need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[p + i]!);
        if (n > 0 && bytes[p + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        p += n;
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new InputError(`${label}: pickle integer too large`);
        stack.push(Number(v));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(p, false));
        p += 8;
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x51: { // BINPERSID: ('storage', StorageType, key, location, numel)
        const pid = pop();
        if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof Global) || typeof pid[2] !== 'string' || typeof pid[4] !== 'number') {
          throw new InputError(`${label}: unsupported persistent id in pickle`);
        }
        const type = pid[1] as Global;
        const st = type.module === 'torch' ? STORAGE_TYPES[type.name] : undefined;
        if (!st) throw new InputError(`${label}: unsupported storage type ${type.module}.${type.name}`);
        stack.push(new StorageRef(st.dtype, st.bytes, pid[2], pid[4]));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof Global) || !Array.isArray(args)) throw new InputError(`${label}: pickle REDUCE on a non-global`);
        if (fn.module === 'collections' && fn.name === 'OrderedDict') {
          stack.push(new PyDict());
        } else if (fn.module === 'torch._utils' && fn.name === '_rebuild_tensor_v2') {
          stack.push(rebuildTensor(args, label, loadStorage, storages));
        } else {
          throw new InputError(`${label}: pickle calls ${fn.module}.${fn.name}, which a plain state_dict never does; refusing to load`);
        }
        break;
      }
      case 0x62: // BUILD: OrderedDict state (the state_dict's _metadata attribute); not needed
        pop();
        break;
      default:
        throw new InputError(`${label}: unsupported pickle opcode 0x${op.toString(16)} at byte ${p - 1}`);
    }
  }
}
