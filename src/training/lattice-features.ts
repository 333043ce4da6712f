/**
 * Lattice feature vectors l ∈ R^6 of a whole split (spec §1.4), computed once for training batches.
 *
 * lengths: (log[a,b,c] − loc_N) / scale_N with N = atoms in the cell (statistics from the train
 * split, §1.3); angles: tan(φ − π/2) / 0.35. Computed in float64 and stored as float32 (the
 * reference's storage type).
 */
import type { LatticeStats, PreparedSplit } from '../data/types.js';
import { InputError } from '../util/errors.js';

/** Angle transform scale (spec §1.4, `ContinuousIntervalAngles` loc 0, scale 0.35). */
export const ANGLE_SCALE = 0.35;

/** Angle feature of one angle in degrees (spec §1.4). */
export function angleFeature(degrees: number): number {
  return Math.tan((degrees * Math.PI) / 180 - Math.PI / 2) / ANGLE_SCALE;
}

/** Length features of one cell with N atoms (spec §1.4). */
export function lengthFeatures(lengths: ArrayLike<number>, atomCount: number, stats: LatticeStats): [number, number, number] {
  const s = stats.byAtomCount[atomCount];
  if (!s) {
    throw new InputError(`no lattice statistics for cells of ${atomCount} atoms (the training split has none; spec §13.13)`);
  }
  return [0, 1, 2].map((d) => (Math.log(lengths[d]!) - s.loc[d]!) / s.scale[d]!) as [number, number, number];
}

/** Lattice features of every crystal of `split`, M*6 row-major (order a,b,c,α,β,γ). */
export function latticeFeaturesOf(split: PreparedSplit, stats: LatticeStats): Float32Array {
  const M = split.materialIds.length;
  const out = new Float32Array(M * 6);
  for (let k = 0; k < M; k++) {
    const n = split.atomOffsets[k + 1]! - split.atomOffsets[k]!;
    let lf: [number, number, number];
    try {
      lf = lengthFeatures(split.lengths.subarray(k * 3, k * 3 + 3), n, stats);
    } catch (err) {
      throw new InputError(`${split.dataset}/${split.split} crystal ${split.materialIds[k]}: ${(err as Error).message}`);
    }
    for (let d = 0; d < 3; d++) {
      out[k * 6 + d] = lf[d]!;
      out[k * 6 + 3 + d] = angleFeature(split.angles[k * 3 + d]!);
    }
  }
  return out;
}
