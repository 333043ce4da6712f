/**
 * Shared by predictStructures and generate: integer option checks and the public trajectory frame
 * (a sampler frame of one crystal decoded to a lattice matrix, wrapped fractional coordinates, velocities and,
 * for de-novo generation, the species of the frame with 'X' where a type is still masked).
 */
import type { LatticeStats } from '../data/types.js';
import { elementSymbol } from '../crystal/elements.js';
import { fromParameters } from '../crystal/lattice.js';
import { featuresToLattice } from '../diffusion/latticeFeatures.js';
import { mod1 } from '../diffusion/wrap.js';
import { MASK_ID } from '../diffusion/masking.js';
import type { TrajectoryFrame as SamplerFrame } from '../sampling/sampler.js';
import { InputError } from '../util/errors.js';
import type { TrajectoryFrame } from './types.js';

export function checkInt(value: number, name: string, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new InputError(`${name} must be an integer in ${min}..${max} (got ${value})`);
}

/** Crystal g (atoms [start, end)) of a recorded sampler state as a public frame; species only when asked (DNG). */
export function publicFrame(frame: SamplerFrame, g: number, start: number, end: number, stats: LatticeStats, withSpecies = false): TrajectoryFrame {
  const params = featuresToLattice(frame.lattice.subarray(g * 6, g * 6 + 6), end - start, stats);
  const frac: number[] = [];
  const vel: number[] = [];
  for (let j = start * 3; j < end * 3; j++) {
    frac.push(mod1(frame.pos[j]!));
    vel.push(frame.vel[j]!);
  }
  const out: TrajectoryFrame = { t: frame.t, lattice: fromParameters(params), frac, vel };
  if (withSpecies) {
    out.species = [];
    for (let i = start; i < end; i++) {
      const z = frame.types ? frame.types[i]! : MASK_ID;
      out.species.push(z === MASK_ID || z < 1 ? 'X' : elementSymbol(z));
    }
  }
  return out;
}
