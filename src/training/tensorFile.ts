/**
 * A small self-validating binary container for named float32 tensors plus JSON metadata, used for
 * training checkpoints and shipped model weights.
 *
 * Layout: 8-byte magic "KLDMTNS1", u32 LE header length, UTF-8 JSON header
 * `{ metadata, tensors: [{ name, shape, offset, length }], dataBytes, sha256 }`, zero padding to
 * a multiple of 4, then the little-endian float32 data. The SHA-256 of the data section detects
 * truncated or corrupted files; writes go through writeFileAtomic, so a crash (even kill -9)
 * leaves either the previous file or the new one.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { KldmError } from '../util/errors.js';

const MAGIC = 'KLDMTNS1';

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

interface HeaderEntry {
  name: string;
  shape: number[];
  /** byte offset in the data section */
  offset: number;
  /** number of float32 values */
  length: number;
}

interface Header {
  metadata: unknown;
  tensors: HeaderEntry[];
  dataBytes: number;
  sha256: string;
}

function product(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Serialises tensors and metadata (any JSON value) into one buffer. */
export function encodeTensors(tensors: NamedTensor[], metadata: unknown): Buffer {
  const entries: HeaderEntry[] = [];
  const names = new Set<string>();
  let offset = 0;
  for (const t of tensors) {
    if (names.has(t.name)) throw new Error(`encodeTensors: duplicate tensor name ${t.name}`);
    names.add(t.name);
    if (product(t.shape) !== t.data.length) throw new Error(`encodeTensors: ${t.name} has ${t.data.length} values, shape [${t.shape.join(', ')}]`);
    entries.push({ name: t.name, shape: [...t.shape], offset, length: t.data.length });
    offset += t.data.length * 4;
  }
  const data = Buffer.alloc(offset);
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i]!;
    const src = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    // Float32Array memory is little-endian on every platform Node supports (x64, arm64).
    src.copy(data, entries[i]!.offset);
  }
  const header: Header = { metadata, tensors: entries, dataBytes: offset, sha256: createHash('sha256').update(data).digest('hex') };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (4 - ((MAGIC.length + 4 + headerBytes.length) % 4)) % 4;
  const prefix = Buffer.alloc(MAGIC.length + 4);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(headerBytes.length + pad, MAGIC.length);
  return Buffer.concat([prefix, headerBytes, Buffer.alloc(pad, 0x20), data]);
}

/** Parses what encodeTensors produced; throws a KldmError naming `source` on any inconsistency. */
export function decodeTensors(buf: Buffer, source: string): { tensors: Map<string, NamedTensor>; metadata: unknown } {
  const fail = (why: string): never => {
    throw new KldmError(`${source}: not a valid kldm tensor file (${why})`);
  };
  if (buf.length < MAGIC.length + 4 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) fail('bad magic bytes');
  const headerLen = buf.readUInt32LE(MAGIC.length);
  const dataStart = MAGIC.length + 4 + headerLen;
  if (dataStart > buf.length) fail('truncated header');
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, dataStart)) as Header;
  } catch {
    return fail('unreadable header');
  }
  if (!Array.isArray(header.tensors) || typeof header.dataBytes !== 'number') fail('malformed header');
  if (buf.length - dataStart !== header.dataBytes) fail(`data section has ${buf.length - dataStart} bytes, header says ${header.dataBytes} (truncated?)`);
  const data = buf.subarray(dataStart);
  if (createHash('sha256').update(data).digest('hex') !== header.sha256) fail('checksum mismatch (corrupted file)');
  const tensors = new Map<string, NamedTensor>();
  for (const e of header.tensors) {
    if (product(e.shape) !== e.length || e.offset + e.length * 4 > data.length) fail(`bad entry for ${e.name}`);
    const out = new Float32Array(e.length);
    Buffer.from(out.buffer).set(data.subarray(e.offset, e.offset + e.length * 4));
    tensors.set(e.name, { name: e.name, shape: e.shape, data: out });
  }
  return { tensors, metadata: header.metadata };
}

/** Writes the tensors atomically. */
export function saveTensors(path: string, tensors: NamedTensor[], metadata: unknown): void {
  writeFileAtomic(path, encodeTensors(tensors, metadata));
}

/** Reads and validates a tensor file. */
export function loadTensors(path: string): { tensors: Map<string, NamedTensor>; metadata: unknown } {
  if (!existsSync(path)) throw new KldmError(`file not found: ${path}`);
  return decodeTensors(readFileSync(path), path);
}
