/**
 * Variance-preserving SDE on R^d (spec §4), used for the 6 lattice features
 * (and, with d = K or n_bits, by the continuous atom-type diffusions of §5.1-5.2).
 * Network time t ∈ [0, 1], no rescaling:
 *
 *   β(t) = β_min + (β_max − β_min)·t          (β_min = 0.1, β_max = 20)
 *   B(t) = ∫_0^t β = β_min·t + ½(β_max − β_min)·t²
 *   α(t) = exp(−B(t)/2),  σ(t) = sqrt(1 − α(t)²)
 *   forward  l_t = α l_0 + σ ε,  prior N(0, I)
 *   drift f(l, t) = −½ β(t) l,  diffusion g(t) = sqrt(β(t))
 *
 * Parameterisations: `x0` (config default) — the head predicts l̂_0, score
 * (α l̂_0 − l_t)/σ²; `eps` — the head predicts ε̂, score −ε̂/σ.
 */

export interface VpSchedule {
  betaMin: number;
  betaMax: number;
}

/** Schedule of the reference (`_beta_min`, `_beta_max` buffers, spec §4). */
export const DEFAULT_VP_SCHEDULE: VpSchedule = { betaMin: 0.1, betaMax: 20.0 };

export type VpParameterisation = 'x0' | 'eps';

export function vpBeta(t: number, sch: VpSchedule = DEFAULT_VP_SCHEDULE): number {
  return sch.betaMin + (sch.betaMax - sch.betaMin) * t;
}

/** B(t) = ∫_0^t β(τ) dτ. */
export function vpIntegratedBeta(t: number, sch: VpSchedule = DEFAULT_VP_SCHEDULE): number {
  return sch.betaMin * t + 0.5 * (sch.betaMax - sch.betaMin) * t * t;
}

export function vpAlpha(t: number, sch: VpSchedule = DEFAULT_VP_SCHEDULE): number {
  return Math.exp(-0.5 * vpIntegratedBeta(t, sch));
}

export function vpSigma(t: number, sch: VpSchedule = DEFAULT_VP_SCHEDULE): number {
  // 1 − α² = 1 − e^{−B}: −expm1(−B) keeps precision for small t
  return Math.sqrt(-Math.expm1(-vpIntegratedBeta(t, sch)));
}

/** Forward draw l_t = α l_0 + σ ε per row of `dim` components, each row with its own t (spec §4). */
export function vpForward(
  l0: ArrayLike<number>,
  eps: ArrayLike<number>,
  tOfRow: ArrayLike<number>,
  dim: number,
  sch: VpSchedule = DEFAULT_VP_SCHEDULE,
): Float64Array {
  const out = new Float64Array(l0.length);
  const rows = l0.length / dim;
  if (!Number.isInteger(rows) || eps.length !== l0.length || tOfRow.length !== rows) {
    throw new Error(`vpForward: need l0, eps of ${tOfRow.length}×${dim} entries`);
  }
  for (let r = 0; r < rows; r++) {
    const a = vpAlpha(tOfRow[r]!, sch);
    const s = vpSigma(tOfRow[r]!, sch);
    for (let d = 0; d < dim; d++) out[r * dim + d] = a * l0[r * dim + d]! + s * eps[r * dim + d]!;
  }
  return out;
}

/** Regression target of the head: l_0 (x0) or ε (eps) (spec §4). */
export function vpTarget(l0: ArrayLike<number>, eps: ArrayLike<number>, param: VpParameterisation): Float64Array {
  return Float64Array.from(param === 'x0' ? l0 : eps);
}

/**
 * Score ŝ from the head output at one time t shared by all rows (sampling, spec §4):
 * x0: (α·out − l_t)/σ²;  eps: −out/σ. Writes into `out` and returns it.
 */
export function vpScore(
  out: Float64Array,
  head: ArrayLike<number>,
  lt: ArrayLike<number>,
  t: number,
  param: VpParameterisation,
  sch: VpSchedule = DEFAULT_VP_SCHEDULE,
): Float64Array {
  const a = vpAlpha(t, sch);
  const s = vpSigma(t, sch);
  if (param === 'x0') {
    const inv = 1 / (s * s);
    for (let j = 0; j < out.length; j++) out[j] = (a * head[j]! - lt[j]!) * inv;
  } else {
    for (let j = 0; j < out.length; j++) out[j] = -head[j]! / s;
  }
  return out;
}
