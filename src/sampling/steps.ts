/**
 * Single reverse-time update rules of the samplers (spec §7.1, §7.2), one
 * function per modality and rule. They take the scores and the noise arrays as
 * arguments (no randomness inside), so each is testable with noise = 0 against
 * spec §14.5/§14.6, and they update the state arrays in place.
 *
 * Time: the step goes from network time t to t + Δt (Δt < 0); the TDM works in
 * internal time s = 2t with step h = 2|Δt|.
 */
import type { BatchLayout } from '../network/types.js';
import { sigmaU, muU } from '../diffusion/tdmKernel.js';
import { vpAlpha, vpBeta, vpSigma, DEFAULT_VP_SCHEDULE, type VpSchedule } from '../diffusion/latticeVp.js';
import { wrap2pi } from '../diffusion/wrap.js';

/** Positions follow the (new) velocities backwards in time: x ← wrap2π(x − h·u) (§7.1 step 3). */
export function tdmMovePositions(x: Float64Array, u: ArrayLike<number>, h: number): void {
  for (let j = 0; j < x.length; j++) x[j] = wrap2pi(x[j]! - h * u[j]!);
}

/**
 * TDM Euler–Maruyama step (spec §7.1 steps 2-3): exact integration of the linear
 * part with the score held fixed,
 *   u ← e^{h}·u + 2(e^{h} − 1)·ŝ_u + sqrt(e^{2h} − 1)·ξ,  then x ← wrap2π(x − h·u).
 * ξ must be centred per crystal.
 */
export function tdmEmStep(x: Float64Array, u: Float64Array, score: ArrayLike<number>, xi: ArrayLike<number>, h: number): void {
  const eh = Math.exp(h);
  const cScore = 2 * Math.expm1(h);
  const cNoise = Math.sqrt(Math.expm1(2 * h));
  for (let j = 0; j < u.length; j++) u[j] = eh * u[j]! + cScore * score[j]! + cNoise * xi[j]!;
  tdmMovePositions(x, u, h);
}

/**
 * TDM predictor (spec §7.2 step 4, deterministic, DDIM-like), at internal time s:
 *   ρ = μ_u(s−h)/μ_u(s) = e^{h},  c = (ρ·σ_u(s) − σ_u(s−h))·σ_u(s),
 *   u ← ρ·u + c·ŝ_u,  then x ← wrap2π(x − h·u).
 */
export function tdmPredictorStep(x: Float64Array, u: Float64Array, score: ArrayLike<number>, s: number, h: number): void {
  const rho = muU(s - h) / muU(s);
  const su = sigmaU(s);
  const c = (rho * su - sigmaU(s - h)) * su;
  for (let j = 0; j < u.length; j++) u[j] = rho * u[j]! + c * score[j]!;
  tdmMovePositions(x, u, h);
}

/**
 * Per-group Langevin step size δ_g = τ / mean(ŝ²) over the group's entries
 * (spec §7.2 steps 1-3, §13.9). `offsets` delimits groups in entries (for the
 * TDM: atomOffsets×3; for the lattice: g×6). A group whose score is exactly zero
 * (e.g. the velocity of a 1-atom crystal, always 0 by centring) gets δ = 0: the
 * reference would compute τ/0 = ∞ and then NaN; a zero move is the limit that
 * keeps the state finite (deviation, documented in docs/diffusion.md).
 */
export function correctorStepSizes(score: ArrayLike<number>, offsets: ArrayLike<number>, tau: number): Float64Array {
  const G = offsets.length - 1;
  const delta = new Float64Array(G);
  for (let g = 0; g < G; g++) {
    const start = offsets[g]!;
    const end = offsets[g + 1]!;
    let sumSq = 0;
    for (let j = start; j < end; j++) sumSq += score[j]! * score[j]!;
    const meanSq = end > start ? sumSq / (end - start) : 0;
    delta[g] = meanSq > 0 && Number.isFinite(meanSq) ? tau / meanSq : 0;
  }
  return delta;
}

/**
 * Langevin corrector on a flat array grouped by `offsets` (spec §7.2 steps 1-3):
 *   y ← y + δ_g·ŝ + sqrt(2δ_g)·noise   with δ_g = τ / mean_g(ŝ²).
 * Returns the δ_g used.
 */
export function langevinCorrectorStep(
  y: Float64Array,
  score: ArrayLike<number>,
  noise: ArrayLike<number>,
  offsets: ArrayLike<number>,
  tau: number,
): Float64Array {
  const delta = correctorStepSizes(score, offsets, tau);
  for (let g = 0; g < delta.length; g++) {
    const d = delta[g]!;
    const sn = Math.sqrt(2 * d);
    for (let j = offsets[g]!; j < offsets[g + 1]!; j++) y[j] = y[j]! + d * score[j]! + sn * noise[j]!;
  }
  return delta;
}

/** Entry offsets of per-crystal groups of `width` entries per atom (TDM: width 3). */
export function atomGroupOffsets(layout: BatchLayout, width: number): Int32Array {
  const o = new Int32Array(layout.numCrystals + 1);
  for (let g = 0; g <= layout.numCrystals; g++) o[g] = layout.atomOffsets[g]! * width;
  return o;
}

/** Entry offsets of per-crystal groups of `width` entries per crystal (lattice: width 6). */
export function crystalGroupOffsets(numCrystals: number, width: number): Int32Array {
  const o = new Int32Array(numCrystals + 1);
  for (let g = 0; g <= numCrystals; g++) o[g] = g * width;
  return o;
}

/**
 * TDM corrector (spec §7.2 step 1): Langevin move of the velocities with
 * per-crystal δ, then, if `correctPos`, positions follow: x ← wrap2π(x − h·u).
 * ξ must be centred per crystal.
 */
export function tdmCorrectorStep(
  x: Float64Array,
  u: Float64Array,
  score: ArrayLike<number>,
  xi: ArrayLike<number>,
  layout: BatchLayout,
  tau: number,
  h: number,
  correctPos: boolean,
): Float64Array {
  const delta = langevinCorrectorStep(u, score, xi, atomGroupOffsets(layout, 3), tau);
  if (correctPos) tdmMovePositions(x, u, h);
  return delta;
}

/**
 * VP-SDE reverse Euler–Maruyama step in network time (spec §7.1 step 4):
 *   l ← l + (−½β(t)·l − β(t)·ŝ)·Δt + sqrt(β(t)·|Δt|)·z.
 */
export function vpEmStep(
  l: Float64Array,
  score: ArrayLike<number>,
  z: ArrayLike<number>,
  t: number,
  dt: number,
  sch: VpSchedule = DEFAULT_VP_SCHEDULE,
): void {
  const beta = vpBeta(t, sch);
  const cNoise = Math.sqrt(beta * Math.abs(dt));
  for (let j = 0; j < l.length; j++) l[j] = l[j]! + (-0.5 * beta * l[j]! - beta * score[j]!) * dt + cNoise * z[j]!;
}

/**
 * VP-SDE deterministic predictor (spec §7.2 step 5):
 *   ρ = α(t+Δt)/α(t),  c = (ρ·σ(t) − σ(t+Δt))·σ(t),  l ← ρ·l + c·ŝ.
 */
export function vpPredictorStep(
  l: Float64Array,
  score: ArrayLike<number>,
  t: number,
  dt: number,
  sch: VpSchedule = DEFAULT_VP_SCHEDULE,
): void {
  const rho = vpAlpha(t + dt, sch) / vpAlpha(t, sch);
  const s = vpSigma(t, sch);
  const c = (rho * s - vpSigma(t + dt, sch)) * s;
  for (let j = 0; j < l.length; j++) l[j] = rho * l[j]! + c * score[j]!;
}
