/**
 * Wrapped normal on the circle of period 2π and the derivative of its log
 * density with respect to the mean (spec §3.3):
 *
 *   WN(r; μ, σ) ∝ Σ_{k=−13}^{13} exp(−(r − μ + 2πk)² / (2σ²))
 *   G(r; μ, σ)  = ∂/∂μ log WN = Σ_k w_k (r − μ + 2πk) / σ²,
 *   w_k = softmax_k(−(r − μ + 2πk)² / (2σ²)).
 *
 * Sign convention (§13.20): G is the derivative w.r.t. μ (= −∂/∂r log WN); it is
 * the right sign for the velocity score through μ_r = κ·(u_s + u_0). The softmax
 * subtracts its maximum so that tiny σ (down to ~1e−3, §3.2) does not underflow.
 */

const TWO_PI = 2 * Math.PI;
/** Number of images on each side (`k_wn_score = 13`, §3.3). */
export const WN_IMAGES = 13;

/** G(r; μ, σ) for one component (spec §3.3). */
export function wrappedNormalG(r: number, mu: number, sigma: number): number {
  const d = r - mu;
  const inv2s2 = 1 / (2 * sigma * sigma);
  // the largest exponent belongs to the image closest to 0
  let maxExp = -Infinity;
  for (let k = -WN_IMAGES; k <= WN_IMAGES; k++) {
    const x = d + TWO_PI * k;
    const e = -x * x * inv2s2;
    if (e > maxExp) maxExp = e;
  }
  let sumW = 0;
  let sumWx = 0;
  for (let k = -WN_IMAGES; k <= WN_IMAGES; k++) {
    const x = d + TWO_PI * k;
    const w = Math.exp(-x * x * inv2s2 - maxExp);
    sumW += w;
    sumWx += w * x;
  }
  return sumWx / sumW / (sigma * sigma);
}

/**
 * Element-wise G over arrays r, μ (same length), one σ per array row of `dim`
 * components (σ is shared by the atoms of a crystal: pass the atom's σ via
 * `sigmaOfRow`). Writes into `out` and returns it.
 */
export function wrappedNormalGArray<T extends Float32Array | Float64Array>(
  out: T,
  r: ArrayLike<number>,
  mu: ArrayLike<number>,
  sigmaOfRow: (row: number) => number,
  dim = 3,
): T {
  const rows = out.length / dim;
  for (let i = 0; i < rows; i++) {
    const sigma = sigmaOfRow(i);
    for (let d = 0; d < dim; d++) {
      const j = i * dim + d;
      out[j] = wrappedNormalG(r[j]!, mu[j]!, sigma);
    }
  }
  return out;
}
