/**
 * Compact binary cache of a prepared split: $KLDM_HOME/cache/<dataset>/<split>.bin.
 *
 * Layout (little-endian):
 *   0  "KLDMSPLT" magic (8 bytes)
 *   8  u32 format version
 *   12 u32 header length H (bytes of UTF-8 JSON)
 *   16 header JSON, zero-padded to a multiple of 8
 *   then 8-aligned sections: atomOffsets i32[M+1], atomTypes i32[T], frac f32[3T],
 *   lengths f32[3M], angles f32[3M], sourceRows i32[M]
 * The header records the source file's size and sha256 (a changed source makes
 * the cache stale) and the sha256 of the sections (a damaged file is detected).
 */
import { createHash } from 'node:crypto';
import type { PreparedSplit } from './types.js';
import { KldmError } from '../util/errors.js';

export const CACHE_FORMAT_VERSION = 1;
/** bump when the preprocessing itself changes, to invalidate old caches */
export const PREPROCESS_VERSION = 'spec1.2-niggli-eps1e-5-from_parameters-v1';
const MAGIC = 'KLDMSPLT';

export interface RowFailure {
  /** 0-based data row of the CSV */
  row: number;
  materialId: string;
  reason: string;
}

export interface CacheHeader {
  dataset: string;
  split: string;
  preprocess: string;
  source: { file: string; gzSize: number; gzSha256: string; rows: number };
  count: number;
  totalAtoms: number;
  materialIds: string[];
  failures: RowFailure[];
  payloadSha256: string;
  createdAt: string;
  prepareSeconds: number;
}

function pad8(n: number): number {
  return (n + 7) & ~7;
}

export function encodeSplitCache(split: PreparedSplit & { sourceRows: Int32Array }, header: Omit<CacheHeader, 'payloadSha256' | 'count' | 'totalAtoms' | 'materialIds' | 'preprocess'>): Uint8Array {
  const M = split.materialIds.length;
  const T = split.atomTypes.length;
  const sections: ArrayBufferView[] = [split.atomOffsets, split.atomTypes, split.frac, split.lengths, split.angles, split.sourceRows];
  const expected = [M + 1, T, 3 * T, 3 * M, 3 * M, M];
  sections.forEach((s, i) => {
    if (s.byteLength / 4 !== expected[i]) throw new Error(`cache section ${i} has ${s.byteLength / 4} values, expected ${expected[i]}`);
  });
  const payloadSize = sections.reduce((n, s) => n + pad8(s.byteLength), 0);
  const payload = new Uint8Array(payloadSize);
  let off = 0;
  for (const s of sections) {
    payload.set(new Uint8Array(s.buffer, s.byteOffset, s.byteLength), off);
    off += pad8(s.byteLength);
  }
  const full: CacheHeader = {
    ...header,
    preprocess: PREPROCESS_VERSION,
    count: M,
    totalAtoms: T,
    materialIds: split.materialIds,
    payloadSha256: createHash('sha256').update(payload).digest('hex'),
  };
  const json = Buffer.from(JSON.stringify(full), 'utf8');
  const headerBytes = pad8(json.length);
  const out = new Uint8Array(16 + headerBytes + payloadSize);
  const dv = new DataView(out.buffer);
  out.set(Buffer.from(MAGIC, 'latin1'), 0);
  dv.setUint32(8, CACHE_FORMAT_VERSION, true);
  dv.setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(payload, 16 + headerBytes);
  return out;
}

/** Why a cache file cannot be used (thrown by decodeSplitCache). */
export class CacheInvalid extends KldmError {}

export function decodeSplitCache(buf: Uint8Array, path: string): { split: PreparedSplit & { sourceRows: Int32Array }; header: CacheHeader } {
  if (buf.length < 16 || Buffer.from(buf.subarray(0, 8)).toString('latin1') !== MAGIC) throw new CacheInvalid(`${path} is not a kldm split cache (bad magic)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== CACHE_FORMAT_VERSION) throw new CacheInvalid(`${path} has cache format ${version}, this kldm writes ${CACHE_FORMAT_VERSION}`);
  const hlen = dv.getUint32(12, true);
  if (16 + hlen > buf.length) throw new CacheInvalid(`${path} is truncated (header)`);
  let header: CacheHeader;
  try {
    header = JSON.parse(Buffer.from(buf.subarray(16, 16 + hlen)).toString('utf8')) as CacheHeader;
  } catch {
    throw new CacheInvalid(`${path} has a corrupt header`);
  }
  if (header.preprocess !== PREPROCESS_VERSION) throw new CacheInvalid(`${path} was made by another preprocessing version (${header.preprocess})`);
  const M = header.count;
  const T = header.totalAtoms;
  const sizes = [M + 1, T, 3 * T, 3 * M, 3 * M, M];
  const start = 16 + pad8(hlen);
  const payloadSize = sizes.reduce((n, s) => n + pad8(4 * s), 0);
  if (buf.length !== start + payloadSize) throw new CacheInvalid(`${path} has ${buf.length} bytes, expected ${start + payloadSize} (truncated or damaged)`);
  const payload = buf.subarray(start);
  if (createHash('sha256').update(payload).digest('hex') !== header.payloadSha256) throw new CacheInvalid(`${path} is damaged (checksum mismatch)`);
  let off = start;
  const take = (n: number): ArrayBuffer => {
    const ab = buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + 4 * n) as ArrayBuffer;
    off += pad8(4 * n);
    return ab;
  };
  const atomOffsets = new Int32Array(take(M + 1));
  const atomTypes = new Int32Array(take(T));
  const frac = new Float32Array(take(3 * T));
  const lengths = new Float32Array(take(3 * M));
  const angles = new Float32Array(take(3 * M));
  const sourceRows = new Int32Array(take(M));
  if (header.materialIds.length !== M || atomOffsets[0] !== 0 || atomOffsets[M] !== T) throw new CacheInvalid(`${path} is inconsistent (offsets/ids)`);
  return {
    split: { dataset: header.dataset, split: header.split, materialIds: header.materialIds, atomOffsets, atomTypes, frac, lengths, angles, sourceRows },
    header,
  };
}
