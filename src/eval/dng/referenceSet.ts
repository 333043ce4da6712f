/**
 * The reference side of the DNG metrics (spec §10.1): every structure of a dataset split (DiffCSP uses
 * the test split, read from the CIFs as `Structure.from_str`) with its fingerprints, density and number
 * of elements. Fingerprinting ~9,000 MP-20 structures takes minutes, so the result is cached beside the
 * split's preprocessing cache, keyed by the split file's sha256 and a version of the fingerprint code.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSplitSource } from '../../data/source.js';
import { cacheDir } from '../../data/prepare.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { loadFerrox, readCifForMatching } from '../cifReader.js';
import { OPS_FINGERPRINT_LENGTH } from './crystalNNFingerprint.js';
import { MAGPIE_LENGTH, type MagpieTables } from './magpie.js';
import { evaluateCrystal } from './crystalRecord.js';
import type { Fingerprints } from './coverage.js';

/** Bump when the fingerprint or density code changes what it computes. */
export const REFERENCE_CACHE_VERSION = 'dng-ref-v2';

export interface ReferenceSet {
  dataset: string;
  split: string;
  materialIds: string[];
  /** null where the structure could not be read or fingerprinted */
  fingerprints: Array<Fingerprints | null>;
  /** NaN where the CIF could not be read */
  densities: Float64Array;
  nElements: Float64Array;
  /** structures that could not be read or fingerprinted (DiffCSP would crash on them; they are left out) */
  failures: Array<{ materialId: string; reason: string }>;
}

const ROW = OPS_FINGERPRINT_LENGTH + MAGPIE_LENGTH + 2;

function cachePath(dataset: string, split: string): string {
  return join(cacheDir(dataset), `dng-reference-${split}.bin`);
}

function encode(ref: ReferenceSet, key: string): Uint8Array {
  const header = Buffer.from(JSON.stringify({ key, dataset: ref.dataset, split: ref.split, materialIds: ref.materialIds, failures: ref.failures }), 'utf8');
  const n = ref.materialIds.length;
  const payload = new Float64Array(n * ROW).fill(NaN);
  for (let i = 0; i < n; i++) {
    const fp = ref.fingerprints[i];
    if (fp) {
      payload.set(fp.struct, i * ROW);
      payload.set(fp.comp, i * ROW + OPS_FINGERPRINT_LENGTH);
    }
    payload[i * ROW + ROW - 2] = ref.densities[i]!;
    payload[i * ROW + ROW - 1] = ref.nElements[i]!;
  }
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  const pad = Buffer.alloc((8 - ((4 + header.length) % 8)) % 8);
  return Buffer.concat([len, header, pad, Buffer.from(payload.buffer)]);
}

function decode(buf: Buffer, key: string): ReferenceSet | null {
  if (buf.length < 4) return null;
  const hl = buf.readUInt32LE(0);
  let header: { key: string; dataset: string; split: string; materialIds: string[]; failures: ReferenceSet['failures'] };
  try {
    header = JSON.parse(buf.subarray(4, 4 + hl).toString('utf8'));
  } catch {
    return null;
  }
  if (header.key !== key) return null;
  const start = 4 + hl + ((8 - ((4 + hl) % 8)) % 8);
  const n = header.materialIds.length;
  if (buf.length - start !== n * ROW * 8) return null;
  const payload = new Float64Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + n * ROW * 8));
  const fingerprints: ReferenceSet['fingerprints'] = [];
  const densities = new Float64Array(n);
  const nElements = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = payload.subarray(i * ROW, (i + 1) * ROW);
    fingerprints.push(Number.isNaN(row[0]!) ? null : { struct: row.slice(0, OPS_FINGERPRINT_LENGTH), comp: row.slice(OPS_FINGERPRINT_LENGTH, OPS_FINGERPRINT_LENGTH + MAGPIE_LENGTH) });
    densities[i] = row[ROW - 2]!;
    nElements[i] = row[ROW - 1]!;
  }
  return { dataset: header.dataset, split: header.split, materialIds: header.materialIds, fingerprints, densities, nElements, failures: header.failures };
}

export interface ReferenceOptions {
  /** called after each structure (for progress) */
  onProgress?: (done: number, total: number) => void;
  /** ignore and do not write the cache */
  noCache?: boolean;
}

/** Reference fingerprints of a split, from the cache when it is current. */
export async function loadReferenceSet(dataset: string, split: string, magpie: MagpieTables, options: ReferenceOptions = {}): Promise<ReferenceSet> {
  const src = readSplitSource(dataset, split);
  const key = `${REFERENCE_CACHE_VERSION}:${src.gzSha256}`;
  const path = cachePath(dataset, split);
  if (!options.noCache && existsSync(path)) {
    const cached = decode(readFileSync(path), key);
    if (cached) return cached;
  }
  await loadFerrox();
  const n = src.cifs.length;
  options.onProgress?.(0, n);
  const ref: ReferenceSet = { dataset: src.dataset, split, materialIds: src.materialIds, fingerprints: [], densities: new Float64Array(n).fill(NaN), nElements: new Float64Array(n).fill(NaN), failures: [] };
  for (let i = 0; i < n; i++) {
    try {
      const s = readCifForMatching(src.cifs[i]!, `${dataset}/${split} ${src.materialIds[i]}`);
      const rec = evaluateCrystal(s, magpie);
      ref.fingerprints.push(rec.fingerprints);
      ref.densities[i] = rec.density;
      ref.nElements[i] = rec.nElements;
      if (!rec.fingerprints) ref.failures.push({ materialId: src.materialIds[i]!, reason: rec.reason ?? 'fingerprint failed' });
    } catch (err) {
      ref.fingerprints.push(null);
      ref.failures.push({ materialId: src.materialIds[i]!, reason: err instanceof Error ? err.message : String(err) });
    }
    options.onProgress?.(i + 1, n);
  }
  if (!options.noCache) {
    try {
      mkdirSync(cacheDir(dataset), { recursive: true });
      writeFileAtomic(path, encode(ref, key));
    } catch {
      // a read-only data folder only costs the recomputation next time
    }
  }
  return ref;
}
