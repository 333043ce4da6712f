/**
 * Operations on the plain `Structure` contract (./types.ts): construction with
 * validation, wrapping, Niggli reduction and the standard orientation of the
 * data preprocessing (spec §1.2).
 */
import type { LatticeParams, Matrix3, Structure } from './types.js';
import { InputError } from '../util/errors.js';
import { atomicNumber, elementSymbol, isElementSymbol } from './elements.js';
import { determinant, fromParameters, inverse, toParameters, wrap01 } from './lattice.js';
import { niggliReduceLattice } from './niggli.js';

/** Builds a structure, checking element symbols, array sizes and finiteness. */
export function makeStructure(lattice: Matrix3, species: readonly string[], frac: ArrayLike<number>, context = 'structure'): Structure {
  if (lattice.length !== 9 || lattice.some((v) => !Number.isFinite(v))) throw new InputError(`${context}: lattice must be 9 finite numbers`);
  if (frac.length !== species.length * 3) {
    throw new InputError(`${context}: ${species.length} species but ${frac.length / 3} coordinate triples`);
  }
  for (let i = 0; i < species.length; i++) {
    if (!isElementSymbol(species[i]!)) atomicNumber(species[i]!, `${context}, site ${i + 1}`);
  }
  const f = Float64Array.from(frac);
  for (let i = 0; i < f.length; i++) {
    if (!Number.isFinite(f[i]!)) throw new InputError(`${context}: non-finite coordinate at site ${Math.floor(i / 3) + 1}`);
  }
  if (!(Math.abs(determinant(lattice)) > 1e-8)) throw new InputError(`${context}: degenerate lattice (zero volume)`);
  return { lattice: [...lattice] as Matrix3, species: [...species], frac: f };
}

/** Structure from atomic numbers. */
export function structureFromNumbers(lattice: Matrix3, numbers: ArrayLike<number>, frac: ArrayLike<number>, context = 'structure'): Structure {
  const species: string[] = [];
  for (let i = 0; i < numbers.length; i++) species.push(elementSymbol(numbers[i]!, `${context}, site ${i + 1}`));
  return makeStructure(lattice, species, frac, context);
}

export function numSites(s: Structure): number {
  return s.species.length;
}

export function atomicNumbers(s: Structure): Int32Array {
  const out = new Int32Array(s.species.length);
  for (let i = 0; i < out.length; i++) out[i] = atomicNumber(s.species[i]!);
  return out;
}

export function latticeParameters(s: Structure): LatticeParams {
  return toParameters(s.lattice);
}

/** Copy with every fractional coordinate wrapped into [0, 1). */
export function wrapToUnitCell(s: Structure): Structure {
  const frac = new Float64Array(s.frac.length);
  for (let i = 0; i < frac.length; i++) frac[i] = wrap01(s.frac[i]!);
  return { lattice: [...s.lattice] as Matrix3, species: [...s.species], frac };
}

/**
 * Same lattice parameters, rebuilt in pymatgen's `from_parameters` orientation,
 * fractional coordinates unchanged (spec §1.2 step 3).
 */
export function standardOrientation(s: Structure): Structure {
  return { lattice: fromParameters(toParameters(s.lattice)), species: [...s.species], frac: Float64Array.from(s.frac) };
}

export interface NiggliReduction {
  structure: Structure;
  /** integer matrix P (row-major, det +1) with reduced lattice = P · original lattice */
  transform: Matrix3;
}

const IDENTITY: Matrix3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/**
 * Niggli-reduces the cell (spec §1.2 step 2, pymatgen `get_reduced_structure()`):
 * the reduced basis comes from ./niggli.ts; sites keep their order and species,
 * no primitive cell is taken and nothing is symmetrised. Cartesian positions are
 * kept: f_new = f_old · P⁻¹, then wrapped to [0, 1) (pymatgen rebuilds the
 * structure with to_unit_cell=True). When the cell is already reduced
 * (P = identity) the coordinates are returned untouched, as pymatgen returns a
 * plain copy in that case.
 */
export function niggliReduce(s: Structure, tolerance = 1e-5): NiggliReduction {
  const { lattice, transform: P } = niggliReduceLattice(s.lattice, tolerance);
  if (P.every((v, i) => v === IDENTITY[i])) {
    return { structure: { lattice: [...s.lattice] as Matrix3, species: [...s.species], frac: Float64Array.from(s.frac) }, transform: P };
  }
  const Pinv = inverse(P).map((v) => Math.round(v)); // P is unimodular, so P⁻¹ is an integer matrix
  const n = s.species.length;
  const frac = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const x = s.frac[3 * i]!;
    const y = s.frac[3 * i + 1]!;
    const z = s.frac[3 * i + 2]!;
    for (let j = 0; j < 3; j++) frac[3 * i + j] = wrap01(x * Pinv[j]! + y * Pinv[3 + j]! + z * Pinv[6 + j]!);
  }
  return { structure: { lattice, species: [...s.species], frac }, transform: P };
}

/**
 * Checks the Niggli conditions (Křivý & Gruber 1976; Grosse-Kunstleve et al. 2004)
 * on the metric A = a·a, B = b·b, C = c·c, ξ = 2b·c, η = 2a·c, ζ = 2a·b, with an
 * absolute tolerance eps = tol · V^(1/3) in Å² (the scale pymatgen uses).
 * Independent of the reduction code; used to verify it.
 */
export function isNiggliReduced(lattice: Matrix3, tol = 1e-5): boolean {
  const p = toParameters(lattice);
  const eps = tol * Math.cbrt(Math.abs(determinant(lattice)));
  const A = p.a * p.a;
  const B = p.b * p.b;
  const C = p.c * p.c;
  const deg = Math.PI / 180;
  const xi = 2 * p.b * p.c * Math.cos(p.alpha * deg);
  const eta = 2 * p.a * p.c * Math.cos(p.beta * deg);
  const zeta = 2 * p.a * p.b * Math.cos(p.gamma * deg);
  const lt = (x: number, y: number) => x < y - eps;
  const eq = (x: number, y: number) => !lt(x, y) && !lt(y, x);
  if (lt(B, A) || lt(C, B)) return false;
  if (eq(A, B) && lt(Math.abs(eta), Math.abs(xi))) return false;
  if (eq(B, C) && lt(Math.abs(zeta), Math.abs(eta))) return false;
  const allPositive = xi > eps && eta > eps && zeta > eps;
  const allNonPositive = xi <= eps && eta <= eps && zeta <= eps;
  if (!allPositive && !allNonPositive) return false;
  if (lt(B, Math.abs(xi)) || lt(A, Math.abs(eta)) || lt(A, Math.abs(zeta))) return false;
  if (lt(xi + eta + zeta + A + B, 0)) return false;
  // special (boundary) conditions
  if (eq(xi, B) && lt(2 * eta, zeta)) return false;
  if (eq(eta, A) && lt(2 * xi, zeta)) return false;
  if (eq(zeta, A) && lt(2 * xi, eta)) return false;
  if (eq(xi, -B) && !eq(zeta, 0)) return false;
  if (eq(eta, -A) && !eq(zeta, 0)) return false;
  if (eq(zeta, -A) && !eq(eta, 0)) return false;
  if (eq(xi + eta + zeta + A + B, 0) && lt(0, 2 * (A + eta) + zeta)) return false;
  return true;
}

/**
 * The preprocessing of one parsed CIF structure (spec §1.2 steps 2-3):
 * Niggli reduction, then the lattice rebuilt from its parameters in the
 * standard orientation; species, site order and fractional coordinates kept.
 */
export function preprocessStructure(s: Structure): Structure {
  return standardOrientation(niggliReduce(s).structure);
}
