/**
 * Trivialized Diffusion Model for fractional coordinates with velocities
 * (spec §3): forward sampling of the noisy state, the training target, the
 * velocity-score reconstruction used by the samplers, and the prior.
 *
 * Units (spec conventions): data fractional coords f ∈ [0,1); network-scale
 * positions p = wrap1(f) ∈ (−½, ½]; internal positions x = 2π·p ∈ (−π, π];
 * internal velocities u, network-scale v = u/(2π). Internal time s = 2t.
 * Scalar coefficients are float64; arrays handed to the network are float32.
 */
import type { BatchLayout } from '../network/types.js';
import { centreInPlace, centredNormal } from './centre.js';
import { tdmCoefficients, type TdmCoefficients } from './tdmKernel.js';
import { scoreNormAt } from './scoreNorm.js';
import { wrappedNormalG } from './wrappedNormal.js';
import { wrap1, wrap2pi } from './wrap.js';

const TWO_PI = 2 * Math.PI;

/**
 * `simplified` (default, requires u_0 = 0): the network learns the normalised
 * wrapped-normal part g/sqrt(λ); `full` (ablation): the whole velocity score
 * (spec §3.4 step 6).
 */
export type TdmParameterisation = 'simplified' | 'full';

/** The two centred standard-normal noise arrays of one forward draw (spec §3.4 steps 2-3), N*3 each. */
export interface TdmNoise {
  epsU: Float64Array;
  epsR: Float64Array;
}

/** Draw ε_u and ε_r, each N(0, I) centred per crystal (zero_cog_v, spec §3.1). */
export function drawTdmNoise(layout: BatchLayout, rng: { normal(): number }): TdmNoise {
  const n = layout.numAtoms * 3;
  return {
    epsU: centredNormal(new Float64Array(n), layout, rng),
    epsR: centredNormal(new Float64Array(n), layout, rng),
  };
}

/** Noisy TDM state at time t and the velocity-head target (spec §3.4). */
export interface TdmTrainingSample {
  /** network-scale positions p = x_s/(2π) ∈ (−½, ½], N*3 (step 7) */
  pos: Float32Array;
  /** network-scale velocities v = u_s/(2π), N*3, mean-free per crystal (step 7) */
  vel: Float32Array;
  /** regression target y of the velocity head, N*3, mean-free per crystal (step 6) */
  target: Float32Array;
}

/** Float64 intermediates of the forward draw (exposed for tests and the docs). */
export interface TdmForwardDetail {
  /** internal velocity u_s */
  u: Float64Array;
  /** wrapped displacement r = wrap2π(μ_r + σ_r ε_r) */
  r: Float64Array;
  /** wrapped conditional mean μ̃_r = wrap2π(κ u_s) */
  muR: Float64Array;
  /** internal position x_s */
  x: Float64Array;
  /** g = centre(G(r; μ̃_r, σ_r)) (step 5) */
  g: Float64Array;
  /** the target in float64 */
  target: Float64Array;
}

/**
 * Forward-noise clean fractional coordinates to per-crystal network times t_g
 * and build the training target (spec §3.4, u_0 = 0):
 *   u_s = σ_u ε_u;  μ_r = κ u_s;  r = wrap2π(μ_r + σ_r ε_r);  μ̃_r = wrap2π(μ_r)
 *   x_s = wrap2π(2π·wrap1(f) + r);  g = centre(G(r; μ̃_r, σ_r))
 *   simplified: y = g / sqrt(λ(s));  full: y = −ε_u/σ_u + κ·g
 * `frac` is N*3 data fractional coordinates, `t` has one entry per crystal,
 * `noise` must already be centred per crystal (see drawTdmNoise).
 */
export function tdmForwardDetailed(
  frac: ArrayLike<number>,
  t: ArrayLike<number>,
  layout: BatchLayout,
  noise: TdmNoise,
  parameterisation: TdmParameterisation = 'simplified',
): TdmForwardDetail {
  const N = layout.numAtoms;
  if (frac.length !== N * 3 || noise.epsU.length !== N * 3 || noise.epsR.length !== N * 3) {
    throw new Error(`tdmForward: frac/noise must have ${N * 3} entries`);
  }
  if (t.length !== layout.numCrystals) throw new Error(`tdmForward: need one t per crystal (${layout.numCrystals})`);
  const u = new Float64Array(N * 3);
  const r = new Float64Array(N * 3);
  const muR = new Float64Array(N * 3);
  const x = new Float64Array(N * 3);
  const g = new Float64Array(N * 3);
  const target = new Float64Array(N * 3);
  for (let c = 0; c < layout.numCrystals; c++) {
    const k: TdmCoefficients = tdmCoefficients(t[c]!);
    for (let j = layout.atomOffsets[c]! * 3; j < layout.atomOffsets[c + 1]! * 3; j++) {
      u[j] = k.sigmaU * noise.epsU[j]!; // + μ_u·u_0 with u_0 = 0
      const mu = k.kappa * u[j]!;
      r[j] = wrap2pi(mu + k.sigmaR * noise.epsR[j]!);
      muR[j] = wrap2pi(mu);
      x[j] = wrap2pi(TWO_PI * wrap1(frac[j]!) + r[j]!);
      g[j] = wrappedNormalG(r[j]!, muR[j]!, k.sigmaR);
    }
  }
  centreInPlace(g, layout); // zero_cog_v (spec §3.4 step 5)
  for (let c = 0; c < layout.numCrystals; c++) {
    const k = tdmCoefficients(t[c]!);
    const invSqrtLambda = 1 / Math.sqrt(scoreNormAt(t[c]!));
    for (let j = layout.atomOffsets[c]! * 3; j < layout.atomOffsets[c + 1]! * 3; j++) {
      target[j] =
        parameterisation === 'simplified' ? g[j]! * invSqrtLambda : -noise.epsU[j]! / k.sigmaU + k.kappa * g[j]!;
    }
  }
  return { u, r, muR, x, g, target };
}

/** tdmForwardDetailed reduced to what the network and the loss need (float32). */
export function tdmForward(
  frac: ArrayLike<number>,
  t: ArrayLike<number>,
  layout: BatchLayout,
  noise: TdmNoise,
  parameterisation: TdmParameterisation = 'simplified',
): TdmTrainingSample {
  const d = tdmForwardDetailed(frac, t, layout, noise, parameterisation);
  const pos = new Float32Array(d.x.length);
  const vel = new Float32Array(d.u.length);
  for (let j = 0; j < pos.length; j++) {
    pos[j] = d.x[j]! / TWO_PI;
    vel[j] = d.u[j]! / TWO_PI;
  }
  return { pos, vel, target: Float32Array.from(d.target) };
}

/**
 * Velocity score from the velocity-head output (spec §3.5), at one network
 * time t shared by the batch (as during sampling), internal velocities u:
 *   simplified: ŝ_u = −u/σ_u(s)² + κ(s)·sqrt(λ(s))·o;   full: ŝ_u = o.
 * Writes into `out` (N*3) and returns it.
 */
export function velocityScore(
  out: Float64Array,
  o: ArrayLike<number>,
  u: ArrayLike<number>,
  t: number,
  parameterisation: TdmParameterisation = 'simplified',
): Float64Array {
  if (parameterisation === 'full') {
    for (let j = 0; j < out.length; j++) out[j] = o[j]!;
    return out;
  }
  const k = tdmCoefficients(t);
  const a = -1 / (k.sigmaU * k.sigmaU);
  const b = k.kappa * Math.sqrt(scoreNormAt(t));
  for (let j = 0; j < out.length; j++) out[j] = a * u[j]! + b * o[j]!;
  return out;
}

/** Internal TDM state used by the samplers: positions x ∈ (−π, π], velocities u (float64, N*3). */
export interface TdmState {
  x: Float64Array;
  u: Float64Array;
}

/**
 * Prior (spec §3.6): x uniform on the torus (p = wrap1(U[0,1)), x = 2π p) and
 * u ~ centre(N(0, I)) (the OU stationary law in the mean-free subspace).
 */
export function tdmPrior(layout: BatchLayout, rng: { uniform(): number; normal(): number }): TdmState {
  const n = layout.numAtoms * 3;
  const x = new Float64Array(n);
  for (let j = 0; j < n; j++) x[j] = TWO_PI * wrap1(rng.uniform());
  const u = centredNormal(new Float64Array(n), layout, rng);
  return { x, u };
}

/** Network-scale views of an internal state: p = x/(2π), v = u/(2π) (float32). */
export function toNetworkScale(state: TdmState, pos: Float32Array, vel: Float32Array): void {
  for (let j = 0; j < state.x.length; j++) {
    pos[j] = state.x[j]! / TWO_PI;
    vel[j] = state.u[j]! / TWO_PI;
  }
}

/** Internal state from network-scale positions/velocities (x = 2π wrap1(p), u = 2π v). */
export function fromNetworkScale(pos: ArrayLike<number>, vel: ArrayLike<number>): TdmState {
  const x = new Float64Array(pos.length);
  const u = new Float64Array(vel.length);
  for (let j = 0; j < x.length; j++) {
    x[j] = TWO_PI * wrap1(pos[j]!);
    u[j] = TWO_PI * vel[j]!;
  }
  return { x, u };
}
