/**
 * Periodic wrapping (spec "Conventions" and §13.19).
 *
 * wrap_P(y) maps y onto the interval of length P centred on 0, computed the way
 * the reference does it, through atan2(sin, cos): values land in (−P/2, P/2].
 * Using atan2 (rather than a floor-based modulo) keeps the endpoint convention of
 * the reference (0.5 ↦ 0.5, −0.5 ↦ 0.5 up to rounding) and is exact for the
 * identity part of the range up to one rounding.
 */

const TWO_PI = 2 * Math.PI;

/** wrap_P(y) ∈ (−P/2, P/2] (spec "Conventions"). */
export function wrapPeriod(y: number, period: number): number {
  const angle = (TWO_PI * y) / period;
  return (Math.atan2(Math.sin(angle), Math.cos(angle)) * period) / TWO_PI;
}

/** wrap1 = wrap_1: fractional units, result in (−½, ½]. */
export function wrap1(y: number): number {
  return Math.atan2(Math.sin(TWO_PI * y), Math.cos(TWO_PI * y)) / TWO_PI;
}

/** wrap2π = wrap_{2π}: internal TDM units (radians), result in (−π, π]. */
export function wrap2pi(y: number): number {
  return Math.atan2(Math.sin(y), Math.cos(y));
}

/** Element-wise wrap1 of an array, in place; returns the array. */
export function wrap1InPlace<T extends Float32Array | Float64Array>(a: T): T {
  for (let i = 0; i < a.length; i++) a[i] = wrap1(a[i]!);
  return a;
}

/** Element-wise wrap2π of an array, in place; returns the array. */
export function wrap2piInPlace<T extends Float32Array | Float64Array>(a: T): T {
  for (let i = 0; i < a.length; i++) a[i] = wrap2pi(a[i]!);
  return a;
}

/** Fractional coordinate in [0, 1): `p mod 1` used by the final projection (spec §7.3). */
export function mod1(p: number): number {
  const f = p - Math.floor(p);
  // p slightly below an integer can round to exactly 1 in float arithmetic.
  return f >= 1 ? 0 : f;
}
