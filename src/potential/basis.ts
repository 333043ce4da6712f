/**
 * M3GNet's basis functions with their derivatives (Chen & Ong 2022, Methods eq. 1-3):
 * the spherical Bessel radial basis j_l(z_ln r / r_c) sqrt(2 / r_c^3) / |j_{l+1}(z_ln)|,
 * the real spherical harmonics Y_l^0(cos theta) and the polynomial envelope
 * 1 - 10 x^3 + 15 x^4 - 6 x^5 (x = r / r_c) whose value, slope and curvature vanish at r_c.
 * Column order of the radial basis is l-major: index l * maxN + n.
 */

/** j_0..j_lmax at x > 0 by the Rayleigh closed forms (exact up to l = 3 here). */
export function sphericalJn(l: number, x: number): number {
  const s = Math.sin(x), c = Math.cos(x);
  switch (l) {
    case 0: return s / x;
    case 1: return s / (x * x) - c / x;
    case 2: return (3 / (x * x * x) - 1 / x) * s - (3 * c) / (x * x);
    case 3: return (15 / (x * x * x * x) - 6 / (x * x)) * s - (15 / (x * x * x) - 1 / x) * c;
    default: throw new RangeError(`spherical Bessel j_${l} not implemented (l <= 3)`);
  }
}

/** d j_l / dx: j_0' = -j_1, j_l' = j_{l-1} - (l + 1) j_l / x (DLMF 10.51.2). */
export function sphericalJnPrime(l: number, x: number): number {
  if (l === 0) return -sphericalJn(1, x);
  return sphericalJn(l - 1, x) - ((l + 1) * sphericalJn(l, x)) / x;
}

/**
 * roots[l][n]: the n-th positive zero of j_l, l < maxL, n < maxN. The zeros of j_l interlace
 * those of j_{l-1} (starting from j_0's k pi), so each is bracketed and found by bisection.
 */
export function sphericalJnRoots(maxL: number, maxN: number): number[][] {
  let zeros = Array.from({ length: maxL + maxN }, (_, k) => Math.PI * (k + 1));
  const roots = [zeros.slice(0, maxN)];
  for (let l = 1; l < maxL; l++) {
    const next: number[] = [];
    for (let j = 0; j + 1 < zeros.length; j++) {
      let lo = zeros[j]!, hi = zeros[j + 1]!;
      const signLo = Math.sign(sphericalJn(l, lo));
      for (let it = 0; it < 200 && hi - lo > 0; it++) {
        const mid = 0.5 * (lo + hi);
        if (mid === lo || mid === hi) break;
        if (Math.sign(sphericalJn(l, mid)) === signLo) lo = mid;
        else hi = mid;
      }
      next.push(0.5 * (lo + hi));
    }
    zeros = next;
    roots.push(zeros.slice(0, maxN));
  }
  return roots;
}

/** The radial basis of one cutoff, prepared once: zeros and normalisations. */
export class SphericalBesselBasis {
  readonly size: number;
  private readonly roots: number[][];
  private readonly norms: number[][];

  constructor(readonly maxL: number, readonly maxN: number, readonly cutoff: number) {
    this.size = maxL * maxN;
    this.roots = sphericalJnRoots(maxL, maxN);
    const base = Math.sqrt(2 / cutoff ** 3);
    this.norms = this.roots.map((row, l) => row.map((z) => base / Math.abs(sphericalJn(l + 1, z))));
  }

  /** Writes the basis at r (clamped to the cutoff, as matgl) and d/dr into out/dout at offset. */
  evaluate(r: number, out: Float64Array, dout: Float64Array | null, offset: number): void {
    const clamped = r > this.cutoff;
    const rc = clamped ? this.cutoff : r;
    for (let l = 0; l < this.maxL; l++) {
      for (let n = 0; n < this.maxN; n++) {
        const k = this.roots[l]![n]! / this.cutoff;
        const x = rc * k;
        const norm = this.norms[l]![n]!;
        const idx = offset + l * this.maxN + n;
        out[idx] = norm * sphericalJn(l, x);
        if (dout) dout[idx] = clamped ? 0 : norm * k * sphericalJnPrime(l, x);
      }
    }
  }
}

const Y0 = 0.5 * Math.sqrt(1 / Math.PI);
const Y1 = Math.sqrt(3 / (4 * Math.PI));
const Y2 = Math.sqrt(5 / (16 * Math.PI));

/**
 * Y_l^0(cos theta) for l = 0..maxL-1 (maxL <= 3) and d/d(cos theta), written at `offset` (so that a
 * caller filling one row per triple needs no subarray views, which cost an allocation each).
 */
export function sphericalHarmonicsL0(maxL: number, cosT: number, out: Float64Array, dout: Float64Array, offset = 0): void {
  if (maxL > 3) throw new RangeError('Y_l^0 implemented for l <= 2');
  out[offset] = Y0;
  dout[offset] = 0;
  if (maxL > 1) {
    out[offset + 1] = Y1 * cosT;
    dout[offset + 1] = Y1;
  }
  if (maxL > 2) {
    out[offset + 2] = Y2 * (3 * cosT * cosT - 1);
    dout[offset + 2] = Y2 * 6 * cosT;
  }
}

/** Polynomial envelope (exponent 3) at r and its derivative; zero beyond the cutoff. */
export function polynomialEnvelope(r: number, cutoff: number): [number, number] {
  if (r > cutoff) return [0, 0];
  const x = r / cutoff;
  const x2 = x * x, x3 = x2 * x;
  const value = 1 - 10 * x3 + 15 * x3 * x - 6 * x3 * x2;
  const slope = (-30 * x2 + 60 * x3 - 30 * x3 * x) / cutoff;
  return [value, slope];
}
