/**
 * Structure reductions used by the matcher, reproducing pymatgen 2022.x:
 * `Structure.get_reduced_structure("niggli")` and
 * `Structure.get_primitive_structure(tolerance=0.25)`.
 *
 * pymatgen's primitive search is tolerant (0.25 Å per coordinate) and AVERAGES
 * the positions of the sites it merges, so a slightly noisy supercell still
 * reduces to its primitive cell. A strict symmetry finder (spglib/moyo with a
 * small symprec) does not, which changes the matcher's answer on noisy
 * supercells (issue #4, cause 1). Site order of the result also follows
 * pymatgen (species groups in alphabetical order of the symbol), because the
 * matcher's anchor site depends on it.
 */
import type { Matrix3, Structure } from '../../crystal/types.js';
import { fracToCart, inverse, multiply } from '../../crystal/lattice.js';
import { cartToFracIn, latticesAllClose, niggliReduce } from './latticeReduction.js';

/** pymatgen `get_reduced_structure()`: Niggli basis; coordinates re-expressed and wrapped to [0,1) only if the basis changed. */
export function niggliReducedStructure(s: Structure): Structure {
  const reduced = niggliReduce(s.lattice);
  if (latticesAllClose(reduced, s.lattice)) {
    return { lattice: [...s.lattice] as Matrix3, species: s.species.slice(), frac: new Float64Array(s.frac) };
  }
  const frac = cartToFracIn(reduced, fracToCart(s.lattice, s.frac));
  for (let i = 0; i < frac.length; i++) frac[i] = pyMod1(frac[i]!);
  return { lattice: reduced, species: s.species.slice(), frac };
}

/** Python's x % 1 (result in [0, 1) for finite x, matching numpy's mod sign convention). */
function pyMod1(x: number): number {
  return x - Math.floor(x);
}

/** numpy's round-half-to-even, used by pymatgen for periodic differences. */
export function npRound(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; numpy rounds half to even
  if (Math.abs(x - Math.trunc(x)) === 0.5) return 2 * Math.round(x / 2);
  return r;
}

function periodicAbs(d: number): number {
  return Math.abs(d - npRound(d));
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function factors(n: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) if (n % i === 0) out.push(i);
  return out;
}

/** pymatgen's get_hnf(fu): upper-triangular HNF supercell matrices, grouped by determinant, in pymatgen's order. */
function* hnfMatrices(fu: number): Generator<{ size: number; ms: Matrix3[] }> {
  for (const det of factors(fu)) {
    if (det === 1) continue;
    for (const a of factors(det)) {
      for (const e of factors(det / a)) {
        const g = det / a / e;
        const ms: Matrix3[] = [];
        for (let b = 0; b < a; b++) for (let c = 0; c < a; c++) for (let f = 0; f < e; f++) ms.push([a, b, c, 0, e, f, 0, 0, g]);
        yield { size: det, ms };
      }
    }
  }
}

/** Row vector (3) times matrix. */
function vecMat(x: number, y: number, z: number, m: Matrix3): [number, number, number] {
  return [x * m[0] + y * m[3] + z * m[6], x * m[1] + y * m[4] + z * m[7], x * m[2] + y * m[5] + z * m[8]];
}

/**
 * pymatgen 2022.x `IStructure.get_primitive_structure(tolerance)` (no site
 * properties, no lattice constraint). Recursive: each smaller cell found is
 * reduced again and Niggli-reduced; when none is found the input is returned.
 */
export function primitiveStructure(s: Structure, tolerance = 0.25): Structure {
  const n = s.species.length;
  // group sites by species string (Python's stable sorted + groupby)
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (s.species[i]! < s.species[j]! ? -1 : s.species[i]! > s.species[j]! ? 1 : i - j));
  const groups: { species: string; idx: number[] }[] = [];
  for (const i of order) {
    const last = groups[groups.length - 1];
    if (last && last.species === s.species[i]) last.idx.push(i);
    else groups.push({ species: s.species[i]!, idx: [i] });
  }
  const gfc: number[][][] = groups.map((g) => g.idx.map((i) => [s.frac[3 * i]!, s.frac[3 * i + 1]!, s.frac[3 * i + 2]!]));

  const L = s.lattice;
  const abc = [Math.hypot(L[0], L[1], L[2]), Math.hypot(L[3], L[4], L[5]), Math.hypot(L[6], L[7], L[8])];
  const superFtol = abc.map((x) => tolerance / x);
  const superFtol2 = superFtol.map((x) => 2 * x);

  // approximate periodicities: differences within the smallest group (first smallest, as Python's min)
  let minGroup = gfc[0]!;
  for (const g of gfc) if (g.length < minGroup.length) minGroup = g;
  let minVecs: number[][] = minGroup.map((f) => [f[0]! - minGroup[0]![0]!, f[1]! - minGroup[0]![1]!, f[2]! - minGroup[0]![2]!]);

  // keep only vectors that map every site onto a site of the same species (2x tolerance).
  // pymatgen 2022.x takes |d - round(d)| here (later versions dropped the abs).
  const bySize = gfc.map((g, i) => ({ g, i })).sort((x, y) => x.g.length - y.g.length || x.i - y.i);
  for (const { g } of bySize) {
    for (const f of g) {
      minVecs = minVecs.filter((v) =>
        g.some((h) => periodicAbs(v[0]! - (h[0]! - f[0]!)) < superFtol2[0]! && periodicAbs(v[1]! - (h[1]! - f[1]!)) < superFtol2[1]! && periodicAbs(v[2]! - (h[2]! - f[2]!)) < superFtol2[2]!),
      );
    }
  }

  // sites may not be merged with their neighbours in the supercell
  const nonNbrs: boolean[][][] = gfc.map((g) =>
    g.map((fi, i) =>
      g.map((fj, j) => i === j || periodicAbs(fj[0]! - fi[0]!) > superFtol2[0]! || periodicAbs(fj[1]! - fi[1]!) > superFtol2[1]! || periodicAbs(fj[2]! - fi[2]!) > superFtol2[2]!),
    ),
  );

  const numFu = groups.map((g) => g.idx.length).reduce(gcd);
  for (const { size, ms } of hnfMatrices(numFu)) {
    for (const m of ms) {
      const invM = inverse(m);
      // every row of inv(m) must be close to one of min_vecs
      let candidate = true;
      for (let r = 0; r < 3 && candidate; r++) {
        const row = [invM[3 * r]!, invM[3 * r + 1]!, invM[3 * r + 2]!];
        candidate = minVecs.some((v) => periodicAbs(row[0]! - v[0]!) < superFtol[0]! && periodicAbs(row[1]! - v[1]!) < superFtol[1]! && periodicAbs(row[2]! - v[2]!) < superFtol[2]!);
      }
      if (!candidate) continue;

      const newM = multiply(invM, L);
      const ftol = [0, 1, 2].map((r) => tolerance / Math.hypot(newM[3 * r]!, newM[3 * r + 1]!, newM[3 * r + 2]!));
      let valid = true;
      const newSpecies: string[] = [];
      const newCoords: number[][] = [];
      for (let gi = 0; gi < groups.length && valid; gi++) {
        const g = gfc[gi]!;
        const nn = nonNbrs[gi]!;
        const k = g.length;
        const allFrac = g.map((f) => vecMat(f[0]!, f[1]!, f[2]!, m));
        const adj: boolean[][] = [];
        for (let i = 0; i < k; i++) {
          const rowAdj: boolean[] = [];
          for (let j = 0; j < k; j++) {
            const close =
              periodicAbs(allFrac[i]![0]! - allFrac[j]![0]!) < ftol[0]! &&
              periodicAbs(allFrac[i]![1]! - allFrac[j]![1]!) < ftol[1]! &&
              periodicAbs(allFrac[i]![2]! - allFrac[j]![2]!) < ftol[2]!;
            rowAdj.push(close && nn[i]![j]!);
          }
          adj.push(rowAdj);
        }
        // each site must be equivalent to exactly `size` sites ...
        for (let j = 0; j < k && valid; j++) {
          let cnt = 0;
          for (let i = 0; i < k; i++) if (adj[i]![j]) cnt++;
          if (cnt !== size) valid = false;
        }
        // ... and the equivalence groups must be cliques
        for (let i = 0; i < k && valid; i++) {
          const members: number[] = [];
          for (let j = 0; j < k; j++) if (adj[i]![j]) members.push(j);
          for (const p of members) for (const q of members) if (!adj[p]![q]) valid = false;
        }
        if (!valid) break;
        // merge each group into one site at the running average of its members
        const wrapped = allFrac.map((f) => f.map(pyMod1));
        const added = new Array<boolean>(k).fill(false);
        for (let i = 0; i < k; i++) {
          if (added[i]) continue;
          const members: number[] = [];
          for (let j = 0; j < k; j++) if (adj[i]![j]) members.push(j);
          for (const j of members) added[j] = true;
          const coords = wrapped[members[0]!]!.slice();
          for (let t = 1; t < members.length; t++) {
            const w = wrapped[members[t]!]!;
            for (let d = 0; d < 3; d++) {
              const off = w[d]! - coords[d]!;
              coords[d]! += (off - npRound(off)) / (t + 1);
            }
          }
          newSpecies.push(groups[gi]!.species);
          newCoords.push(coords);
        }
      }
      if (valid) {
        const latt = multiply(invM, L);
        const frac = new Float64Array(newCoords.length * 3);
        for (let i = 0; i < newCoords.length; i++) for (let d = 0; d < 3; d++) frac[3 * i + d] = newCoords[i]![d]!;
        const smaller: Structure = { lattice: latt, species: newSpecies, frac };
        return niggliReducedStructure(primitiveStructure(smaller, tolerance));
      }
    }
  }
  return { lattice: [...s.lattice] as Matrix3, species: s.species.slice(), frac: new Float64Array(s.frac) };
}
