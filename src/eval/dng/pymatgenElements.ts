/**
 * The per-element numbers pymatgen uses inside CrystalNN and Structure.density (spec §10.1): Pauling
 * electronegativity `Element.X`, the covalent radii of `molecule_structure_comparator.CovalentRadius`
 * (CrystalNN's default radius when sites carry no oxidation states), `Element.atomic_radius` (its
 * fallback) and `Element.atomic_mass`. They differ from src/crystal/elements.ts in places (e.g. C
 * covalent radius 0.73 vs 0.76 Å, masses of a newer IUPAC table), so the fingerprint port keeps
 * pymatgen's own values. Data: data/pymatgenElements.json, exported from Debian pymatgen 2022.11.7.
 */
import table from './data/pymatgenElements.json' with { type: 'json' };
import { InputError } from '../../util/errors.js';

interface ElementTable {
  symbols: string[];
  X: Array<number | null>;
  covalentRadius: Array<number | null>;
  atomicRadius: Array<number | null>;
  mass: number[];
}

const t = table as unknown as ElementTable;
const index = new Map(t.symbols.map((s, i) => [s, i]));

function idx(symbol: string): number {
  const i = index.get(symbol);
  if (i === undefined) throw new InputError(`unknown element '${symbol}' (the DNG fingerprints cover Z = 1..100)`);
  return i;
}

/** Pauling electronegativity; NaN where pymatgen has none (He, Ne, Ar). */
export function paulingX(symbol: string): number {
  return t.X[idx(symbol)] ?? NaN;
}

/** pymatgen CrystalNN `_get_default_radius`: covalent radius, else atomic radius; NaN if neither exists. */
export function defaultRadius(symbol: string): number {
  const i = idx(symbol);
  return t.covalentRadius[i] ?? t.atomicRadius[i] ?? NaN;
}

/** pymatgen `Element.atomic_mass` in u. */
export function pymatgenMass(symbol: string): number {
  return t.mass[idx(symbol)]!;
}
