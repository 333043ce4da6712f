/**
 * Lattice feature vectors l ∈ R^6 of a whole split (spec §1.4), computed once for training
 * batches with the diffusion module's transform (float64 math, stored as float32 like the
 * reference). An atom count without training statistics is an InputError naming the crystal.
 */
import type { LatticeStats, PreparedSplit } from '../data/types.js';
import { latticeToFeatures } from '../diffusion/latticeFeatures.js';
import { InputError } from '../util/errors.js';

/** Lattice features of every crystal of `split`, M*6 row-major (order a,b,c,α,β,γ). */
export function latticeFeaturesOf(split: PreparedSplit, stats: LatticeStats): Float32Array {
  const M = split.materialIds.length;
  const out = new Float32Array(M * 6);
  for (let k = 0; k < M; k++) {
    const n = split.atomOffsets[k + 1]! - split.atomOffsets[k]!;
    const L = split.lengths;
    const A = split.angles;
    let f: number[];
    try {
      f = latticeToFeatures(
        { a: L[3 * k]!, b: L[3 * k + 1]!, c: L[3 * k + 2]!, alpha: A[3 * k]!, beta: A[3 * k + 1]!, gamma: A[3 * k + 2]! },
        n,
        stats,
      );
    } catch (err) {
      throw new InputError(`${split.dataset}/${split.split} crystal ${split.materialIds[k]}: ${(err as Error).message}`);
    }
    out.set(f, k * 6);
  }
  return out;
}
