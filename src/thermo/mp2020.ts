/**
 * Materials Project 2020 energy corrections (Wang, Kingsbury, McDermott, Horton, Jain, Ong,
 * Persson & Sun, "A framework for quantifying uncertainty in DFT energy corrections", Sci. Rep. 11,
 * 15496 (2021)), applied to the raw GGA/GGA+U-like energies of the M3GNet potential (trained on
 * uncorrected MP energies) so that they sit on the same scale as MP's corrected formation energies
 * (issue #15). The fitted values (eV per atom of the corrected species) are the published ones.
 *
 * Rules, as in pymatgen's MaterialsProject2020Compatibility (checked against it on MP-20, see
 * docs/stability.md for the agreement and every kind of disagreement):
 * - elements alone get no correction;
 * - sulfur: the S correction per S atom when the compound is a sulfide or polysulfide (no S site
 *   whose nearest neighbours (within 0.4 Å of the nearest, at most four) are on average more
 *   electronegative than S, i.e. not a sulfate-like S);
 * - oxygen: per O atom, by the oxide type from O–O and O–H distances (peroxide O–O < 1.5645 Å,
 *   superoxide < 1.4175 Å, ozonide when an O takes part in two such bonds; a hydroxide counts as an oxide);
 * - Br, I, Se, Si, Sb, Te, H, N, F, Cl: per atom when the element is the most electronegative of the
 *   compound. (pymatgen also applies it when its oxidation-state guess, from ICSD occurrence
 *   statistics we do not ship, makes the element negative; those compounds are the known
 *   disagreements);
 * - GGA/GGA+U mixing: when the most electronegative element is O or F (MP runs GGA+U there), per atom
 *   of V, Cr, Mn, Fe, Co, Ni, W, Mo.
 */
import type { Structure } from '../crystal/types.js';
import { elementBySymbol } from '../crystal/elements.js';

/** anion corrections, eV per atom of the anion (Wang et al. 2021, Table 1) */
export const MP2020_ANION: Readonly<Record<string, number>> = {
  oxide: -0.687, peroxide: -0.465, superoxide: -0.161, ozonide: 0,
  S: -0.503, F: -0.462, Cl: -0.614, Br: -0.534, I: -0.379, N: -0.361, Se: -0.472, Si: 0.071, Sb: -0.192, Te: -0.422, H: -0.179,
};

/** GGA/GGA+U mixing corrections, eV per atom of the metal, for oxides and fluorides (same values for both) */
export const MP2020_U: Readonly<Record<string, number>> = { V: -1.7, Cr: -1.999, Mn: -1.668, Fe: -2.256, Co: -1.638, Ni: -2.541, W: -4.438, Mo: -3.202 };

const ANION_ORDER = ['Br', 'I', 'Se', 'Si', 'Sb', 'Te', 'H', 'N', 'F', 'Cl'];

export interface Mp2020Adjustment {
  name: string;
  /** eV per atom of `species` */
  perAtom: number;
  species: string;
  atoms: number;
  /** eV for the whole cell */
  energy: number;
}

export interface Mp2020Result {
  /** total correction of the cell, eV (add to the raw energy) */
  energy: number;
  adjustments: Mp2020Adjustment[];
  oxideType: 'oxide' | 'peroxide' | 'superoxide' | 'ozonide' | 'hydroxide' | null;
  sulfideType: 'sulfide' | 'polysulfide' | null;
}

function electronegativity(el: string): number {
  // noble gases have none; they sort first (never "most electronegative"), as NaN-free stand-in
  return elementBySymbol(el).electronegativity ?? -Infinity;
}

/** Cartesian vector of the fractional difference d (row vector times the lattice) */
function cart(s: Structure, d0: number, d1: number, d2: number): number {
  const L = s.lattice;
  const x = d0 * L[0]! + d1 * L[3]! + d2 * L[6]!;
  const y = d0 * L[1]! + d1 * L[4]! + d2 * L[7]!;
  const z = d0 * L[2]! + d1 * L[5]! + d2 * L[8]!;
  return Math.sqrt(x * x + y * y + z * z);
}

/** shortest periodic distance between sites i and j: the wrapped difference and its ±1 images (as pymatgen's pbc_shortest_vectors) */
function shortestDistance(s: Structure, i: number, j: number): number {
  const f = s.frac;
  const d = [0, 1, 2].map((k) => {
    const v = f[3 * j + k]! - f[3 * i + k]!;
    return v - Math.round(v);
  });
  let best = Infinity;
  for (let a = -1; a <= 1; a++) for (let b = -1; b <= 1; b++) for (let c = -1; c <= 1; c++) best = Math.min(best, cart(s, d[0]! + a, d[1]! + b, d[2]! + c));
  return best;
}

/** shortest periodic distances from each site in `from` to each in `to` (the same site excluded when skipSelf) */
function shortestDistances(s: Structure, from: number[], to: number[], skipSelf: boolean): number[][] {
  return from.map((i) => to.map((j) => (skipSelf && i === j ? Infinity : shortestDistance(s, i, j))));
}

/** every periodic image of every site within `radius` of site i (the site itself excluded) */
function neighboursWithin(s: Structure, i: number, radius: number): { index: number; distance: number }[] {
  const L = s.lattice;
  // image reach per axis from the cell's perpendicular heights: h_k = V / |a_l × a_m|
  const row = (r: number): number[] => [L[3 * r]!, L[3 * r + 1]!, L[3 * r + 2]!];
  const crossNorm = (u: number[], v: number[]): number => Math.hypot(u[1]! * v[2]! - u[2]! * v[1]!, u[2]! * v[0]! - u[0]! * v[2]!, u[0]! * v[1]! - u[1]! * v[0]!);
  const a = row(0), b = row(1), c = row(2);
  const vol = Math.abs(a[0]! * (b[1]! * c[2]! - b[2]! * c[1]!) - a[1]! * (b[0]! * c[2]! - b[2]! * c[0]!) + a[2]! * (b[0]! * c[1]! - b[1]! * c[0]!));
  const reach = [crossNorm(b, c), crossNorm(c, a), crossNorm(a, b)].map((area) => Math.ceil(radius / (vol / area)) + 1);
  const out: { index: number; distance: number }[] = [];
  const f = s.frac;
  for (let j = 0; j < s.species.length; j++) {
    const d0 = f[3 * j]! - f[3 * i]!, d1 = f[3 * j + 1]! - f[3 * i + 1]!, d2 = f[3 * j + 2]! - f[3 * i + 2]!;
    for (let p = -reach[0]!; p <= reach[0]!; p++)
      for (let q = -reach[1]!; q <= reach[1]!; q++)
        for (let r = -reach[2]!; r <= reach[2]!; r++) {
          const dist = cart(s, d0 + p, d1 + q, d2 + r);
          if (dist < radius && dist > 1e-8) out.push({ index: j, distance: dist });
        }
  }
  return out;
}

/** pymatgen's OxideType with MP2020's relative cutoff 1.05 */
export function oxideType(s: Structure, relativeCutoff = 1.05): Mp2020Result['oxideType'] {
  const oIdx = s.species.flatMap((el, i) => (el === 'O' ? [i] : []));
  if (oIdx.length === 0 || new Set(s.species).size === 1) return null;
  const hIdx = s.species.flatMap((el, i) => (el === 'H' ? [i] : []));
  if (hIdx.length > 0 && shortestDistances(s, oIdx, hIdx, false).some((row) => row.some((d) => d < relativeCutoff * 0.93))) return 'hydroxide';
  const oo = shortestDistances(s, oIdx, oIdx, true);
  const bonded = (cut: number): number[] => oo.flatMap((row, a) => row.flatMap((d) => (d < cut ? [a] : [])));
  const superBonds = bonded(relativeCutoff * 1.35);
  if (superBonds.length > 0) return superBonds.length > new Set(superBonds).size ? 'ozonide' : 'superoxide';
  if (bonded(relativeCutoff * 1.49).length > 0) return 'peroxide';
  return 'oxide';
}

/** pymatgen's sulfide_type: null for no S (or a sulfate-like S), else sulfide / polysulfide */
export function sulfideType(s: Structure): Mp2020Result['sulfideType'] {
  const sIdx = s.species.flatMap((el, i) => (el === 'S' ? [i] : []));
  if (sIdx.length === 0 || new Set(s.species).size === 1) return null;
  const xS = electronegativity('S');
  const types = new Set<string>();
  for (const i of sIdx) {
    // all neighbours within the search radius, sorted by distance (every periodic image, not only the nearest)
    let radius = 4;
    let neighbours: { el: string; d: number }[] = [];
    const maxLen = Math.max(...[0, 1, 2].map((r) => Math.hypot(s.lattice[3 * r]!, s.lattice[3 * r + 1]!, s.lattice[3 * r + 2]!)));
    for (;;) {
      neighbours = neighboursWithin(s, i, radius).map((n) => ({ el: s.species[n.index]!, d: n.distance }));
      if (neighbours.length > 0) break;
      radius *= 2;
      if (radius > 2 * maxLen) break;
    }
    neighbours.sort((a, b) => a.d - b.d);
    if (neighbours.length === 0) {
      types.add('sulfide');
      continue;
    }
    const near = neighbours.filter((n) => n.d < neighbours[0]!.d + 0.4).slice(0, 4);
    const avg = near.reduce((t, n) => t + electronegativity(n.el), 0) / near.length;
    if (avg > xS) types.add('sulfate');
    else if (avg === xS && near.some((n) => n.el === 'S')) types.add('polysulfide');
    else types.add('sulfide');
  }
  if (types.has('sulfate')) return null;
  return types.has('polysulfide') ? 'polysulfide' : 'sulfide';
}

export function mp2020Correction(s: Structure): Mp2020Result {
  const counts = new Map<string, number>();
  for (const el of s.species) counts.set(el, (counts.get(el) ?? 0) + 1);
  const result: Mp2020Result = { energy: 0, adjustments: [], oxideType: null, sulfideType: null };
  if (counts.size <= 1) return result;
  const add = (name: string, species: string, perAtom: number): void => {
    const atoms = counts.get(species)!;
    result.adjustments.push({ name, perAtom, species, atoms, energy: perAtom * atoms });
    result.energy += perAtom * atoms;
  };
  // elements in order of first appearance, stably sorted by electronegativity (ties keep that order)
  const elements = [...counts.keys()].sort((a, b) => electronegativity(a) - electronegativity(b));
  const mostElectronegative = elements[elements.length - 1]!;
  if (counts.has('S')) {
    result.sulfideType = sulfideType(s);
    if (result.sulfideType !== null) add('MP2020 anion correction (S)', 'S', MP2020_ANION['S']!);
  }
  if (counts.has('O')) {
    result.oxideType = oxideType(s);
    const kind = result.oxideType === 'hydroxide' || result.oxideType === null ? 'oxide' : result.oxideType;
    add(`MP2020 anion correction (${kind})`, 'O', MP2020_ANION[kind]!);
  }
  for (const anion of ANION_ORDER) {
    if (counts.has(anion) && anion === mostElectronegative) add(`MP2020 anion correction (${anion})`, anion, MP2020_ANION[anion]!);
  }
  if (mostElectronegative === 'O' || mostElectronegative === 'F') {
    for (const el of counts.keys()) if (el in MP2020_U) add(`MP2020 GGA/GGA+U mixing correction (${el})`, el, MP2020_U[el]!);
  }
  return result;
}
