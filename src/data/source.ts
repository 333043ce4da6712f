/**
 * Reading a split's raw rows (material_id + cif text) from its installed CSV
 * (the mirror's gzipped copy or the plain upstream file).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../util/errors.js';
import { parseCsv, column } from './csv.js';
import { getSplit } from './registry.js';

export interface SplitSource {
  dataset: string;
  split: string;
  path: string;
  /** size and sha256 of the installed file (.csv.gz or .csv), used to detect a stale cache */
  gzSize: number;
  gzSha256: string;
  /** material ids; rows with an empty id get "<dataset>-<split>-row<k>" (MP-20 train reconstruction) */
  materialIds: string[];
  cifs: string[];
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Reads and parses one split's CSV (gunzip + RFC 4180 parse). */
export function readSplitSource(dataset: string, split: string): SplitSource {
  const { info, gz, table } = readSplitTable(dataset, split);
  const ids = column(table, 'material_id', info.path);
  const cifs = column(table, 'cif', info.path);
  const materialIds = ids.map((id, k) => (id.trim() === '' ? `${info.dataset}-${split}-row${k}` : id));
  return { dataset: info.dataset, split, path: info.path, gzSize: gz.length, gzSha256: sha256(gz), materialIds, cifs };
}

/** Other columns of a split (e.g. MP-20's formation_energy_per_atom), as strings, row for row with readSplitSource. */
export function readSplitColumns(dataset: string, split: string, names: readonly string[]): Record<string, string[]> {
  const { info, table } = readSplitTable(dataset, split);
  return Object.fromEntries(names.map((n) => [n, column(table, n, info.path)]));
}

function readSplitTable(dataset: string, split: string) {
  const info = getSplit(dataset, split);
  const gz = readFileSync(info.path);
  let text: string;
  if (gz[0] === 0x1f && gz[1] === 0x8b) {
    try {
      text = gunzipSync(gz).toString('utf8');
    } catch (err) {
      throw new InputError(`${info.path}: not a valid gzip file (${(err as Error).message})`);
    }
  } else {
    // the plain upstream CSV, stored as downloaded
    text = gz.toString('utf8');
  }
  return { info, gz, table: parseCsv(text, info.path) };
}

/**
 * Any CSV with `material_id` and `cif` columns (plain or gzipped, told apart
 * by the gzip magic bytes): a user's own test set for `kldm sample
 * --dataset-csv` and `kldm evaluate csp --dataset-csv`. Empty and repeated
 * material ids are errors naming the row.
 */
export function readCifCsv(path: string): { materialIds: string[]; cifs: string[] } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return cifCsvFromBytes(buf, path);
}

/** readCifCsv on a file's bytes; `path` names the file in errors */
export function cifCsvFromBytes(buf: Buffer, path: string): { materialIds: string[]; cifs: string[] } {
  let text: string;
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      text = gunzipSync(buf).toString('utf8');
    } catch (err) {
      throw new InputError(`${path}: not a valid gzip file (${(err as Error).message})`);
    }
  } else {
    text = buf.toString('utf8');
  }
  const table = parseCsv(text, path);
  const materialIds = column(table, 'material_id', path);
  const cifs = column(table, 'cif', path);
  const seen = new Map<string, number>();
  for (let i = 0; i < materialIds.length; i++) {
    const id = materialIds[i]!;
    if (id.trim() === '') throw new InputError(`${path} row ${i + 1}: empty material_id`);
    const first = seen.get(id);
    if (first !== undefined) throw new InputError(`${path} rows ${first + 1} and ${i + 1}: material_id "${id}" appears twice`);
    seen.set(id, i);
  }
  return { materialIds, cifs };
}
