/**
 * Closed-form coefficients of the TDM transition kernel (spec §3.2), in
 * internal time s = 2t (γ = 1, horizon T = 2), float64, with the small
 * constants exactly as in the reference code:
 *
 *   μ_u(s) = e^{−s}                               velocity mean coefficient
 *   σ_u(s) = sqrt(1 − e^{−2s} + 1e−6)             velocity std
 *   κ(s)   = (1 − e^{−s}) / (1 + e^{−s}) = tanh(s/2)  displacement prefactor
 *   σ_r(s) = sqrt(2s + 8/(1 + e^{s}) − 4 + 1e−6)  displacement std
 *
 * Kernel: u_s | u_0 ~ N(μ_u u_0, σ_u² I); r_s | (u_0, u_s) ~ N(κ (u_s + u_0), σ_r² I).
 */

/** Internal TDM horizon T (the constructor argument `tf = 2.0`, spec conventions). */
export const TDM_HORIZON = 2;

/** Internal time s = T·t for network time t (spec conventions). */
export function internalTime(t: number): number {
  return TDM_HORIZON * t;
}

export function muU(s: number): number {
  return Math.exp(-s);
}

export function sigmaU(s: number): number {
  return Math.sqrt(1 - Math.exp(-2 * s) + 1e-6);
}

export function kappa(s: number): number {
  return Math.tanh(s / 2);
}

export function sigmaR(s: number): number {
  return Math.sqrt(2 * s + 8 / (1 + Math.exp(s)) - 4 + 1e-6);
}

/** Unconditional Var(r_s) for u_0 = 0: 2s − 3 + 4e^{−s} − e^{−2s} (spec §3.2 check). */
export function unconditionalDisplacementVariance(s: number): number {
  return 2 * s - 3 + 4 * Math.exp(-s) - Math.exp(-2 * s);
}

/** Cov(r_s, u_s) for u_0 = 0: (1 − e^{−s})² (spec §3.2 check). */
export function displacementVelocityCovariance(s: number): number {
  return (1 - Math.exp(-s)) ** 2;
}

export interface TdmCoefficients {
  s: number;
  muU: number;
  sigmaU: number;
  kappa: number;
  sigmaR: number;
}

/** All kernel coefficients at network time t (s = 2t). */
export function tdmCoefficients(t: number): TdmCoefficients {
  const s = internalTime(t);
  return { s, muU: muU(s), sigmaU: sigmaU(s), kappa: kappa(s), sigmaR: sigmaR(s) };
}
