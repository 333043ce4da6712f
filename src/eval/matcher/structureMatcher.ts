/**
 * StructureMatcher with the semantics of pymatgen 2022.x
 * `StructureMatcher(ltol, stol, angle_tol, primitive_cell=True, scale=True,
 * attempt_supercell=False, allow_subset=False, comparator=SpeciesComparator())`
 * and its `get_rms_dist(struct1, struct2)` (spec §9: the CSP metric).
 *
 * Algorithm (our own TypeScript, written from pymatgen's documented steps):
 *  1. each structure: Niggli-reduce, then pymatgen's tolerant primitive-cell
 *     reduction (tolerance 0.25 Å, merged sites averaged) — see primitive.ts;
 *  2. if the reduced site counts differ → no result (pymatgen returns None here;
 *     attempt_supercell is off);
 *  3. scale both lattices to the geometric mean of their volumes;
 *  4. species mask; no result if the compositions cannot be paired;
 *  5. the ANCHOR is the first site of struct2 (the ground truth, in its reduced
 *     order) whose species has the fewest sites; trial translations put each
 *     struct1 site of that species onto it (pymatgen `_get_mask`: argmax of the
 *     mask row sums, first index wins);
 *  6. for every basis of struct1's lattice within ltol / angle_tol of struct2's
 *     (find_all_mappings), on the average lattice: a trial translation is
 *     accepted if every translated struct2 site lies within a per-axis
 *     fractional tolerance of a same-species struct1 site (stol scaled by the
 *     free length per atom); accepted ones get the optimal site assignment on
 *     squared minimum-image distances, the mean displacement is removed, and the
 *     rms is normalised by (V/N)^(1/3);
 *  7. the smallest rms over all bases/translations is the answer if < stol
 *     (an rms < 1e-5 stops the search at once, as pymatgen).
 */
import type { LatticeParams, Matrix3, Structure } from '../../crystal/types.js';
import { determinant, fromParameters, inverse, reciprocal, toParameters } from '../../crystal/lattice.js';
import { forEachLatticeMapping, lllReduce } from './latticeReduction.js';
import { niggliReducedStructure, npRound, primitiveStructure } from './primitive.js';
import { solveAssignment } from './assignment.js';

export interface MatcherOptions {
  /** fractional length tolerance (pymatgen ltol), default 0.3 (spec §9) */
  ltol?: number;
  /** site tolerance in units of (V/N)^(1/3) (pymatgen stol), default 0.5 */
  stol?: number;
  /** angle tolerance in degrees, default 10 */
  angleTol?: number;
  /** reduce both structures to primitive cells first (default true) */
  primitiveCell?: boolean;
  /** scale both to the same volume (default true) */
  scale?: boolean;
}

/** pymatgen's get_rms_dist result: (rms, max_dist), both normalised by (V/N)^(1/3). */
export interface RmsDist {
  rms: number;
  maxDist: number;
}

/**
 * Why a pair did not match: the first step of the algorithm above that ruled it out.
 * - `composition`: the reduced structures cannot be paired species by species (step 4);
 * - `site_count`: the primitive reductions have different numbers of sites (step 2), e.g. a
 *   prediction with a smaller period than the truth, or one whose sites the 0.25 Å
 *   primitive reduction merges;
 * - `lattice`: no basis of the prediction's (volume-scaled) lattice lies within ltol / angle_tol
 *   of the truth's (step 6): the cell *shape* is wrong, whatever the atoms do;
 * - `sites`: lattices map, but no trial translation puts every site within stol (steps 6-7):
 *   the cell shape is right, the atoms are not.
 */
export type NoMatchStage = 'composition' | 'site_count' | 'lattice' | 'sites';

/** Filled by matchReduced / getRmsDist when passed: where the search ended. */
export interface MatchDiagnosis {
  /** null when the pair matched */
  stage: NoMatchStage | null;
  /** lattice bases of struct1 within tolerance of struct2's, same cell size (step 6) */
  latticeMappings: number;
}

const DEFAULTS: Required<MatcherOptions> = { ltol: 0.3, stol: 0.5, angleTol: 10, primitiveCell: true, scale: true };

/** Niggli + (optionally) primitive reduction, as pymatgen `StructureMatcher._get_reduced_structure`. */
export function reduceForMatching(s: Structure, primitiveCell = true): Structure {
  let r = niggliReducedStructure(s);
  if (primitiveCell) r = primitiveStructure(r, 0.25);
  return r;
}

function scaled(m: Matrix3, f: number): Matrix3 {
  return m.map((v) => v * f) as Matrix3;
}

/**
 * pymatgen `StructureMatcher.get_rms_dist(struct1, struct2)`; struct1 = the
 * prediction, struct2 = the ground truth (its site order matters, step 5).
 * Returns null where pymatgen returns None.
 */
export function getRmsDist(struct1: Structure, struct2: Structure, options: MatcherOptions = {}, diagnosis?: MatchDiagnosis): RmsDist | null {
  const opt = { ...DEFAULTS, ...options };
  if (struct1.species.length === 0 || struct2.species.length === 0) {
    if (diagnosis) setDiagnosis(diagnosis, 'composition', 0);
    return null;
  }
  const s1 = reduceForMatching(struct1, opt.primitiveCell);
  const s2 = reduceForMatching(struct2, opt.primitiveCell);
  return matchReduced(s1, s2, opt, diagnosis);
}

function setDiagnosis(d: MatchDiagnosis, stage: NoMatchStage | null, latticeMappings: number): null {
  d.stage = stage;
  d.latticeMappings = latticeMappings;
  return null;
}

/** Steps 2-7 on already reduced structures; `diagnosis`, when given, says where a no-match was decided. */
export function matchReduced(s1: Structure, s2: Structure, opt: Required<MatcherOptions>, diagnosis?: MatchDiagnosis): RmsDist | null {
  const n = s1.species.length;
  // pymatgen checks the site count before the species (step 2 before step 4); a different
  // composition with a different count is reported as 'composition', the more basic fault
  const noMatch = (stage: NoMatchStage, mappings = 0): null => (diagnosis ? setDiagnosis(diagnosis, stage, mappings) : null);
  if (s2.species.length !== n) return noMatch(sameElements(s1, s2) ? 'site_count' : 'composition');

  let L1 = s1.lattice;
  let L2 = s2.lattice;
  if (opt.scale) {
    const ratio = Math.pow(Math.abs(determinant(L2)) / Math.abs(determinant(L1)), 1 / 6);
    L1 = scaled(L1, ratio);
    L2 = scaled(L2, 1 / ratio);
  }

  // species ids shared by both structures; a pairing exists iff compositions agree
  const ids = new Map<string, number>();
  const sp1 = new Int32Array(n);
  const sp2 = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (!ids.has(s1.species[i]!)) ids.set(s1.species[i]!, ids.size);
    sp1[i] = ids.get(s1.species[i]!)!;
  }
  for (let i = 0; i < n; i++) {
    const id = ids.get(s2.species[i]!);
    if (id === undefined) return noMatch('composition');
    sp2[i] = id;
  }
  const count1 = new Int32Array(ids.size);
  const count2 = new Int32Array(ids.size);
  for (let i = 0; i < n; i++) {
    count1[sp1[i]!]!++;
    count2[sp2[i]!]!++;
  }
  for (let k = 0; k < ids.size; k++) if (count1[k] !== count2[k]) return noMatch('composition');

  // anchor (pymatgen _get_mask): first struct2 site with the most masked entries,
  // i.e. of the species with the fewest sites
  let anchor = 0;
  for (let i = 1; i < n; i++) if (count2[sp2[i]!]! < count2[sp2[anchor]!]!) anchor = i;
  const tInds: number[] = [];
  for (let j = 0; j < n; j++) if (sp1[j] === sp2[anchor]) tInds.push(j);

  // site indices of each species in struct1 / struct2 (assignment blocks)
  const blocks1: number[][] = Array.from({ length: ids.size }, () => []);
  const blocks2: number[][] = Array.from({ length: ids.size }, () => []);
  for (let i = 0; i < n; i++) {
    blocks1[sp1[i]!]!.push(i);
    blocks2[sp2[i]!]!.push(i);
  }

  const p2 = toParameters(L2);
  const fc2 = s2.frac;
  const cart1 = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const x = s1.frac[3 * i]!;
    const y = s1.frac[3 * i + 1]!;
    const z = s1.frac[3 * i + 2]!;
    cart1[3 * i] = x * L1[0] + y * L1[3] + z * L1[6];
    cart1[3 * i + 1] = x * L1[1] + y * L1[4] + z * L1[7];
    cart1[3 * i + 2] = x * L1[2] + y * L1[5] + z * L1[8];
  }

  let best: RmsDist | null = null;
  let bestVal = Infinity;
  const fc1 = new Float64Array(3 * n);
  const ts2 = new Float64Array(3 * n);
  const fracTol = [0, 0, 0];
  let mappings = 0;

  forEachLatticeMapping(L1, p2, opt.ltol, opt.angleTol, (mapping) => {
    // pymatgen _get_lattices: keep only bases of the same cell size (|det S| = fu = 1)
    if (!(Math.abs(Math.abs(determinant(mapping.scale)) - 1) < 0.5)) return false;
    mappings++;
    const inv = inverse(mapping.matrix);
    for (let i = 0; i < n; i++) {
      const x = cart1[3 * i]!;
      const y = cart1[3 * i + 1]!;
      const z = cart1[3 * i + 2]!;
      for (let d = 0; d < 3; d++) {
        const f = x * inv[d]! + y * inv[3 + d]! + z * inv[6 + d]!;
        fc1[3 * i + d] = f - Math.floor(f);
      }
    }
    const pl = toParameters(mapping.matrix);
    const avg: LatticeParams = {
      a: (pl.a + p2.a) / 2,
      b: (pl.b + p2.b) / 2,
      c: (pl.c + p2.c) / 2,
      alpha: (pl.alpha + p2.alpha) / 2,
      beta: (pl.beta + p2.beta) / 2,
      gamma: (pl.gamma + p2.gamma) / 2,
    };
    const avgL = fromParameters(avg);
    const normalization = Math.cbrt(n / Math.abs(determinant(avgL)));
    const rec = reciprocal(avgL, true);
    for (let d = 0; d < 3; d++) fracTol[d] = (Math.hypot(rec[3 * d]!, rec[3 * d + 1]!, rec[3 * d + 2]!) * opt.stol) / (Math.PI * normalization);

    let images: ImageFrame | null = null;
    let lllFracTol: number[] | null = null;
    for (const s1i of tInds) {
      const t0 = fc1[3 * s1i]! - fc2[3 * anchor]!;
      const t1 = fc1[3 * s1i + 1]! - fc2[3 * anchor + 1]!;
      const t2 = fc1[3 * s1i + 2]! - fc2[3 * anchor + 2]!;
      for (let i = 0; i < n; i++) {
        ts2[3 * i] = fc2[3 * i]! + t0;
        ts2[3 * i + 1] = fc2[3 * i + 1]! + t1;
        ts2[3 * i + 2] = fc2[3 * i + 2]! + t2;
      }
      if (!isSubsetPbc(ts2, fc1, blocks1, sp2, fracTol)) continue;
      if (images === null) {
        images = new ImageFrame(avgL);
        // pymatgen 2022.x passes lll_frac_tol = |b*_i(LLL)|·stol/(π·norm) to
        // pbc_shortest_vectors: pairs farther apart than this on any LLL
        // fractional axis get cost 1e20 and can never be part of a match.
        const recLll = reciprocal(images.lll, true);
        lllFracTol = [0, 1, 2].map((d) => (Math.hypot(recLll[3 * d]!, recLll[3 * d + 1]!, recLll[3 * d + 2]!) * opt.stol) / (Math.PI * normalization));
      }
      const res = cartDists(images, lllFracTol!, fc1, ts2, blocks1, blocks2, n, normalization);
      if (res === null) continue;
      if (res.rms < bestVal) {
        bestVal = res.rms;
        best = { rms: res.rms, maxDist: res.maxDist };
        if (res.rms < 1e-5 && res.rms < opt.stol) return true;
      }
    }
    return false;
  });

  if (best !== null && bestVal < opt.stol) {
    if (diagnosis) setDiagnosis(diagnosis, null, mappings);
    return best;
  }
  return noMatch(mappings === 0 ? 'lattice' : 'sites', mappings);
}

/** Whether two structures contain the same set of elements (ignoring counts). */
function sameElements(a: Structure, b: Structure): boolean {
  const ea = new Set(a.species);
  const eb = new Set(b.species);
  return ea.size === eb.size && [...ea].every((e) => eb.has(e));
}

/**
 * pymatgen `is_coord_subset_pbc(subset, superset, atol, mask)`: every subset
 * point has an allowed superset point within atol on each fractional axis.
 */
function isSubsetPbc(subset: Float64Array, superset: Float64Array, blocks1: number[][], sp2: Int32Array, tol: number[]): boolean {
  const n = sp2.length;
  const t0 = tol[0]!;
  const t1 = tol[1]!;
  const t2 = tol[2]!;
  for (let i = 0; i < n; i++) {
    const x = subset[3 * i]!;
    const y = subset[3 * i + 1]!;
    const z = subset[3 * i + 2]!;
    let ok = false;
    for (const j of blocks1[sp2[i]!]!) {
      let d = x - superset[3 * j]!;
      if (Math.abs(d - Math.round(d)) > t0) continue;
      d = y - superset[3 * j + 1]!;
      if (Math.abs(d - Math.round(d)) > t1) continue;
      d = z - superset[3 * j + 2]!;
      if (Math.abs(d - Math.round(d)) > t2) continue;
      ok = true;
      break;
    }
    if (!ok) return false;
  }
  return true;
}

/** The average lattice in an LLL-reduced basis and its 27 neighbouring images (pymatgen pbc_shortest_vectors). */
class ImageFrame {
  readonly lll: Matrix3;
  readonly toLll: Matrix3;
  readonly images: Float64Array;
  constructor(readonly lattice: Matrix3) {
    this.lll = lllReduce(lattice);
    // frac (in `lattice`) -> frac in the LLL basis: f · L · LLL⁻¹
    const invLll = inverse(this.lll);
    const m = new Array<number>(9).fill(0);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) m[3 * i + j] = lattice[3 * i]! * invLll[j]! + lattice[3 * i + 1]! * invLll[3 + j]! + lattice[3 * i + 2]! * invLll[6 + j]!;
    this.toLll = m as Matrix3;
    this.images = new Float64Array(27 * 3);
    let k = 0;
    for (let a = -1; a <= 1; a++) {
      for (let b = -1; b <= 1; b++) {
        for (let c = -1; c <= 1; c++) {
          this.images[3 * k] = a * this.lll[0] + b * this.lll[3] + c * this.lll[6];
          this.images[3 * k + 1] = a * this.lll[1] + b * this.lll[4] + c * this.lll[7];
          this.images[3 * k + 2] = a * this.lll[2] + b * this.lll[5] + c * this.lll[8];
          k++;
        }
      }
    }
  }

  /** Fractional coordinates in the LLL basis (not wrapped). */
  lllFrac(frac: Float64Array, n: number): Float64Array {
    const m = this.toLll;
    const out = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) {
      const x = frac[3 * i]!;
      const y = frac[3 * i + 1]!;
      const z = frac[3 * i + 2]!;
      out[3 * i] = x * m[0] + y * m[3] + z * m[6];
      out[3 * i + 1] = x * m[1] + y * m[4] + z * m[7];
      out[3 * i + 2] = x * m[2] + y * m[5] + z * m[8];
    }
    return out;
  }

  /** Cartesian coordinates of LLL-fractional points wrapped into the LLL cell. */
  wrappedCart(lllFrac: Float64Array, n: number): Float64Array {
    const L = this.lll;
    const out = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) {
      let f0 = lllFrac[3 * i]!;
      let f1 = lllFrac[3 * i + 1]!;
      let f2 = lllFrac[3 * i + 2]!;
      f0 -= Math.floor(f0);
      f1 -= Math.floor(f1);
      f2 -= Math.floor(f2);
      out[3 * i] = f0 * L[0] + f1 * L[3] + f2 * L[6];
      out[3 * i + 1] = f0 * L[1] + f1 * L[4] + f2 * L[7];
      out[3 * i + 2] = f0 * L[2] + f1 * L[5] + f2 * L[8];
    }
    return out;
  }
}

/**
 * pymatgen `StructureMatcher._cart_dists`: shortest vectors from each struct2
 * site to each same-species struct1 site on the average lattice, optimal
 * assignment on their squared lengths (solved per species block: the masked
 * pairs pymatgen gives cost 1e20 can never be optimal), then the mean vector is
 * removed and the rms / max of the rest are normalised.
 */
function cartDists(
  frame: ImageFrame,
  lllFracTol: number[],
  fc1: Float64Array,
  ts2: Float64Array,
  blocks1: number[][],
  blocks2: number[][],
  n: number,
  normalization: number,
): { rms: number; maxDist: number } | null {
  const f1 = frame.lllFrac(fc1, n);
  const f2 = frame.lllFrac(ts2, n);
  const c1 = frame.wrappedCart(f1, n);
  const c2 = frame.wrappedCart(f2, n);
  const tol0 = lllFracTol[0]!;
  const tol1 = lllFracTol[1]!;
  const tol2 = lllFracTol[2]!;
  const img = frame.images;
  const vecs = new Float64Array(3 * n); // chosen shortest vector per struct2 site
  let mx = 0;
  let my = 0;
  let mz = 0;
  for (let b = 0; b < blocks2.length; b++) {
    const rows = blocks2[b]!;
    const cols = blocks1[b]!;
    const k = rows.length;
    const cost = new Float64Array(k * k);
    const bestImg = new Int32Array(k * k);
    for (let r = 0; r < k; r++) {
      const i = rows[r]!;
      for (let c = 0; c < k; c++) {
        const j = cols[c]!;
        let fd = f1[3 * j]! - f2[3 * i]!;
        let far = Math.abs(fd - cRound(fd)) > tol0;
        if (!far) {
          fd = f1[3 * j + 1]! - f2[3 * i + 1]!;
          far = Math.abs(fd - cRound(fd)) > tol1;
        }
        if (!far) {
          fd = f1[3 * j + 2]! - f2[3 * i + 2]!;
          far = Math.abs(fd - cRound(fd)) > tol2;
        }
        if (far) {
          cost[r * k + c] = FAR;
          bestImg[r * k + c] = -1;
          continue;
        }
        const dx = c1[3 * j]! - c2[3 * i]!;
        const dy = c1[3 * j + 1]! - c2[3 * i + 1]!;
        const dz = c1[3 * j + 2]! - c2[3 * i + 2]!;
        let best = Infinity;
        let bi = 0;
        for (let q = 0; q < 27; q++) {
          const x = img[3 * q]! + dx;
          const y = img[3 * q + 1]! + dy;
          const z = img[3 * q + 2]! + dz;
          const s = x * x + y * y + z * z;
          // Images whose lengths tie (atoms exactly half a cell apart, common in
          // ideal cubic perovskites) are resolved by pymatgen's image order
          // (first wins); a relative margin keeps float noise from re-ordering them.
          if (s < best * (1 - 1e-9)) {
            best = s;
            bi = q;
          }
        }
        cost[r * k + c] = best;
        bestImg[r * k + c] = bi;
      }
    }
    const sol = solveAssignment(cost, k);
    for (let r = 0; r < k; r++) {
      const i = rows[r]!;
      const c = sol[r]!;
      const j = cols[c]!;
      const q = bestImg[r * k + c]!;
      if (q < 0) return null; // the assignment needs a pair beyond lll_frac_tol: no match here
      const x = img[3 * q]! + c1[3 * j]! - c2[3 * i]!;
      const y = img[3 * q + 1]! + c1[3 * j + 1]! - c2[3 * i + 1]!;
      const z = img[3 * q + 2]! + c1[3 * j + 2]! - c2[3 * i + 2]!;
      vecs[3 * i] = x;
      vecs[3 * i + 1] = y;
      vecs[3 * i + 2] = z;
      mx += x;
      my += y;
      mz += z;
    }
  }
  mx /= n;
  my /= n;
  mz /= n;
  let sum = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const x = vecs[3 * i]! - mx;
    const y = vecs[3 * i + 1]! - my;
    const z = vecs[3 * i + 2]! - mz;
    const d2 = x * x + y * y + z * z;
    sum += d2;
    if (d2 > max) max = d2;
  }
  return { rms: Math.sqrt(sum / n) * normalization, maxDist: Math.sqrt(max) * normalization };
}

/** C's round(): halves away from zero (Cython's libc round in pbc_shortest_vectors). */
function cRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** cost given by pymatgen to pairs it will not consider */
const FAR = 1e20;

export { npRound };
