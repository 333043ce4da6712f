/**
 * Compositions to sample from a user's CSV (`kldm sample --dataset-csv`): any CSV, optionally
 * gzipped, with material_id and cif columns; each CIF gives the composition and atom order.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../util/errors.js';
import { cifCsvFromBytes } from '../data/source.js';
import { readCif } from '../crystal/io/cif.js';
import { atomicNumber } from '../crystal/elements.js';
import { KldmError } from '../util/errors.js';
import type { SampleTarget } from './sampleSplit.js';

export function readCsvTargets(path: string): SampleTarget[] {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return csvTargetsFromBytes(buf, path);
}

/** The targets of a CSV file's bytes (gunzipped when `path` ends in .gz); `path` names the file in errors. */
export function csvTargetsFromBytes(buf: Buffer, path: string): SampleTarget[] {
  const { materialIds: ids, cifs } = cifCsvFromBytes(buf, path);
  const out: SampleTarget[] = [];
  for (let i = 0; i < ids.length; i++) {
    const where = `${path} row ${i + 1} (material_id ${ids[i]})`;
    let species: string[];
    try {
      species = readCif(cifs[i]!).species;
    } catch (err) {
      if (!(err instanceof KldmError)) throw err;
      throw new InputError(`${where}: ${err.message}`);
    }
    out.push({ materialId: ids[i]!, atomicNumbers: species.map((s) => atomicNumber(s, where)) });
  }
  return out;
}
