/**
 * Parameter-free time features of spec §2.1 item 1:
 * τ(t) = [cos(2π·W_t·t), sin(2π·W_t·t)] ∈ R^{D_t}, cosines first, W_t (D_t/2 × 1) a frozen buffer.
 */
import type { FloatArray } from '../engine/kernels.js';

const TWO_PI = 2 * Math.PI;

/** out (G×D_t) = τ(t_g) for every crystal g, with D_t = 2·wt.length. */
export function timeFeatures(t: FloatArray, numCrystals: number, wt: FloatArray, out: FloatArray): void {
  const half = wt.length;
  const Dt = 2 * half;
  for (let g = 0; g < numCrystals; g++) {
    for (let q = 0; q < half; q++) {
      const a = TWO_PI * wt[q]! * t[g]!;
      out[g * Dt + q] = Math.cos(a);
      out[g * Dt + half + q] = Math.sin(a);
    }
  }
}

/** dt[g] = Σ_q ∂τ/∂t · dtau (overwrites dt). */
export function timeFeaturesBackward(t: FloatArray, numCrystals: number, wt: FloatArray, dtau: FloatArray, dt: FloatArray): void {
  const half = wt.length;
  const Dt = 2 * half;
  for (let g = 0; g < numCrystals; g++) {
    let s = 0;
    for (let q = 0; q < half; q++) {
      const w = TWO_PI * wt[q]!;
      const a = w * t[g]!;
      s += w * (-Math.sin(a) * dtau[g * Dt + q]! + Math.cos(a) * dtau[g * Dt + half + q]!);
    }
    dt[g] = s;
  }
}
