/**
 * Lattice math on row-major 3x3 matrices whose rows are the lattice vectors
 * a, b, c in Å (the `Matrix3` contract of ./types.ts). Fractional coordinates
 * are row vectors: cart = frac · L.
 *
 * Browser-safe (no Node imports): the web page bundles this module.
 */
import type { LatticeParams, Matrix3 } from './types.js';
import { InputError } from '../util/errors.js';

const DEG = Math.PI / 180;

function clip(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/**
 * Lattice rows from (a, b, c, α, β, γ) in pymatgen's `Lattice.from_parameters`
 * orientation (vesta = False), exactly as spec §1.2 step 3:
 *   cosγ* = clip((cosα·cosβ − cosγ)/(sinα·sinβ), −1, 1)
 *   a⃗ = (a·sinβ, 0, a·cosβ), b⃗ = (−b·sinα·cosγ*, b·sinα·sinγ*, b·cosα), c⃗ = (0, 0, c)
 */
export function fromParameters(p: LatticeParams): Matrix3 {
  const { a, b, c } = p;
  const ar = p.alpha * DEG;
  const br = p.beta * DEG;
  const gr = p.gamma * DEG;
  const cosA = Math.cos(ar);
  const cosB = Math.cos(br);
  const cosG = Math.cos(gr);
  const sinA = Math.sin(ar);
  const sinB = Math.sin(br);
  const gammaStar = Math.acos(clip((cosA * cosB - cosG) / (sinA * sinB), -1, 1));
  return [
    a * sinB, 0, a * cosB,
    -b * sinA * Math.cos(gammaStar), b * sinA * Math.sin(gammaStar), b * cosA,
    0, 0, c,
  ];
}

function norm3(x: number, y: number, z: number): number {
  return Math.sqrt(x * x + y * y + z * z);
}

/** Angle between two vectors in degrees (arccos of the clipped cosine, as pymatgen). */
function angleDeg(u: readonly number[], v: readonly number[]): number {
  const d = u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!;
  const c = d / (norm3(u[0]!, u[1]!, u[2]!) * norm3(v[0]!, v[1]!, v[2]!));
  return Math.acos(clip(c, -1, 1)) / DEG;
}

export function row(m: Matrix3, i: number): [number, number, number] {
  return [m[3 * i]!, m[3 * i + 1]!, m[3 * i + 2]!];
}

/** Lengths (Å) and angles (degrees): α = ∠(b, c), β = ∠(a, c), γ = ∠(a, b). */
export function toParameters(m: Matrix3): LatticeParams {
  const va = row(m, 0);
  const vb = row(m, 1);
  const vc = row(m, 2);
  return {
    a: norm3(...va),
    b: norm3(...vb),
    c: norm3(...vc),
    alpha: angleDeg(vb, vc),
    beta: angleDeg(va, vc),
    gamma: angleDeg(va, vb),
  };
}

export function determinant(m: Matrix3): number {
  return (
    m[0] * (m[4] * m[8] - m[5] * m[7]) -
    m[1] * (m[3] * m[8] - m[5] * m[6]) +
    m[2] * (m[3] * m[7] - m[4] * m[6])
  );
}

/** Cell volume in Å^3 (absolute value of the determinant). */
export function volume(m: Matrix3): number {
  return Math.abs(determinant(m));
}

/** Volume from parameters: abc·sqrt(1 − cos²α − cos²β − cos²γ + 2cosα cosβ cosγ). */
export function volumeFromParameters(p: LatticeParams): number {
  const ca = Math.cos(p.alpha * DEG);
  const cb = Math.cos(p.beta * DEG);
  const cg = Math.cos(p.gamma * DEG);
  return p.a * p.b * p.c * Math.sqrt(Math.max(0, 1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg));
}

export function transpose(m: Matrix3): Matrix3 {
  return [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]];
}

export function multiply(x: Matrix3, y: Matrix3): Matrix3 {
  const out = new Array<number>(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      out[3 * i + j] = x[3 * i]! * y[j]! + x[3 * i + 1]! * y[3 + j]! + x[3 * i + 2]! * y[6 + j]!;
    }
  }
  return out as Matrix3;
}

export function inverse(m: Matrix3): Matrix3 {
  const det = determinant(m);
  if (!(Math.abs(det) > 1e-12) || !Number.isFinite(det)) {
    throw new InputError(`singular lattice matrix (determinant ${det})`);
  }
  const inv = 1 / det;
  return [
    (m[4] * m[8] - m[5] * m[7]) * inv,
    (m[2] * m[7] - m[1] * m[8]) * inv,
    (m[1] * m[5] - m[2] * m[4]) * inv,
    (m[5] * m[6] - m[3] * m[8]) * inv,
    (m[0] * m[8] - m[2] * m[6]) * inv,
    (m[2] * m[3] - m[0] * m[5]) * inv,
    (m[3] * m[7] - m[4] * m[6]) * inv,
    (m[1] * m[6] - m[0] * m[7]) * inv,
    (m[0] * m[4] - m[1] * m[3]) * inv,
  ];
}

/**
 * Reciprocal lattice rows b*_i with a_i · b*_j = δ_ij (the "crystallographic"
 * reciprocal, pymatgen's `reciprocal_lattice_crystallographic`); pass
 * `twoPi = true` for the physics convention a_i · b_j = 2π δ_ij (pymatgen's `reciprocal_lattice`).
 */
export function reciprocal(m: Matrix3, twoPi = false): Matrix3 {
  const r = transpose(inverse(m));
  if (!twoPi) return r;
  return r.map((v) => v * 2 * Math.PI) as Matrix3;
}

/** Cartesian coordinates (N×3 flat) from fractional ones: cart = frac · L. */
export function fracToCart(m: Matrix3, frac: ArrayLike<number>): Float64Array {
  const n = frac.length / 3;
  const out = new Float64Array(frac.length);
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

/** Fractional coordinates (N×3 flat) from Cartesian ones: frac = cart · L⁻¹. */
export function cartToFrac(m: Matrix3, cart: ArrayLike<number>): Float64Array {
  return fracToCart(inverse(m), cart);
}

/** x mod 1 in [0, 1); values that round to 1.0 in floating point map to 0. */
export function wrap01(x: number): number {
  const w = x - Math.floor(x);
  return w >= 1 ? 0 : w;
}

/** Wraps every fractional coordinate into [0, 1) (in place; returns the array). */
export function wrapFrac<T extends { length: number; [i: number]: number }>(frac: T): T {
  for (let i = 0; i < frac.length; i++) frac[i] = wrap01(frac[i]!);
  return frac;
}

/**
 * Precomputed data for fast minimum-image distances in one lattice.
 * The image search is exact for any cell shape: with d = f2 − f1 wrapped to
 * [−½, ½), r = |d·L| bounds the minimum distance from above, and any lattice
 * translation k giving a distance ≤ r satisfies |d_i + k_i| ≤ r·|b*_i|
 * (the i-th fractional component of a Cartesian vector x is x·b*_i), so only
 * those k_i need to be tried. Skewed cells simply search a wider range.
 */
export class MinimumImage {
  private readonly m: Matrix3;
  private readonly recipNorm: [number, number, number];

  constructor(lattice: Matrix3) {
    this.m = lattice;
    const r = reciprocal(lattice);
    this.recipNorm = [norm3(r[0], r[1], r[2]), norm3(r[3], r[4], r[5]), norm3(r[6], r[7], r[8])];
  }

  /** Minimum-image distance (Å) between fractional points p and q (any range). */
  distance(p0: number, p1: number, p2: number, q0: number, q1: number, q2: number): number {
    return Math.sqrt(this.distanceSquared(p0, p1, p2, q0, q1, q2));
  }

  distanceSquared(p0: number, p1: number, p2: number, q0: number, q1: number, q2: number): number {
    const m = this.m;
    let d0 = q0 - p0;
    let d1 = q1 - p1;
    let d2 = q2 - p2;
    d0 -= Math.round(d0);
    d1 -= Math.round(d1);
    d2 -= Math.round(d2);
    const x = d0 * m[0] + d1 * m[3] + d2 * m[6];
    const y = d0 * m[1] + d1 * m[4] + d2 * m[7];
    const z = d0 * m[2] + d1 * m[5] + d2 * m[8];
    let best = x * x + y * y + z * z;
    const r = Math.sqrt(best) * (1 + 1e-12);
    const lo0 = Math.ceil(-r * this.recipNorm[0] - d0);
    const hi0 = Math.floor(r * this.recipNorm[0] - d0);
    const lo1 = Math.ceil(-r * this.recipNorm[1] - d1);
    const hi1 = Math.floor(r * this.recipNorm[1] - d1);
    const lo2 = Math.ceil(-r * this.recipNorm[2] - d2);
    const hi2 = Math.floor(r * this.recipNorm[2] - d2);
    for (let k0 = lo0; k0 <= hi0; k0++) {
      const e0 = d0 + k0;
      for (let k1 = lo1; k1 <= hi1; k1++) {
        const e1 = d1 + k1;
        for (let k2 = lo2; k2 <= hi2; k2++) {
          const e2 = d2 + k2;
          const cx = e0 * m[0] + e1 * m[3] + e2 * m[6];
          const cy = e0 * m[1] + e1 * m[4] + e2 * m[7];
          const cz = e0 * m[2] + e1 * m[5] + e2 * m[8];
          const s = cx * cx + cy * cy + cz * cz;
          if (s < best) best = s;
        }
      }
    }
    return best;
  }
}

/** Minimum-image distance (Å) between two fractional points. */
export function minimumImageDistance(lattice: Matrix3, f1: ArrayLike<number>, f2: ArrayLike<number>): number {
  return new MinimumImage(lattice).distance(f1[0]!, f1[1]!, f1[2]!, f2[0]!, f2[1]!, f2[2]!);
}

/** Full N×N minimum-image distance matrix (row-major, zero diagonal). */
export function distanceMatrix(lattice: Matrix3, frac: ArrayLike<number>): Float64Array {
  const n = frac.length / 3;
  const mi = new MinimumImage(lattice);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const d = mi.distance(frac[3 * i]!, frac[3 * i + 1]!, frac[3 * i + 2]!, frac[3 * j]!, frac[3 * j + 1]!, frac[3 * j + 2]!);
      out[i * n + j] = d;
      out[j * n + i] = d;
    }
  }
  return out;
}

/**
 * Smallest minimum-image distance between two different sites (Å); Infinity for
 * fewer than two sites. (A site's distance to its own periodic images is the
 * shortest lattice vector, see `shortestLatticeVector`.)
 */
export function minInteratomicDistance(lattice: Matrix3, frac: ArrayLike<number>): number {
  const n = frac.length / 3;
  const mi = new MinimumImage(lattice);
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const s = mi.distanceSquared(frac[3 * i]!, frac[3 * i + 1]!, frac[3 * i + 2]!, frac[3 * j]!, frac[3 * j + 1]!, frac[3 * j + 2]!);
      if (s < best) best = s;
    }
  }
  return Math.sqrt(best);
}

/** Length (Å) of the shortest non-zero lattice vector (exact search bounded as in MinimumImage). */
export function shortestLatticeVector(lattice: Matrix3): number {
  const rn = reciprocal(lattice);
  const r = Math.min(norm3(lattice[0], lattice[1], lattice[2]), norm3(lattice[3], lattice[4], lattice[5]), norm3(lattice[6], lattice[7], lattice[8]));
  const n = [norm3(rn[0], rn[1], rn[2]), norm3(rn[3], rn[4], rn[5]), norm3(rn[6], rn[7], rn[8])].map((v) => Math.floor(r * v * (1 + 1e-12)));
  let best = r * r;
  for (let i = -n[0]!; i <= n[0]!; i++) {
    for (let j = -n[1]!; j <= n[1]!; j++) {
      for (let k = -n[2]!; k <= n[2]!; k++) {
        if (i === 0 && j === 0 && k === 0) continue;
        const x = i * lattice[0] + j * lattice[3] + k * lattice[6];
        const y = i * lattice[1] + j * lattice[4] + k * lattice[7];
        const z = i * lattice[2] + j * lattice[5] + k * lattice[8];
        const s = x * x + y * y + z * z;
        if (s < best) best = s;
      }
    }
  }
  return Math.sqrt(best);
}

/** Throws InputError unless the parameters describe a real, non-degenerate cell. */
export function validateParameters(p: LatticeParams, context = ''): void {
  const where = context ? ` (${context})` : '';
  for (const key of ['a', 'b', 'c'] as const) {
    if (!Number.isFinite(p[key]) || p[key] <= 0) throw new InputError(`lattice length ${key} = ${p[key]} must be a positive number${where}`);
  }
  for (const key of ['alpha', 'beta', 'gamma'] as const) {
    if (!Number.isFinite(p[key]) || p[key] <= 0 || p[key] >= 180) throw new InputError(`lattice angle ${key} = ${p[key]} must be in (0, 180) degrees${where}`);
  }
  const v = volumeFromParameters(p);
  if (!(v > 1e-6 * p.a * p.b * p.c)) throw new InputError(`lattice angles (${p.alpha}, ${p.beta}, ${p.gamma}) give a degenerate cell${where}`);
}
