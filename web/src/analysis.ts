/**
 * Numbers shown next to the viewer: lattice parameters, volume, density,
 * minimum interatomic distance and structural validity (spec §9.1), from the
 * library's own lattice math (src/crystal, bundled), and the space group from
 * moyo (WebAssembly, loaded on first use).
 */
import { minInteratomicDistance, toParameters, volume } from '../../src/crystal/lattice.js';
import { elementBySymbol, isElementSymbol } from '../../src/crystal/elements.js';
import type { LatticeParams, Matrix3 } from '../../src/crystal/types.js';
import type { StructureJson } from './api.js';

/** g/cm³ per (u/Å³) */
const AMU_PER_A3_TO_G_PER_CM3 = 1.66053906660;

export interface Analysis {
  params: LatticeParams;
  volume: number;
  density: number;
  minDistance: number;
  valid: boolean;
  formula: string;
}

export function formulaOf(species: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const s of species) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([e, n]) => (n === 1 ? e : `${e}${n}`)).join('');
}

export function analyse(s: StructureJson): Analysis {
  const lattice = s.lattice as Matrix3;
  const params = toParameters(lattice);
  const v = volume(lattice);
  // a generation frame may hold masked atoms ("X", type not drawn yet): no mass, so no density
  let mass = 0;
  for (const e of s.species) mass += isElementSymbol(e) ? elementBySymbol(e).mass : NaN;
  // an early frame of a denoising trajectory may have a (nearly) singular cell: no distances then, and not valid
  let minDistance = NaN;
  try {
    minDistance = s.species.length > 1 ? minInteratomicDistance(lattice, s.frac) : Infinity;
  } catch {
    // singular lattice matrix (src/crystal/lattice.ts inverse)
  }
  const longest = Math.max(params.a, params.b, params.c);
  return {
    params,
    volume: v,
    density: (mass / v) * AMU_PER_A3_TO_G_PER_CM3,
    minDistance,
    // spec §9.1: min distance >= 0.5 Å, volume >= 0.1 Å³, longest lattice length <= 40 Å
    valid: minDistance >= 0.5 && v >= 0.1 && longest <= 40,
    formula: formulaOf(s.species),
  };
}

type Moyo = typeof import('@spglib/moyo-wasm');
let moyo: Promise<Moyo | null> | undefined;

function loadMoyo(): Promise<Moyo | null> {
  moyo ??= import('@spglib/moyo-wasm')
    .then(async (m) => {
      await m.default({ module_or_path: new URL('moyo_wasm_bg.wasm', document.baseURI) });
      return m;
    })
    .catch((err: unknown) => {
      console.warn('moyo could not be loaded; no space groups', err);
      return null;
    });
  return moyo;
}

/** "Fm-3m (225)", or null when moyo is unavailable or fails on this cell */
export async function spaceGroup(s: StructureJson, symprec = 0.1): Promise<string | null> {
  if (!s.species.every(isElementSymbol)) return null; // masked atoms of a generation frame
  const m = await loadMoyo();
  if (!m) return null;
  const positions: [number, number, number][] = [];
  const numbers: number[] = [];
  for (let i = 0; i < s.species.length; i++) {
    positions.push([s.frac[3 * i]!, s.frac[3 * i + 1]!, s.frac[3 * i + 2]!]);
    numbers.push(elementBySymbol(s.species[i]!).Z);
  }
  const cell = { lattice: { basis: s.lattice }, positions, numbers };
  try {
    const d = m.analyze_cell(JSON.stringify(cell), symprec, 'Standard');
    return `${d.hm_symbol.replace(/\s+/g, '')} (${d.number})`;
  } catch {
    return null;
  }
}
