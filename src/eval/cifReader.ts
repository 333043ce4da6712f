/**
 * CIF → Structure for evaluation, read the way pymatgen 2022.x's
 * `Structure.from_str(cif, fmt="cif")` (CifParser) presents a structure to the
 * StructureMatcher. The CIF grammar, symmetry expansion and checks (unknown
 * elements, disordered or partially occupied sites) are those of our own
 * reader, src/crystal/io/cif.ts `readCif`, which keeps the file's site order;
 * on top of it we apply the pymatgen 2022 conventions that change matcher answers:
 *  - lattice built from the cell parameters in pymatgen's from_parameters orientation (readCif);
 *  - fractional coordinates within relative 1e-4 of 1/3 or 2/3 snapped to the
 *    exact value (CifParser's finite-precision fix), then wrapped into [0, 1);
 *  - sites stably sorted by Pauling electronegativity, then symbol
 *    (CifParser ends with get_sorted_structure()). The matcher's anchor site is
 *    the first ground-truth site of the rarest species, so this order matters.
 *
 * Why no WASM here (ferrox `parse_cif` was used before): on Node 20 (V8 11.3)
 * TurboFan inlines JS→Wasm calls into hot callers; when such a caller is
 * lazily deoptimised (here: a deopt in the site-sort comparator invalidated
 * readCifForMatching's optimised code while it was on the stack), V8
 * materialises the Wasm call's result from its return type and only knows
 * i32/i64/f32/f64 — ferrox's externref result hits UNREACHABLE() in
 * Deoptimizer::TranslatedValueForWasmReturnKind and the process dies with
 * SIGTRAP. A pure TypeScript reader cannot hit that path. See docs/evaluation.md.
 *
 * Deviation (documented): pymatgen snaps the file's raw coordinates before
 * wrapping; readCif returns them wrapped, so a raw coordinate outside [0, 1)
 * whose wrapped value is within 1e-4 (relative) of 1/3 or 2/3 is snapped here
 * and not by pymatgen (a shift < 7e-5). CIFs written by pymatgen's CifWriter
 * (the benchmark CSVs) and by kldm have coordinates in [0, 1): identical results
 * (checked on every dataset CIF and reference pair).
 */
import { readFileSync } from 'node:fs';
import type * as Ferrox from 'matterviz-wasm';
import type { Structure } from '../crystal/types.js';
import { readCif } from '../crystal/io/cif.js';
import { elementBySymbol, isElementSymbol } from '../crystal/elements.js';
import { InputError, KldmError } from '../util/errors.js';

type FerroxModule = typeof Ferrox;

const packageEntry = import.meta.resolve('matterviz-wasm');
let glue: FerroxModule | null = null;

/**
 * The initialised ferrox module, for the ferrox baseline of the agreement
 * benchmark (bench/eval/score-pairs.ts). The evaluation itself no longer
 * needs it. (Node's fetch cannot load file: URLs, so we instantiate
 * synchronously from bytes.)
 */
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

const THIRD = 1 / 3;
const TWO_THIRDS = 2 / 3;

function snapAndWrap(x: number): number {
  let v = x;
  if (Math.abs(1 - v / THIRD) < 1e-4) v = THIRD;
  if (Math.abs(1 - v / TWO_THIRDS) < 1e-4) v = TWO_THIRDS;
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

/**
 * Stable sort of sites into pymatgen's CifParser order; returns a new Structure.
 * The comparator is total whenever every element has an electronegativity; for
 * elements without one (He Ne Ar Pm Eu Tb Yb Rn: NaN) the order is what V8's
 * sort makes of this comparator, kept as is so that results do not change
 * (pymatgen's own NaN handling differs; see docs/evaluation.md). A callback in
 * an Array builtin is harmless here: no WASM call is on this path any more.
 */
export function sortSitesLikePymatgen(s: Structure): Structure {
  const n = s.species.length;
  const x = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const sym = s.species[i]!;
    x[i] = isElementSymbol(sym) ? (elementBySymbol(sym).electronegativity ?? NaN) : NaN;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => siteLess(x[i]!, s.species[i]!, x[j]!, s.species[j]!) || i - j);
  const species = new Array<string>(n);
  const frac = new Float64Array(3 * n);
  for (let k = 0; k < n; k++) {
    const src = order[k]!;
    species[k] = s.species[src]!;
    for (let d = 0; d < 3; d++) frac[3 * k + d] = s.frac[3 * src + d]!;
  }
  const lattice = [s.lattice[0], s.lattice[1], s.lattice[2], s.lattice[3], s.lattice[4], s.lattice[5], s.lattice[6], s.lattice[7], s.lattice[8]] as Structure['lattice'];
  return { lattice, species, frac };
}

/** Occupancies further than this from 1 are partial: pymatgen keeps such a site disordered, and it never matches an ordered one. */
const OCCUPANCY_TOLERANCE = 1e-6;

/**
 * Parses CIF text (first data block). Throws InputError naming `context` on a
 * malformed CIF, a disordered or partially occupied site or an unknown element.
 */
export function readCifForMatching(text: string, context = 'CIF'): Structure {
  let s: Structure;
  try {
    s = readCif(text, { source: context, occupancyTolerance: OCCUPANCY_TOLERANCE });
  } catch (err) {
    if (err instanceof KldmError) throw err;
    throw new InputError(`${context}: cannot parse CIF (${err instanceof Error ? err.message : String(err)})`);
  }
  const n = s.species.length;
  const frac = new Float64Array(3 * n);
  for (let i = 0; i < 3 * n; i++) frac[i] = snapAndWrap(s.frac[i]!);
  return sortSitesLikePymatgen({ lattice: s.lattice, species: s.species, frac });
}
