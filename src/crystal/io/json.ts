/**
 * JSON structures in pymatgen's `Structure.as_dict()` layout (which ferrox's
 * parse_structure and matterviz's viewer also read), plus reading kldm's plain
 * {lattice, species, frac} form.
 */
import type { Matrix3, Structure } from '../types.js';
import { InputError } from '../../util/errors.js';
import { fracToCart, toParameters, volume } from '../lattice.js';
import { makeStructure } from '../structure.js';

export interface PymatgenStructureJson {
  '@module': 'pymatgen.core.structure';
  '@class': 'Structure';
  charge: number;
  lattice: { matrix: number[][]; pbc: [boolean, boolean, boolean]; a: number; b: number; c: number; alpha: number; beta: number; gamma: number; volume: number };
  properties: Record<string, unknown>;
  sites: { species: { element: string; occu: number }[]; abc: number[]; xyz: number[]; label: string; properties: Record<string, unknown> }[];
}

export function structureToJson(s: Structure): PymatgenStructureJson {
  const L = s.lattice;
  const cart = fracToCart(L, s.frac);
  return {
    '@module': 'pymatgen.core.structure',
    '@class': 'Structure',
    charge: 0,
    lattice: { matrix: [[L[0], L[1], L[2]], [L[3], L[4], L[5]], [L[6], L[7], L[8]]], pbc: [true, true, true], ...toParameters(L), volume: volume(L) },
    properties: {},
    sites: s.species.map((e, i) => ({
      species: [{ element: e, occu: 1 }],
      abc: [s.frac[3 * i]!, s.frac[3 * i + 1]!, s.frac[3 * i + 2]!],
      xyz: [cart[3 * i]!, cart[3 * i + 1]!, cart[3 * i + 2]!],
      label: e,
      properties: {},
    })),
  };
}

export function writeJson(s: Structure): string {
  return JSON.stringify(structureToJson(s), null, 1) + '\n';
}

/** Reads pymatgen-style JSON (lattice.matrix + sites[].abc) or kldm's {lattice: 9 numbers, species, frac}. */
export function readJson(text: string, source = 'JSON'): Structure {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source}: invalid JSON (${(err as Error).message})`);
  }
  const d = data as Record<string, unknown>;
  if (d && typeof d === 'object' && Array.isArray(d['sites'])) {
    const lat = d['lattice'] as { matrix?: number[][] } | undefined;
    const m = lat?.matrix;
    if (!Array.isArray(m) || m.length !== 3) throw new InputError(`${source}: lattice.matrix must be a 3x3 array`);
    if (!m.every((row) => Array.isArray(row) && row.length === 3 && row.every((v) => typeof v === 'number'))) throw new InputError(`${source}: lattice.matrix must be a 3x3 array of numbers`);
    const lattice = m.flat() as Matrix3;
    const species: string[] = [];
    const frac: number[] = [];
    (d['sites'] as unknown[]).forEach((raw, i) => {
      // every value is checked for its type before use (found by fuzzing: null sites and non-string elements were TypeErrors)
      if (typeof raw !== 'object' || raw === null) throw new InputError(`${source}: site ${i + 1}: expected an object`);
      const site = raw as Record<string, unknown>;
      const sp = site['species'] as unknown[] | undefined;
      if (!Array.isArray(sp) || sp.length !== 1) throw new InputError(`${source}: site ${i + 1}: expected exactly one species (disordered sites are not supported)`);
      const entry = sp[0] as { element?: unknown; occu?: unknown } | null;
      if (typeof entry !== 'object' || entry === null || typeof entry.element !== 'string') throw new InputError(`${source}: site ${i + 1}: species needs an "element" symbol`);
      const occu = entry.occu ?? 1;
      if (typeof occu !== 'number' || Math.abs(occu - 1) > 0.01) throw new InputError(`${source}: site ${i + 1}: partial occupancy ${JSON.stringify(occu)} is not supported`);
      const abc = site['abc'];
      if (!Array.isArray(abc) || abc.length !== 3 || !abc.every((v) => typeof v === 'number')) throw new InputError(`${source}: site ${i + 1}: abc must be 3 numbers`);
      species.push(entry.element.replace(/[\d+-]+$/, ''));
      frac.push(...(abc as number[]));
    });
    return makeStructure(lattice, species, frac, source);
  }
  if (d && typeof d === 'object' && Array.isArray(d['species'])) {
    // check the types before makeStructure reads them (found by fuzzing: {"species": []} was a TypeError)
    const lattice = d['lattice'];
    if (!Array.isArray(lattice) || lattice.length !== 9 || !lattice.every((v) => typeof v === 'number')) throw new InputError(`${source}: lattice must be an array of 9 numbers`);
    const species = d['species'] as unknown[];
    if (!species.every((v) => typeof v === 'string')) throw new InputError(`${source}: species must be an array of element symbols`);
    const frac = d['frac'];
    if (!Array.isArray(frac) || !frac.every((v) => typeof v === 'number')) throw new InputError(`${source}: frac must be an array of numbers (3 per site)`);
    return makeStructure(lattice as Matrix3, species as string[], frac as number[], source);
  }
  throw new InputError(`${source}: not a structure (expected pymatgen-style "lattice"+"sites" or kldm "lattice"+"species"+"frac")`);
}
