/**
 * Score-norm table λ (spec §3.3, §13.7, §14.3).
 *
 * λ_k = E_y[G(y; 0, σ_r(s_k))²], y = wrap2π(σ_r(s_k)·z), z ~ N(0,1), on the grid
 * s_k = 2k/1999, k = 0…1999 (linspace(0, 2, 2000)): the Fisher information of
 * WN(0, σ_r(s_k)). The reference estimates it by Monte Carlo (random, ±2%); we
 * compute it deterministically by quadrature (the substitute §3.3/§13.7 allow):
 *
 * G is 2π-periodic in its first argument, so G(wrap2π(σz)) = G(σz) and
 *   λ = ∫ φ(z) G(σz; 0, σ)² dz = 2 ∫_0^∞ φ(z) G(σz; 0, σ)² dz   (G is odd).
 * The integrand is smooth and Gaussian-decaying, for which the trapezoidal rule
 * converges exponentially fast; we use step 1/32 on [0, 12] (φ(12) ≈ 5e−32, and
 * G² ≤ (12/σ)² there), which agrees with step 1/64 to ~1e−13 relative (tested).
 *
 * The table is computed once, lazily, on first use (~2000·385·27 exponentials,
 * a few hundred ms).
 */
import { wrappedNormalG } from './wrappedNormal.js';
import { sigmaR } from './tdmKernel.js';

/** Number of grid points (`linspace(0, 2, 2000)`). */
export const SCORE_NORM_GRID = 2000;

/** Grid point s_k = 2k/1999 (spec §3.3). */
export function scoreNormGridTime(k: number): number {
  return (2 * k) / (SCORE_NORM_GRID - 1);
}

/**
 * Fisher information E[G(y; 0, σ)²] of the wrapped normal WN(0, σ) by the
 * trapezoidal rule in z with step `h` on [0, zMax].
 */
export function wrappedNormalFisherInformation(sigma: number, h = 1 / 32, zMax = 12): number {
  const n = Math.round(zMax / h);
  const norm = 1 / Math.sqrt(2 * Math.PI);
  let sum = 0;
  for (let i = 1; i <= n; i++) {
    const z = i * h;
    const g = wrappedNormalG(sigma * z, 0, sigma);
    const w = i === n ? 0.5 : 1; // trapezoid end weight; the z = 0 term is G(0)² = 0
    sum += w * norm * Math.exp(-0.5 * z * z) * g * g;
  }
  return 2 * h * sum;
}

/** Compute the whole 2000-entry table (spec §3.3). */
export function computeScoreNormTable(h = 1 / 32, zMax = 12): Float64Array {
  const table = new Float64Array(SCORE_NORM_GRID);
  for (let k = 0; k < SCORE_NORM_GRID; k++) {
    table[k] = wrappedNormalFisherInformation(sigmaR(scoreNormGridTime(k)), h, zMax);
  }
  return table;
}

let cachedTable: Float64Array | null = null;

/** The λ table, computed on first use and cached (do not mutate it). */
export function scoreNormTable(): Float64Array {
  if (cachedTable === null) cachedTable = computeScoreNormTable();
  return cachedTable;
}

/** Round half to even, as torch.round / numpy.round do. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // rounds halves up
  if (Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/**
 * Table index for network time t: idx = round(2000·t) − 1 (spec §3.3, §13.7).
 * For t < 0.00025 the reference's index −1 would wrap to the last entry
 * (a PyTorch negative index); t ≥ 0.001 in practice, and we clamp to 0 instead,
 * the entry whose σ is closest.
 */
export function scoreNormIndex(t: number): number {
  const idx = roundHalfEven(SCORE_NORM_GRID * t) - 1;
  return Math.min(SCORE_NORM_GRID - 1, Math.max(0, idx));
}

/** λ(s) at network time t (spec §3.3). */
export function scoreNormAt(t: number): number {
  return scoreNormTable()[scoreNormIndex(t)]!;
}

/**
 * Install a table loaded from elsewhere (e.g. `diffusions.v._sigma_norms` of a
 * ported reference checkpoint, §13.7), or `null` to go back to the quadrature.
 */
export function setScoreNormTable(table: Float64Array | Float32Array | number[] | null): void {
  if (table === null) {
    cachedTable = null;
    return;
  }
  if (table.length !== SCORE_NORM_GRID) {
    throw new Error(`score-norm table must have ${SCORE_NORM_GRID} entries, got ${table.length}`);
  }
  const copy = Float64Array.from(table);
  for (let k = 0; k < copy.length; k++) {
    if (!(copy[k]! > 0) || !Number.isFinite(copy[k]!)) throw new Error(`score-norm table entry ${k} is not a positive number`);
  }
  cachedTable = copy;
}
