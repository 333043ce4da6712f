/**
 * Validity of a predicted structure before matching (spec §9 step 1, §13.15).
 *
 * - KLDM protocol: structural only — minimum interatomic distance over pairs of
 *   distinct sites (minimum image, periodic images included) ≥ 0.5 Å, cell
 *   volume ≥ 0.1 Å³, longest lattice length ≤ 40 Å. Any failure to evaluate
 *   (NaN, degenerate cell, ...) counts as invalid.
 * - DiffCSP protocol: the same distance and volume checks (no length cap) AND
 *   SMACT composition validity (smact.ts).
 */
import type { Structure } from '../crystal/types.js';
import { determinant, minInteratomicDistance } from '../crystal/lattice.js';
import { atomicNumber, isElementSymbol } from '../crystal/elements.js';
import { smactValid } from './smact.js';

export type ValidityProtocol = 'kldm' | 'diffcsp';

export interface Validity {
  valid: boolean;
  /** why invalid (absent when valid) */
  reason?: string;
}

export const MIN_DISTANCE = 0.5;
export const MIN_VOLUME = 0.1;
export const MAX_LATTICE_LENGTH = 40;

/** Distance + volume (+ optional length cap) check; never throws. */
export function structuralValidity(s: Structure, maxLength: number | null): Validity {
  try {
    const L = s.lattice;
    for (let i = 0; i < 9; i++) if (!Number.isFinite(L[i])) return { valid: false, reason: 'non-finite lattice' };
    for (let i = 0; i < s.frac.length; i++) if (!Number.isFinite(s.frac[i])) return { valid: false, reason: 'non-finite coordinate' };
    if (s.species.length === 0 || s.frac.length !== 3 * s.species.length) return { valid: false, reason: 'no sites or inconsistent coordinates' };
    const vol = Math.abs(determinant(L));
    if (!(vol >= MIN_VOLUME)) return { valid: false, reason: `volume ${vol.toPrecision(3)} Å^3 < ${MIN_VOLUME}` };
    if (maxLength !== null) {
      const longest = Math.max(Math.hypot(L[0], L[1], L[2]), Math.hypot(L[3], L[4], L[5]), Math.hypot(L[6], L[7], L[8]));
      if (!(longest <= maxLength)) return { valid: false, reason: `lattice length ${longest.toPrecision(4)} Å > ${maxLength}` };
    }
    const dmin = minInteratomicDistance(L, s.frac);
    if (!(dmin >= MIN_DISTANCE)) return { valid: false, reason: `min interatomic distance ${dmin.toPrecision(3)} Å < ${MIN_DISTANCE}` };
    return { valid: true };
  } catch (err) {
    return { valid: false, reason: `validity check failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** DiffCSP's composition check (SMACT charge neutrality + Pauling electronegativity). */
export function compositionValidity(species: readonly string[]): Validity {
  try {
    if (species.some((s) => !isElementSymbol(s))) return { valid: false, reason: 'unknown element' };
    return smactValid(species, (s) => atomicNumber(s)) ? { valid: true } : { valid: false, reason: 'SMACT: no charge-neutral, electronegativity-ordered oxidation states' };
  } catch (err) {
    return { valid: false, reason: `SMACT check failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Validity of one structure under a protocol (spec §9 / §13.15). */
export function checkValidity(s: Structure, protocol: ValidityProtocol): Validity {
  if (protocol === 'kldm') return structuralValidity(s, MAX_LATTICE_LENGTH);
  const comp = compositionValidity(s.species);
  if (!comp.valid) return comp;
  return structuralValidity(s, null);
}
