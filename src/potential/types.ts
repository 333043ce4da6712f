/**
 * What relaxation (src/relax) needs from an interatomic potential: energy, forces and stress of a batch of
 * periodic structures (one call per optimiser step for every structure still relaxing, so a
 * potential can batch them, as M3GNet's m3gnetBatch does).
 */
import type { Structure } from '../crystal/types.js';

export interface PotentialEvaluation {
  /** total energy, eV */
  energy: number;
  /** −∂E/∂r, eV/Å, N × 3 row-major, Cartesian */
  forces: Float64Array;
  /** (1/V) ∂E/∂ε (eV/Å³), 3 × 3 row-major; negative entries mean the cell wants to shrink (ASE's sign) */
  stress: Float64Array | null;
}

/**
 * A batched potential: the i-th result belongs to the i-th structure. `elements`, when present, are the
 * chemical symbols it covers: callers relaxing many structures use it to report a structure with another
 * element on its own instead of failing the whole batch (a generated crystal may contain any element).
 */
export type BatchPotential = ((structures: readonly Structure[]) => PotentialEvaluation[]) & { readonly elements?: ReadonlySet<string> };

/** The elements of `s` the potential does not cover (empty when it covers all, or does not say). */
export function uncoveredElements(potential: BatchPotential, s: Structure): string[] {
  const known = potential.elements;
  if (!known) return [];
  return [...new Set(s.species)].filter((el) => !known.has(el));
}
