/**
 * Plain-data crystal types shared by every layer (serialisable, no methods).
 * Functions that operate on them live beside this file (lattice.ts, structure.ts, ...).
 */

/** 3x3 matrix, row-major; for a lattice the rows are the lattice vectors a, b, c in Å. */
export type Matrix3 = [number, number, number, number, number, number, number, number, number];

/** Lattice parameters: lengths in Å, angles in degrees. */
export interface LatticeParams {
  a: number;
  b: number;
  c: number;
  alpha: number;
  beta: number;
  gamma: number;
}

/** A periodic crystal: lattice rows in Å, one element symbol and one fractional coordinate triple per site. */
export interface Structure {
  lattice: Matrix3;
  /** element symbols, length N */
  species: string[];
  /** fractional coordinates, N*3 row-major */
  frac: Float64Array;
}
