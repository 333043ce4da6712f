/**
 * CIF → Structure for evaluation, read the way pymatgen 2022.x's
 * `Structure.from_str(cif, fmt="cif")` (CifParser) presents a structure to the
 * StructureMatcher. The CIF grammar itself (loops, symmetry operations) is
 * parsed by matterviz-wasm (ferrox) `parse_cif`; on top of it we apply the
 * pymatgen conventions that change matcher answers:
 *  - lattice built from the cell parameters in pymatgen's from_parameters orientation;
 *  - fractional coordinates within relative 1e-4 of 1/3 or 2/3 snapped to the
 *    exact value (CifParser's finite-precision fix), then wrapped into [0, 1);
 *  - sites stably sorted by Pauling electronegativity, then symbol
 *    (CifParser ends with get_sorted_structure()). The matcher's anchor site is
 *    the first ground-truth site of the rarest species, so this order matters.
 */
import { readFileSync } from 'node:fs';
import type * as Ferrox from 'matterviz-wasm';
import type { Structure } from '../crystal/types.js';
import { fromParameters } from '../crystal/lattice.js';
import { elementBySymbol, isElementSymbol } from '../crystal/elements.js';
import { InputError } from '../util/errors.js';

type FerroxModule = typeof Ferrox;

const packageEntry = import.meta.resolve('matterviz-wasm');
let glue: (FerroxModule & { initSync(options: { module: Uint8Array }): unknown }) | null = null;

/** The initialised ferrox module (Node's fetch cannot load file: URLs, so we instantiate synchronously from bytes). */
export async function loadFerrox(): Promise<FerroxModule> {
  if (glue === null) {
    const mod = (await import(new URL('./pkg/ferrox.js', packageEntry).href)) as FerroxModule & {
      initSync(options: { module: Uint8Array }): unknown;
    };
    mod.initSync({ module: readFileSync(new URL('./pkg/ferrox_bg.wasm', packageEntry)) });
    glue = mod;
  }
  return glue;
}

function ready(): FerroxModule {
  if (glue === null) throw new Error('call `await loadFerrox()` before parsing CIFs');
  return glue;
}

const THIRDS = [1 / 3, 2 / 3];

function snapAndWrap(x: number): number {
  let v = x;
  for (const t of THIRDS) if (Math.abs(1 - v / t) < 1e-4) v = t;
  v -= Math.floor(v);
  return v >= 1 ? 0 : v;
}

/** pymatgen Site.__lt__ on single-element sites: electronegativity, then symbol (NaN compares as neither). */
function siteLess(xa: number, sa: string, xb: number, sb: string): number {
  if (xa < xb) return -1;
  if (xa > xb) return 1;
  if (sa < sb) return -1;
  if (sa > sb) return 1;
  return 0;
}

/** Stable sort of sites into pymatgen's CifParser order; returns a new Structure. */
export function sortSitesLikePymatgen(s: Structure): Structure {
  const n = s.species.length;
  const x = s.species.map((sym) => (isElementSymbol(sym) ? (elementBySymbol(sym).electronegativity ?? NaN) : NaN));
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => siteLess(x[i]!, s.species[i]!, x[j]!, s.species[j]!) || i - j);
  const frac = new Float64Array(3 * n);
  for (let k = 0; k < n; k++) for (let d = 0; d < 3; d++) frac[3 * k + d] = s.frac[3 * order[k]! + d]!;
  return { lattice: [...s.lattice] as Structure['lattice'], species: order.map((i) => s.species[i]!), frac };
}

/**
 * Parses CIF text (first data block). Throws InputError naming `context` on a
 * malformed CIF, a disordered site or an unknown element.
 */
export function readCifForMatching(text: string, context = 'CIF'): Structure {
  const f = ready();
  let res: ReturnType<FerroxModule['parse_cif']>;
  try {
    res = f.parse_cif(text);
  } catch (err) {
    throw new InputError(`${context}: cannot parse CIF (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!('ok' in res)) throw new InputError(`${context}: cannot parse CIF (${res.error})`);
  const crystal = res.ok;
  const l = crystal.lattice;
  const params = { a: l.a, b: l.b, c: l.c, alpha: l.alpha, beta: l.beta, gamma: l.gamma };
  for (const [k, v] of Object.entries(params)) {
    if (!Number.isFinite(v) || v <= 0) throw new InputError(`${context}: invalid lattice parameter ${k} = ${v}`);
  }
  const sites = crystal.sites;
  const n = sites.length;
  if (n === 0) throw new InputError(`${context}: CIF has no atom sites`);
  const species: string[] = [];
  const frac = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const site = sites[i]!;
    if (site.species.length !== 1) throw new InputError(`${context}: site ${i} is disordered (${site.species.length} species)`);
    const occu = site.species[0]!.occu;
    // pymatgen would keep a partially occupied site, which then never matches a fully occupied one.
    // (matterviz-wasm 0.0.10 reports occu = 1 whatever the file says; kept for later versions.)
    if (typeof occu === 'number' && Math.abs(occu - 1) > 1e-6) throw new InputError(`${context}: site ${i} has occupancy ${occu} (ordered structures only)`);
    const el = site.species[0]!.element;
    if (!isElementSymbol(el)) throw new InputError(`${context}: site ${i} has unknown element "${el}"`);
    species.push(el);
    for (let d = 0; d < 3; d++) {
      const v = site.abc[d]!;
      if (!Number.isFinite(v)) throw new InputError(`${context}: site ${i} has a non-finite coordinate`);
      frac[3 * i + d] = snapAndWrap(v);
    }
  }
  return sortSitesLikePymatgen({ lattice: fromParameters(params), species, frac });
}
