/**
 * matminer `ElementProperty.from_preset("magpie")`, the composition fingerprint of the DNG coverage
 * metrics (spec §10.1): 22 magpie element properties × 6 statistics (minimum, maximum, range, mean,
 * avg_dev, mode) over the elements of a composition, weighted by their amounts = 132 features; then
 * DiffCSP's CompScaler standardisation with the fixed means/stds (NaN → 0).
 *
 * Semantics are those of the matminer releases DiffCSP and KLDM ran (≤ 0.9.3, impute_nan = False):
 * a property missing for an element (the word "Missing" in its table) is NaN and propagates into
 * every statistic of that property (matminer's minimum/maximum/range return NaN when any value is NaN;
 * np.average propagates it). Tables are read for Z = 1..103 as matminer 0.7.x reads them.
 *
 * The tables are third-party data (matminer, BSD): they are not bundled; `loadMagpie(dir)` takes the
 * folder holding the 22 `<Property>.table` files (the asset store provides it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../util/errors.js';
import { atomicNumber } from '../../crystal/elements.js';
import constants from './data/dngConstants.json' with { type: 'json' };

/** The preset's properties, in feature order. */
export const MAGPIE_PROPERTIES = [
  'Number', 'MendeleevNumber', 'AtomicWeight', 'MeltingT', 'Column', 'Row', 'CovalentRadius',
  'Electronegativity', 'NsValence', 'NpValence', 'NdValence', 'NfValence', 'NValence', 'NsUnfilled',
  'NpUnfilled', 'NdUnfilled', 'NfUnfilled', 'NUnfilled', 'GSvolume_pa', 'GSbandgap', 'GSmagmom',
  'SpaceGroupNumber',
] as const;

export const MAGPIE_STATS = ['minimum', 'maximum', 'range', 'mean', 'avg_dev', 'mode'] as const;
export const MAGPIE_LENGTH = MAGPIE_PROPERTIES.length * MAGPIE_STATS.length; // 132

/** matminer reads Z = 1..103 (0.7.x); heavier elements have no values. */
const MAX_Z_READ = 103;

export interface MagpieTables {
  /** property → values indexed by Z (index 0 unused); NaN where missing */
  readonly values: ReadonlyMap<string, Float64Array>;
}

/** Python `float(line)` on one table line: surrounding whitespace ignored, anything unparsable → NaN. */
function parseTableValue(line: string | undefined): number {
  if (line === undefined) return NaN;
  const t = line.trim();
  if (t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return NaN;
  return Number(t);
}

/** Read the 22 magpie tables from `dir` (one value per line, line n = element Z = n). */
export function loadMagpie(dir: string): MagpieTables {
  const values = new Map<string, Float64Array>();
  for (const prop of MAGPIE_PROPERTIES) {
    const path = join(dir, `${prop}.table`);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new InputError(`magpie table ${path} cannot be read (the DNG composition fingerprint needs the 22 magpie tables): ${err instanceof Error ? err.message : String(err)}`);
    }
    const lines = text.split('\n');
    const col = new Float64Array(MAX_Z_READ + 1).fill(NaN);
    for (let z = 1; z <= MAX_Z_READ; z++) col[z] = parseTableValue(lines[z - 1]);
    values.set(prop, col);
  }
  return { values };
}

function statistic(stat: (typeof MAGPIE_STATS)[number], data: readonly number[], w: readonly number[]): number {
  const anyNaN = data.some(Number.isNaN);
  const wsum = w.reduce((a, b) => a + b, 0);
  const mean = (): number => {
    let acc = 0;
    for (let i = 0; i < data.length; i++) acc += data[i]! * w[i]!;
    return acc / wsum;
  };
  switch (stat) {
    case 'minimum':
      return anyNaN ? NaN : Math.min(...data);
    case 'maximum':
      return anyNaN ? NaN : Math.max(...data);
    case 'range':
      return anyNaN ? NaN : Math.max(...data) - Math.min(...data);
    case 'mean':
      return mean();
    case 'avg_dev': {
      const mu = mean();
      let acc = 0;
      for (let i = 0; i < data.length; i++) acc += Math.abs(data[i]! - mu) * w[i]!;
      return acc / wsum;
    }
    case 'mode': {
      // the smallest value among the elements with the largest amount (np.isclose to the maximum)
      const wmax = Math.max(...w);
      let best = Infinity;
      for (let i = 0; i < data.length; i++) {
        if (Math.abs(w[i]! - wmax) <= 1e-8 + 1e-5 * Math.abs(wmax)) {
          if (Number.isNaN(data[i]!)) return NaN;
          best = Math.min(best, data[i]!);
        }
      }
      return best;
    }
  }
}

/**
 * The raw 132-feature magpie fingerprint of the composition of `species` (site symbols). Elements
 * are taken in order of first appearance with their site counts as weights, as DiffCSP builds
 * `Composition(Counter(atom_types))`.
 */
export function magpieFingerprint(tables: MagpieTables, species: readonly string[]): Float64Array {
  if (species.length === 0) throw new InputError('magpie fingerprint of an empty composition');
  const counts = new Map<string, number>();
  for (const s of species) counts.set(s, (counts.get(s) ?? 0) + 1);
  const elements = [...counts.keys()];
  const z = elements.map((e) => atomicNumber(e, 'magpie fingerprint'));
  const w = elements.map((e) => counts.get(e)!);
  const out = new Float64Array(MAGPIE_LENGTH);
  let f = 0;
  for (const prop of MAGPIE_PROPERTIES) {
    const col = tables.values.get(prop)!;
    const data = z.map((zz) => (zz <= MAX_Z_READ ? col[zz]! : NaN));
    for (const stat of MAGPIE_STATS) out[f++] = statistic(stat, data, w);
  }
  return out;
}

/** DiffCSP CompScaler: (x − mean) / std with the fixed constants, NaN → 0. */
export function standardiseMagpie(raw: Float64Array): Float64Array {
  const means = constants.compScalerMeans;
  const stds = constants.compScalerStds;
  if (raw.length !== means.length) throw new Error(`magpie fingerprint has ${raw.length} features, expected ${means.length}`);
  const out = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = (raw[i]! - means[i]!) / stds[i]!;
    out[i] = Number.isNaN(v) ? 0 : v;
  }
  return out;
}
