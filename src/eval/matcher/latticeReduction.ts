/**
 * Lattice-basis helpers for the structure matcher, following pymatgen 2022.x
 * (`pymatgen.core.lattice.Lattice`): the integer lattice-point search behind
 * `find_all_mappings`, LLL reduction, and `get_niggli_reduced_lattice`.
 *
 * Why pymatgen's exact procedure and not any textbook reduction: the CSP metric
 * (spec §9) is defined by pymatgen's StructureMatcher, whose answers on noisy
 * cells depend on which reduced basis is picked (fractional tolerances are
 * per-axis). We therefore reproduce pymatgen's steps and tolerances.
 */
import type { LatticeParams, Matrix3 } from '../../crystal/types.js';
import { determinant, fromParameters, inverse, reciprocal, toParameters } from '../../crystal/lattice.js';

const DEG = Math.PI / 180;

/** One lattice vector: integer coefficients (in the given basis) and its Cartesian form. */
export interface LatticePoint {
  frac: [number, number, number];
  cart: [number, number, number];
  length: number;
}

/** All non-zero lattice points of `m` with length ≤ r (exact: bounds from the reciprocal row norms). */
export function latticePointsInSphere(m: Matrix3, r: number): LatticePoint[] {
  const rec = reciprocal(m);
  const n0 = Math.ceil(r * Math.hypot(rec[0], rec[1], rec[2]) + 1e-9);
  const n1 = Math.ceil(r * Math.hypot(rec[3], rec[4], rec[5]) + 1e-9);
  const n2 = Math.ceil(r * Math.hypot(rec[6], rec[7], rec[8]) + 1e-9);
  const r2 = r * r;
  const out: LatticePoint[] = [];
  for (let i = -n0; i <= n0; i++) {
    for (let j = -n1; j <= n1; j++) {
      for (let k = -n2; k <= n2; k++) {
        if (i === 0 && j === 0 && k === 0) continue;
        const x = i * m[0] + j * m[3] + k * m[6];
        const y = i * m[1] + j * m[4] + k * m[7];
        const z = i * m[2] + j * m[5] + k * m[8];
        const s = x * x + y * y + z * z;
        if (s <= r2) out.push({ frac: [i, j, k], cart: [x, y, z], length: Math.sqrt(s) });
      }
    }
  }
  return out;
}

/** A basis of `self` whose lengths/angles are close to a target lattice (pymatgen `find_all_mappings`). */
export interface LatticeMapping {
  /** new basis rows in Cartesian coordinates (rows are lattice vectors of `self`) */
  matrix: Matrix3;
  /** integer matrix S with matrix = S · self (rows = coefficients of each new vector) */
  scale: Matrix3;
}

function angleBetween(u: readonly number[], v: readonly number[], lu: number, lv: number): number {
  let x = (u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!) / lu / lv;
  if (x > 1) x = 1;
  if (x < -1) x = -1;
  return Math.acos(x) / DEG;
}

/**
 * All bases of `self` matching `target` within a fractional length tolerance `ltol`
 * (|v|/l in (1/(1+ltol), 1+ltol)) and an angle tolerance `atol` in degrees, as
 * pymatgen's `Lattice.find_all_mappings`: candidate vectors for a, b, c are
 * taken from the lattice points of `self` within max(abc)·(1+ltol); a triple
 * is kept when the three angles match and the integer matrix is non-singular.
 * Stops early when `visit` returns true.
 */
export function forEachLatticeMapping(
  self: Matrix3,
  target: LatticeParams,
  ltol: number,
  atol: number,
  visit: (m: LatticeMapping) => boolean | void,
): void {
  const lengths = [target.a, target.b, target.c];
  const rmax = Math.max(...lengths) * (1 + ltol);
  const points = latticePointsInSphere(self, rmax);
  const cands: LatticePoint[][] = [[], [], []];
  for (const p of points) {
    for (let d = 0; d < 3; d++) {
      const ratio = p.length / lengths[d]!;
      if (ratio < 1 + ltol && ratio > 1 / (1 + ltol)) cands[d]!.push(p);
    }
  }
  const [ca, cb, cc] = cands as [LatticePoint[], LatticePoint[], LatticePoint[]];
  // alpha: angle(b, c); beta: angle(a, c); gamma: angle(a, b)
  const alphaOk: boolean[][] = cb.map((pb) => cc.map((pc) => Math.abs(angleBetween(pb.cart, pc.cart, pb.length, pc.length) - target.alpha) < atol));
  const betaOk: boolean[][] = ca.map((pa) => cc.map((pc) => Math.abs(angleBetween(pa.cart, pc.cart, pa.length, pc.length) - target.beta) < atol));
  for (let i = 0; i < ca.length; i++) {
    const pa = ca[i]!;
    for (let j = 0; j < cb.length; j++) {
      const pb = cb[j]!;
      if (!(Math.abs(angleBetween(pa.cart, pb.cart, pa.length, pb.length) - target.gamma) < atol)) continue;
      const aj = alphaOk[j]!;
      const bi = betaOk[i]!;
      for (let k = 0; k < cc.length; k++) {
        if (!aj[k] || !bi[k]) continue;
        const pc = cc[k]!;
        const scale: Matrix3 = [...pa.frac, ...pb.frac, ...pc.frac] as Matrix3;
        if (Math.abs(determinant(scale)) < 1e-8) continue;
        const matrix: Matrix3 = [...pa.cart, ...pb.cart, ...pc.cart] as Matrix3;
        if (visit({ matrix, scale }) === true) return;
      }
    }
  }
}

/** LLL reduction (δ = 0.75, pymatgen's default) of the rows of `m`. */
export function lllReduce(m: Matrix3, delta = 0.75): Matrix3 {
  const b = [
    [m[0], m[1], m[2]],
    [m[3], m[4], m[5]],
    [m[6], m[7], m[8]],
  ];
  const dot = (u: number[], v: number[]): number => u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!;
  const gramSchmidt = (): { bs: number[][]; mu: number[][]; bb: number[] } => {
    const bs: number[][] = [];
    const mu: number[][] = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ];
    const bb: number[] = [];
    for (let i = 0; i < 3; i++) {
      const v = b[i]!.slice();
      for (let j = 0; j < i; j++) {
        mu[i]![j] = dot(b[i]!, bs[j]!) / bb[j]!;
        for (let d = 0; d < 3; d++) v[d]! -= mu[i]![j]! * bs[j]![d]!;
      }
      bs.push(v);
      bb.push(dot(v, v));
    }
    return { bs, mu, bb };
  };
  let k = 1;
  let guard = 0;
  let gs = gramSchmidt();
  while (k < 3 && guard++ < 1000) {
    for (let j = k - 1; j >= 0; j--) {
      const q = Math.round(gs.mu[k]![j]!);
      if (q !== 0) {
        for (let d = 0; d < 3; d++) b[k]![d]! -= q * b[j]![d]!;
        gs = gramSchmidt();
      }
    }
    if (gs.bb[k]! >= (delta - gs.mu[k]![k - 1]! ** 2) * gs.bb[k - 1]!) {
      k++;
    } else {
      const t = b[k]!;
      b[k] = b[k - 1]!;
      b[k - 1] = t;
      gs = gramSchmidt();
      k = Math.max(k - 1, 1);
    }
  }
  return [...b[0]!, ...b[1]!, ...b[2]!] as Matrix3;
}

function metricOf(m: Matrix3): number[][] {
  const g: number[][] = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) g[i]![j] = m[3 * i]! * m[3 * j]! + m[3 * i + 1]! * m[3 * j + 1]! + m[3 * i + 2]! * m[3 * j + 2]!;
  }
  return g;
}

/** Gᵀ-congruence: returns Mᵀ·G·M for a 3×3 M given as nested rows. */
function congruence(g: number[][], mm: number[][]): number[][] {
  const gm: number[][] = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) gm[i]![j] = g[i]![0]! * mm[0]![j]! + g[i]![1]! * mm[1]![j]! + g[i]![2]! * mm[2]![j]!;
  const out: number[][] = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out[i]![j] = mm[0]![i]! * gm[0]![j]! + mm[1]![i]! * gm[1]![j]! + mm[2]![i]! * gm[2]![j]!;
  return out;
}

/**
 * Niggli-reduced basis of the lattice `m`, as pymatgen 2022.x
 * `Lattice.get_niggli_reduced_lattice(tol=1e-5)`: the Křivý–Gruber steps A1–A8 on
 * the metric of the LLL-reduced basis with ε = tol·V^(1/3); the reduced
 * parameters are then realised by the FIRST basis of `m` that matches them
 * (find_mapping with ltol = atol = ε), negated if left-handed. Returns the
 * new basis rows (same Cartesian orientation as `m`).
 */
export function niggliReduce(m: Matrix3, tol = 1e-5): Matrix3 {
  const vol = Math.abs(determinant(m));
  const e = tol * Math.cbrt(vol);
  let g = metricOf(lllReduce(m));
  for (let iter = 0; iter < 100; iter++) {
    let A = g[0]![0]!;
    let B = g[1]![1]!;
    const C = g[2]![2]!;
    let E = 2 * g[1]![2]!;
    let N = 2 * g[0]![2]!;
    let Y = 2 * g[0]![1]!;
    if (B + e < A || (Math.abs(A - B) < e && Math.abs(E) > Math.abs(N) + e)) {
      g = congruence(g, [
        [0, -1, 0],
        [-1, 0, 0],
        [0, 0, -1],
      ]); // A1
      // pymatgen 2022.x keeps using the values read before A1 for the A2-A4
      // tests of this pass (they are re-read before A5); we do the same.
    }
    if (C + e < B || (Math.abs(B - C) < e && Math.abs(N) > Math.abs(Y) + e)) {
      g = congruence(g, [
        [-1, 0, 0],
        [0, 0, -1],
        [0, -1, 0],
      ]); // A2
      continue;
    }
    const l = Math.abs(E) < e ? 0 : Math.sign(E);
    const mm = Math.abs(N) < e ? 0 : Math.sign(N);
    const n = Math.abs(Y) < e ? 0 : Math.sign(Y);
    if (l * mm * n === 1) {
      // A3
      const i = l === -1 ? -1 : 1;
      const j = mm === -1 ? -1 : 1;
      const k = n === -1 ? -1 : 1;
      g = congruence(g, [
        [i, 0, 0],
        [0, j, 0],
        [0, 0, k],
      ]);
    } else if (l * mm * n === 0 || l * mm * n === -1) {
      // A4
      let i = l === 1 ? -1 : 1;
      let j = mm === 1 ? -1 : 1;
      let k = n === 1 ? -1 : 1;
      if (i * j * k === -1) {
        if (n === 0) k = -1;
        else if (mm === 0) j = -1;
        else if (l === 0) i = -1;
      }
      g = congruence(g, [
        [i, 0, 0],
        [0, j, 0],
        [0, 0, k],
      ]);
    }
    A = g[0]![0]!;
    B = g[1]![1]!;
    E = 2 * g[1]![2]!;
    N = 2 * g[0]![2]!;
    Y = 2 * g[0]![1]!;
    if (Math.abs(E) > B + e || (Math.abs(E - B) < e && 2 * N < Y - e) || (Math.abs(E + B) < e && -e > Y)) {
      g = congruence(g, [
        [1, 0, 0],
        [0, 1, -Math.sign(E)],
        [0, 0, 1],
      ]); // A5
      continue;
    }
    if (Math.abs(N) > A + e || (Math.abs(A - N) < e && 2 * E < Y - e) || (Math.abs(A + N) < e && -e > Y)) {
      g = congruence(g, [
        [1, 0, -Math.sign(N)],
        [0, 1, 0],
        [0, 0, 1],
      ]); // A6
      continue;
    }
    if (Math.abs(Y) > A + e || (Math.abs(A - Y) < e && 2 * E < N - e) || (Math.abs(A + Y) < e && -e > N)) {
      g = congruence(g, [
        [1, -Math.sign(Y), 0],
        [0, 1, 0],
        [0, 0, 1],
      ]); // A7
      continue;
    }
    const s = E + N + Y + A + B;
    if (s < -e || (Math.abs(s) < e && e < Y + (A + N) * 2)) {
      g = congruence(g, [
        [1, 0, 1],
        [0, 1, 1],
        [0, 0, 1],
      ]); // A8
      continue;
    }
    break;
  }
  const a = Math.sqrt(g[0]![0]!);
  const b = Math.sqrt(g[1]![1]!);
  const c = Math.sqrt(g[2]![2]!);
  const target: LatticeParams = {
    a,
    b,
    c,
    alpha: Math.acos(clamp((2 * g[1]![2]!) / 2 / b / c)) / DEG,
    beta: Math.acos(clamp((2 * g[0]![2]!) / 2 / a / c)) / DEG,
    gamma: Math.acos(clamp((2 * g[0]![1]!) / 2 / a / b)) / DEG,
  };
  // pymatgen builds Lattice.from_parameters(target) and maps onto it; the
  // parameters of that lattice are the target's up to rounding.
  const ref = toParameters(fromParameters(target));
  let found: Matrix3 | null = null;
  forEachLatticeMapping(m, ref, e, e, (mp) => {
    found = mp.matrix;
    return true;
  });
  if (found === null) throw new Error("can't find niggli basis");
  const f: Matrix3 = found;
  return determinant(f) > 0 ? f : (f.map((v) => -v) as Matrix3);
}

function clamp(x: number): number {
  return x > 1 ? 1 : x < -1 ? -1 : x;
}

/** pymatgen `Lattice.__eq__`: np.allclose(m1, m2) (rtol 1e-5, atol 1e-8). */
export function latticesAllClose(m1: Matrix3, m2: Matrix3): boolean {
  for (let i = 0; i < 9; i++) if (!(Math.abs(m1[i]! - m2[i]!) <= 1e-8 + 1e-5 * Math.abs(m2[i]!))) return false;
  return true;
}

/** Fractional coordinates of Cartesian rows (flat N×3) in basis `m`. */
export function cartToFracIn(m: Matrix3, cart: ArrayLike<number>): Float64Array {
  const inv = inverse(m);
  const n = cart.length / 3;
  const out = new Float64Array(cart.length);
  for (let i = 0; i < n; i++) {
    const x = cart[3 * i]!;
    const y = cart[3 * i + 1]!;
    const z = cart[3 * i + 2]!;
    out[3 * i] = x * inv[0] + y * inv[3] + z * inv[6];
    out[3 * i + 1] = x * inv[1] + y * inv[4] + z * inv[7];
    out[3 * i + 2] = x * inv[2] + y * inv[5] + z * inv[8];
  }
  return out;
}
