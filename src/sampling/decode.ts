/**
 * Decoding of sampled states into crystals (spec §7.3): fractional coordinates
 * f = p mod 1, lattice parameters from the inverse feature transforms of §1.4
 * (lengths need the per-atom-count loc/scale of the training statistics),
 * lattice rows by pymatgen's from_parameters orientation (§1.2 step 3), species
 * from the given atomic numbers (CSP). Sites keep the batch order.
 */
import type { BatchLayout } from '../network/types.js';
import type { LatticeStats } from '../data/types.js';
import type { LatticeParams, Structure } from '../crystal/types.js';
import { fromParameters } from '../crystal/lattice.js';
import { elementSymbol } from '../crystal/elements.js';
import { featuresToLattice, statsForAtomCount } from '../diffusion/latticeFeatures.js';
import { mod1 } from '../diffusion/wrap.js';

export interface DecodedCrystal {
  structure: Structure;
  params: LatticeParams;
  /**
   * false if any coordinate or lattice parameter is not finite. The reference
   * drops the whole batch when one sample fails to convert (§13.17); we keep
   * every sample and flag only the failing one.
   */
  finite: boolean;
}

/**
 * Decode every crystal of a batch from network-scale positions p (N*3, any
 * range: wrapped with mod 1) and lattice features (G*6). Throws an InputError
 * up front if an atom count has no lattice statistics (§13.13).
 */
export function decodeCrystals(
  layout: BatchLayout,
  types: ArrayLike<number>,
  pos: ArrayLike<number>,
  lattice: ArrayLike<number>,
  stats: LatticeStats,
): DecodedCrystal[] {
  for (let g = 0; g < layout.numCrystals; g++) statsForAtomCount(stats, layout.atomOffsets[g + 1]! - layout.atomOffsets[g]!);
  const out: DecodedCrystal[] = [];
  for (let g = 0; g < layout.numCrystals; g++) {
    const start = layout.atomOffsets[g]!;
    const end = layout.atomOffsets[g + 1]!;
    const features = [0, 1, 2, 3, 4, 5].map((d) => lattice[g * 6 + d]!);
    const params = featuresToLattice(features, end - start, stats);
    const frac = new Float64Array((end - start) * 3);
    const species: string[] = [];
    let finite = [params.a, params.b, params.c, params.alpha, params.beta, params.gamma].every(Number.isFinite);
    for (let i = start; i < end; i++) {
      species.push(elementSymbol(types[i]!, `atom ${i - start} of sample ${g}`));
      for (let d = 0; d < 3; d++) {
        const p = pos[i * 3 + d]!;
        if (!Number.isFinite(p)) finite = false;
        frac[(i - start) * 3 + d] = mod1(p);
      }
    }
    out.push({ structure: { lattice: fromParameters(params), species, frac }, params, finite });
  }
  return out;
}

/** Decode the final state of a sampler run (spec §7.3). */
export function decodeSamplerResult(
  result: { layout: BatchLayout; types: ArrayLike<number>; pos: ArrayLike<number>; lattice: ArrayLike<number> },
  stats: LatticeStats,
): DecodedCrystal[] {
  return decodeCrystals(result.layout, result.types, result.pos, result.lattice, stats);
}
