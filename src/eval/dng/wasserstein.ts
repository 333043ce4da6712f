/**
 * One-dimensional Wasserstein-1 distance between two empirical distributions with equal weights per
 * sample, as scipy.stats.wasserstein_distance(u, v): ∫ |F_u(x) − F_v(x)| dx, evaluated exactly on the
 * merged sorted sample values (spec §10.1, density and number-of-elements distances).
 */
import { InputError } from '../../util/errors.js';

function upperBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function wasserstein1(u: readonly number[], v: readonly number[]): number {
  if (u.length === 0 || v.length === 0) throw new InputError('Wasserstein distance of an empty sample');
  if (u.some((x) => !Number.isFinite(x)) || v.some((x) => !Number.isFinite(x))) throw new InputError('Wasserstein distance: non-finite sample value');
  const us = Float64Array.from(u).sort();
  const vs = Float64Array.from(v).sort();
  const all = Float64Array.from([...u, ...v]).sort();
  let total = 0;
  for (let i = 0; i + 1 < all.length; i++) {
    const delta = all[i + 1]! - all[i]!;
    if (delta === 0) continue;
    const fu = upperBound(us, all[i]!) / us.length;
    const fv = upperBound(vs, all[i]!) / vs.length;
    total += Math.abs(fu - fv) * delta;
  }
  return total;
}
