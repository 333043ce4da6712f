/**
 * Statistics of a prepared split: the per-atom-count log-length statistics of
 * spec §1.3 (with the §13.13 fixes) and descriptive summaries for `kldm data stats`.
 */
import type { LatticeStats, PreparedSplit } from './types.js';
import { elementSymbol } from '../crystal/elements.js';

/** Smallest allowed scale (spec §13.13: a single structure, or identical lengths, would give 0). */
export const MIN_LATTICE_SCALE = 1e-3;

export interface LatticeStatsWithCounts extends LatticeStats {
  /** number of training structures M_N behind each entry */
  counts: Record<number, number>;
}

/**
 * Spec §1.3, per atom count N over the given (training) split:
 * L = log([a,b,c]); sort each column; k = floor(0.025·M_N); keep sorted rows
 * k..M_N−k−1; loc = mean, scale = population std (ddof 0) per column.
 * §13.13: when k = 0 all rows are used (the reference slice x[k:-k] would be
 * empty and give NaN), and scale is floored at MIN_LATTICE_SCALE.
 */
export function computeLatticeStats(split: PreparedSplit, minScale = MIN_LATTICE_SCALE): LatticeStatsWithCounts {
  const M = split.materialIds.length;
  const byN = new Map<number, number[][]>();
  for (let g = 0; g < M; g++) {
    const n = split.atomOffsets[g + 1]! - split.atomOffsets[g]!;
    let cols = byN.get(n);
    if (!cols) byN.set(n, (cols = [[], [], []]));
    for (let k = 0; k < 3; k++) cols[k]!.push(Math.log(split.lengths[3 * g + k]!));
  }
  const byAtomCount: LatticeStats['byAtomCount'] = {};
  const counts: Record<number, number> = {};
  for (const n of [...byN.keys()].sort((a, b) => a - b)) {
    const cols = byN.get(n)!;
    const m = cols[0]!.length;
    const k = Math.floor(0.025 * m);
    const loc: [number, number, number] = [0, 0, 0];
    const scale: [number, number, number] = [0, 0, 0];
    for (let c = 0; c < 3; c++) {
      const sorted = Float64Array.from(cols[c]!).sort();
      const kept = k === 0 ? sorted : sorted.subarray(k, m - k);
      let mean = 0;
      for (const v of kept) mean += v;
      mean /= kept.length;
      let vr = 0;
      for (const v of kept) vr += (v - mean) * (v - mean);
      loc[c] = mean;
      scale[c] = Math.max(Math.sqrt(vr / kept.length), minScale);
    }
    byAtomCount[n] = { loc, scale };
    counts[n] = m;
  }
  return { byAtomCount, counts };
}

/** The reference file format `train_loc_scale.json` (spec §1.3): {"N": [[loc],[scale]]}, keys as sorted strings. */
export function toReferenceJson(stats: LatticeStats): string {
  const keys = Object.keys(stats.byAtomCount).sort();
  const out: Record<string, [number[], number[]]> = {};
  for (const key of keys) {
    const e = stats.byAtomCount[Number(key)]!;
    out[key] = [[...e.loc], [...e.scale]];
  }
  return JSON.stringify(out, null, 1) + '\n';
}

export interface Summary {
  min: number;
  max: number;
  mean: number;
  std: number;
}

function summarise(values: ArrayLike<number>): Summary {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = sum / values.length;
  let vr = 0;
  for (let i = 0; i < values.length; i++) vr += (values[i]! - mean) ** 2;
  return { min, max, mean, std: Math.sqrt(vr / values.length) };
}

export interface SplitSummary {
  dataset: string;
  split: string;
  structures: number;
  atoms: number;
  /** atom count N -> number of structures */
  atomCountHistogram: Record<number, number>;
  /** element symbol -> { structures containing it, atoms of it }, sorted by atoms descending */
  elements: { symbol: string; Z: number; structures: number; atoms: number }[];
  /** a, b, c (Å), alpha, beta, gamma (°), volume (Å³), volumePerAtom (Å³) */
  lattice: Record<'a' | 'b' | 'c' | 'alpha' | 'beta' | 'gamma' | 'volume' | 'volumePerAtom', Summary>;
}

export function summariseSplit(split: PreparedSplit): SplitSummary {
  const M = split.materialIds.length;
  const hist: Record<number, number> = {};
  const atomsOf = new Map<number, number>();
  const structuresOf = new Map<number, number>();
  const cols: number[][] = [[], [], [], [], [], [], [], []];
  const seen = new Set<number>();
  for (let g = 0; g < M; g++) {
    const s = split.atomOffsets[g]!;
    const e = split.atomOffsets[g + 1]!;
    const n = e - s;
    hist[n] = (hist[n] ?? 0) + 1;
    seen.clear();
    for (let i = s; i < e; i++) {
      const z = split.atomTypes[i]!;
      atomsOf.set(z, (atomsOf.get(z) ?? 0) + 1);
      if (!seen.has(z)) {
        seen.add(z);
        structuresOf.set(z, (structuresOf.get(z) ?? 0) + 1);
      }
    }
    const [a, b, c] = [split.lengths[3 * g]!, split.lengths[3 * g + 1]!, split.lengths[3 * g + 2]!];
    const [al, be, ga] = [split.angles[3 * g]!, split.angles[3 * g + 1]!, split.angles[3 * g + 2]!].map((x) => (x * Math.PI) / 180) as [number, number, number];
    const vol = a * b * c * Math.sqrt(Math.max(0, 1 - Math.cos(al) ** 2 - Math.cos(be) ** 2 - Math.cos(ga) ** 2 + 2 * Math.cos(al) * Math.cos(be) * Math.cos(ga)));
    const row = [a, b, c, split.angles[3 * g]!, split.angles[3 * g + 1]!, split.angles[3 * g + 2]!, vol, vol / n];
    for (let k = 0; k < 8; k++) cols[k]!.push(row[k]!);
  }
  const names = ['a', 'b', 'c', 'alpha', 'beta', 'gamma', 'volume', 'volumePerAtom'] as const;
  const lattice = {} as SplitSummary['lattice'];
  names.forEach((name, k) => (lattice[name] = summarise(cols[k]!)));
  const elements = [...atomsOf.entries()]
    .map(([Z, atoms]) => ({ symbol: elementSymbol(Z), Z, structures: structuresOf.get(Z)!, atoms }))
    .sort((x, y) => y.atoms - x.atoms || x.Z - y.Z);
  return { dataset: split.dataset, split: split.split, structures: M, atoms: split.atomTypes.length, atomCountHistogram: hist, elements, lattice };
}
