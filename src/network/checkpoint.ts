/**
 * Tensor files (checkpoints): the safetensors layout, so Python's
 * `safetensors.numpy.load_file` / `safetensors.torch.load_file` can read them too.
 *
 *   bytes 0..7   header length n, unsigned 64-bit little-endian
 *   bytes 8..8+n JSON header (UTF-8, padded with spaces to a multiple of 8):
 *                { "<tensor name>": { "dtype": "F32", "shape": [...], "data_offsets": [begin, end] }, ...,
 *                  "__metadata__": { "format": "kldm", "version": "1", "json": "<JSON of the caller's metadata>",
 *                                    "sha256": "<64 hex digits>" } }
 *   then         the raw little-endian float32 data; offsets are relative to the start of this
 *                section, tensors are stored back to back in header order and cover it exactly.
 *
 * Integrity: `sha256` is the SHA-256 of the whole file as written, with its own 64 hex digits
 * replaced by 64 ASCII '0's. It therefore covers the tensor bytes, the header (names, shapes,
 * offsets, padding) and the caller's metadata, so a flipped bit anywhere in the file is an error
 * naming the file instead of silently different weights. (It is an ordinary string entry of
 * `__metadata__`, which Python's safetensors keeps as it is.) Files written before the checksum
 * existed still load, with a one-line note on stderr.
 *
 * Files are written atomically (writeFileAtomic). Loading checks the magic/version, every
 * shape and offset, the total size and the checksum, so a truncated, corrupt or foreign file
 * fails with one clear InputError naming the file.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import type { ParamStore } from './params.js';

export const TENSOR_FORMAT = 'kldm';
export const TENSOR_FORMAT_VERSION = 1;
const MAX_HEADER = 64 * 1024 * 1024;
const LITTLE = endianness() === 'LE';
/** the checksum entry of `__metadata__`, as JSON.stringify writes it (a string value, so never inside another string) */
const CHECKSUM_KEY = '"sha256":"';
const CHECKSUM_PLACEHOLDER = '0'.repeat(64);
const METADATA_KEYS = ['format', 'version', 'json', 'sha256'];

export interface StoredTensor {
  shape: number[];
  data: Float32Array;
}

export interface LoadedTensors {
  tensors: Record<string, StoredTensor>;
  metadata: Record<string, unknown>;
}

function numel(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Writes tensors (float32) and a JSON-serialisable metadata object to `path`, atomically. */
export function saveTensors(path: string, tensors: Record<string, StoredTensor>, metadata: Record<string, unknown> = {}): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    if (name === '__metadata__') throw new Error('saveTensors: "__metadata__" is reserved');
    const t = tensors[name]!;
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`saveTensors: tensor ${name} has an invalid shape [${t.shape.join(', ')}]`);
    if (numel(t.shape) !== t.data.length) throw new Error(`saveTensors: tensor ${name} has ${t.data.length} values but shape [${t.shape.join(', ')}]`);
    const bytes = 4 * t.data.length;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  header['__metadata__'] = { format: TENSOR_FORMAT, version: String(TENSOR_FORMAT_VERSION), json: JSON.stringify(metadata), sha256: CHECKSUM_PLACEHOLDER };
  let json = JSON.stringify(header);
  const pad = (8 - (Buffer.byteLength(json, 'utf8') % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.allocUnsafe(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors[name]!.data;
    if (LITTLE) {
      Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, pos);
    } else {
      for (let i = 0; i < d.length; i++) out.writeFloatLE(d[i]!, pos + 4 * i);
    }
    pos += d.byteLength;
  }
  const at = 8 + headerBytes.lastIndexOf(CHECKSUM_KEY) + CHECKSUM_KEY.length;
  out.write(fileChecksum(out, at), at, 'latin1');
  writeFileAtomic(path, out);
}

/** SHA-256 (hex) of a tensor file whose checksum digits start at byte `at`, counting those digits as '0's. */
function fileChecksum(buf: Uint8Array, at: number): string {
  return createHash('sha256').update(buf.subarray(0, at)).update(CHECKSUM_PLACEHOLDER, 'latin1').update(buf.subarray(at + 64)).digest('hex');
}

const notedUnchecked = new Set<string>();

/** Checks the file's checksum; a file from before checksums gets a one-line note (once per file and process). */
function verifyChecksum(buf: Buffer, headerLength: number, recorded: unknown, source: string): void {
  if (recorded === undefined) {
    if (!notedUnchecked.has(source)) {
      notedUnchecked.add(source);
      process.stderr.write(`kldm: note: ${source} has no checksum (written by an older kldm), so its integrity cannot be verified; re-save it (scripts/add-checksum.ts) to add one\n`);
    }
    return;
  }
  if (typeof recorded !== 'string' || !/^[0-9a-f]{64}$/.test(recorded)) throw new InputError(`${source}: not a valid kldm tensor file (__metadata__.sha256 is not 64 lower-case hex digits)`);
  const key = buf.subarray(8, 8 + headerLength).lastIndexOf(CHECKSUM_KEY + recorded);
  if (key < 0) throw new InputError(`${source}: not a valid kldm tensor file (the checksum entry is not written as kldm writes it)`);
  const actual = fileChecksum(buf, 8 + key + CHECKSUM_KEY.length);
  if (actual !== recorded) {
    throw new InputError(`${source}: the file is corrupt: its SHA-256 checksum does not match (recorded ${recorded.slice(0, 12)}..., contents give ${actual.slice(0, 12)}...); restore it from a good copy`);
  }
}

/** Reads a file written by saveTensors (or any float32 safetensors file carrying kldm metadata). */
export function loadTensors(path: string): LoadedTensors {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read tensor file ${path}: ${(err as Error).message}`);
  }
  return decodeTensors(buf, path);
}

/** Decodes the bytes of a tensor file; `path` names the file in errors. */
export function decodeTensors(buf: Buffer, path: string): LoadedTensors {
  const bad = (why: string): InputError => new InputError(`${path}: not a valid kldm tensor file (${why})`);
  if (buf.length < 8) throw bad(`only ${buf.length} bytes, truncated`);
  const n64 = buf.readBigUInt64LE(0);
  if (n64 > BigInt(Math.min(MAX_HEADER, buf.length - 8))) throw bad(`header length ${n64} exceeds the file size ${buf.length}; truncated or not a tensor file`);
  const n = Number(n64);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw bad('header is not valid JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('header is not a JSON object');
  const meta = header['__metadata__'] as Record<string, unknown> | undefined;
  if (typeof meta !== 'object' || meta === null || meta['format'] !== TENSOR_FORMAT) throw bad('missing kldm format marker in __metadata__');
  // exactly the entries kldm writes: a misspelt one is corruption (a flipped bit in "sha256" must not pass for an old file)
  for (const key of Object.keys(meta)) {
    if (!METADATA_KEYS.includes(key)) throw bad(`unknown __metadata__ entry ${JSON.stringify(key)} (corrupt file?)`);
  }
  const version = Number(meta['version']);
  if (version !== TENSOR_FORMAT_VERSION) throw new InputError(`${path}: tensor file format version ${String(meta['version'])} is not supported (this kldm reads version ${TENSOR_FORMAT_VERSION})`);
  let metadata: Record<string, unknown> = {};
  if (meta['json'] !== undefined) {
    try {
      metadata = JSON.parse(String(meta['json'])) as Record<string, unknown>;
    } catch {
      throw bad('__metadata__.json is not valid JSON');
    }
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw bad('__metadata__.json is not a JSON object');
  }
  const dataStart = 8 + n;
  const dataLen = buf.length - dataStart;
  const entries: Array<[string, number[], number, number]> = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`tensor ${name} is described by ${JSON.stringify(v)}, not an object`);
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e.dtype !== 'F32') throw bad(`tensor ${name} has dtype ${String(e.dtype)}, expected F32`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`tensor ${name} has an invalid shape`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isInteger(x) && x >= 0)) throw bad(`tensor ${name} has invalid data_offsets`);
    const [b, end] = off as [number, number];
    const shape = e.shape as number[];
    if (end - b !== 4 * numel(shape)) throw bad(`tensor ${name}: data_offsets span ${end - b} bytes, shape [${shape.join(', ')}] needs ${4 * numel(shape)}`);
    if (end > dataLen) throw bad(`tensor ${name} ends at byte ${end} of a ${dataLen}-byte data section; truncated`);
    entries.push([name, shape, b, end]);
  }
  // the tensors must tile the data section exactly (no gaps, no overlaps, no trailing bytes)
  const sorted = [...entries].sort((x, y) => x[2] - y[2]);
  let expect = 0;
  for (const [name, , b, end] of sorted) {
    if (b !== expect) throw bad(`tensor ${name} starts at byte ${b}, expected ${expect} (gap or overlap)`);
    expect = end;
  }
  if (expect !== dataLen) throw bad(`data section has ${dataLen} bytes, tensors cover ${expect}`);
  verifyChecksum(buf, n, meta['sha256'], path);
  const tensors: Record<string, StoredTensor> = {};
  for (const [name, shape, b, end] of entries) {
    const count = (end - b) / 4;
    const data = new Float32Array(count);
    if (LITTLE) {
      new Uint8Array(data.buffer).set(buf.subarray(dataStart + b, dataStart + end));
    } else {
      for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(dataStart + b + 4 * i);
    }
    tensors[name] = { shape, data };
  }
  return { tensors, metadata };
}

/** The parameters of a store as tensors (views, no copies), e.g. for saveTensors. */
export function paramTensors(params: ParamStore<Float32Array>, prefix = ''): Record<string, StoredTensor> {
  const out: Record<string, StoredTensor> = {};
  for (const t of params.tensors) out[`${prefix}${t.name}`] = { shape: t.shape, data: t.data };
  return out;
}

/**
 * Copies tensors named `${prefix}${param name}` into the store, checking every shape.
 * Throws an InputError naming the file (`source`) on a missing tensor or a shape mismatch.
 */
export function assignParams(params: ParamStore<Float32Array>, tensors: Record<string, StoredTensor>, source: string, prefix = ''): void {
  for (const t of params.tensors) {
    const s = tensors[`${prefix}${t.name}`];
    if (!s) throw new InputError(`${source}: missing tensor ${prefix}${t.name}`);
    if (s.shape.length !== t.shape.length || s.shape.some((d, i) => d !== t.shape[i])) {
      throw new InputError(`${source}: tensor ${prefix}${t.name} has shape [${s.shape.join(', ')}], the model needs [${t.shape.join(', ')}] (different network configuration?)`);
    }
    t.data.set(s.data);
  }
}
