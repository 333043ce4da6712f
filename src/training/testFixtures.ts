/**
 * Test helpers: a handful of real Perov-5 crystals (fixtures/perov5-mini.json: the first 32 train
 * and 8 val rows of the benchmark CSVs, cubic P1 cells used as-is) as PreparedSplits, and their
 * lattice statistics computed as in spec §1.3 with the §13.13 rule (fewer than 40 structures:
 * use them all).
 */
import { readFileSync } from 'node:fs';
import type { LatticeStats, PreparedSplit } from '../data/types.js';
import { atomicNumber } from '../crystal/elements.js';
import type { TrainConfig } from './config.js';
import { resolveConfig } from './config.js';

interface FixtureCrystal {
  material_id: string;
  lattice: [number, number, number, number, number, number];
  species: string[];
  frac: number[][];
}

function toSplit(rows: FixtureCrystal[], split: string): PreparedSplit {
  const atomOffsets = new Int32Array(rows.length + 1);
  rows.forEach((r, k) => (atomOffsets[k + 1] = atomOffsets[k]! + r.species.length));
  const N = atomOffsets[rows.length]!;
  const atomTypes = new Int32Array(N);
  const frac = new Float32Array(N * 3);
  const lengths = new Float32Array(rows.length * 3);
  const angles = new Float32Array(rows.length * 3);
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    lengths.set(r.lattice.slice(0, 3), k * 3);
    angles.set(r.lattice.slice(3, 6), k * 3);
    for (let i = 0; i < r.species.length; i++) {
      atomTypes[atomOffsets[k]! + i] = atomicNumber(r.species[i]!);
      frac.set(r.frac[i]!, (atomOffsets[k]! + i) * 3);
    }
  }
  return { dataset: 'perov_5', split, materialIds: rows.map((r) => r.material_id), atomOffsets, atomTypes, frac, lengths, angles };
}

export function miniPerov5(): { train: PreparedSplit; val: PreparedSplit; stats: LatticeStats } {
  const raw = JSON.parse(readFileSync(new URL('./fixtures/perov5-mini.json', import.meta.url), 'utf8')) as { train: FixtureCrystal[]; val: FixtureCrystal[] };
  const train = toSplit(raw.train, 'train');
  const val = toSplit(raw.val, 'val');
  // spec §1.3 per atom count (all have 5 atoms); §13.13: M < 40 -> keep all rows, floor the scale.
  const loc: number[] = [];
  const scale: number[] = [];
  const M = raw.train.length;
  for (let d = 0; d < 3; d++) {
    let s = 0;
    for (let k = 0; k < M; k++) s += Math.log(train.lengths[k * 3 + d]!);
    const mean = s / M;
    let v = 0;
    for (let k = 0; k < M; k++) v += (Math.log(train.lengths[k * 3 + d]!) - mean) ** 2;
    loc.push(mean);
    scale.push(Math.max(Math.sqrt(v / M), 1e-3));
  }
  const stats: LatticeStats = { byAtomCount: { 5: { loc: loc as [number, number, number], scale: scale as [number, number, number] } } };
  return { train, val, stats };
}

/** The tiny preset with overrides for fast tests. */
export function tinyConfig(patch: Record<string, unknown> = {}): TrainConfig {
  return resolveConfig('tiny', patch);
}
