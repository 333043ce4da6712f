/**
 * Per-structure quantities of the DNG distribution distances (spec §10.1): pymatgen's
 * `Structure.density` (g/cm³, from pymatgen's atomic masses) and the number of distinct elements.
 */
import type { Structure } from '../../crystal/types.js';
import { determinant } from '../../crystal/lattice.js';
import { pymatgenMass } from './pymatgenElements.js';

/** 1 u in g (CODATA 2018, what pymatgen's unit conversion uses) per Å³ in cm³ (1e-24). */
const AMU_G_PER_A3_CM3 = 1.6605390666;

export function densityGcm3(s: Structure): number {
  let mass = 0;
  for (const e of s.species) mass += pymatgenMass(e);
  return (mass * AMU_G_PER_A3_CM3) / Math.abs(determinant(s.lattice));
}

export function distinctElements(s: Structure): number {
  return new Set(s.species).size;
}
