/**
 * Lattice feature vector l ∈ R^6 and its inverse (spec §1.4), order a,b,c,α,β,γ.
 *
 * Lengths (`ContinuousIntervalLengths`): l = (log L − loc_N)/scale_N with the
 * per-atom-count statistics of §1.3; inverse L = exp(l·scale_N + loc_N).
 * Angles (`ContinuousIntervalAngles`, loc 0, scale 0.35): l = tan(φ − π/2)/0.35
 * (= −cot φ / 0.35, 90° ↦ 0, a bijection (0°, 180°) → R); inverse
 * φ = arctan(0.35·y) + π/2.
 */
import type { LatticeStats } from '../data/types.js';
import type { LatticeParams } from '../crystal/types.js';
import { InputError } from '../util/errors.js';

export const ANGLE_FEATURE_SCALE = 0.35;

const DEG = Math.PI / 180;

/** Angle (degrees) → feature (spec §1.4). */
export function angleToFeature(degrees: number): number {
  return Math.tan(degrees * DEG - Math.PI / 2) / ANGLE_FEATURE_SCALE;
}

/** Feature → angle in degrees, in (0°, 180°) (spec §1.4, §7.3). */
export function featureToAngle(y: number): number {
  return (Math.atan(ANGLE_FEATURE_SCALE * y) + Math.PI / 2) / DEG;
}

/** Statistics for cells of `atomCount` atoms, or an InputError naming the count (spec §13.13). */
export function statsForAtomCount(stats: LatticeStats, atomCount: number): { loc: [number, number, number]; scale: [number, number, number] } {
  const s = stats.byAtomCount[atomCount];
  if (!s) {
    const known = Object.keys(stats.byAtomCount).join(', ');
    throw new InputError(`no lattice statistics for cells of ${atomCount} atoms (the model knows N = ${known}; spec §13.13)`);
  }
  return s;
}

/** (a,b,c,α,β,γ) → l ∈ R^6 for a cell of `atomCount` atoms (spec §1.4). */
export function latticeToFeatures(p: LatticeParams, atomCount: number, stats: LatticeStats): [number, number, number, number, number, number] {
  const s = statsForAtomCount(stats, atomCount);
  return [
    (Math.log(p.a) - s.loc[0]) / s.scale[0],
    (Math.log(p.b) - s.loc[1]) / s.scale[1],
    (Math.log(p.c) - s.loc[2]) / s.scale[2],
    angleToFeature(p.alpha),
    angleToFeature(p.beta),
    angleToFeature(p.gamma),
  ];
}

/** l ∈ R^6 → (a,b,c,α,β,γ) for a cell of `atomCount` atoms (inverse transforms of §1.4, used in §7.3). */
export function featuresToLattice(l: ArrayLike<number>, atomCount: number, stats: LatticeStats): LatticeParams {
  const s = statsForAtomCount(stats, atomCount);
  return {
    a: Math.exp(l[0]! * s.scale[0] + s.loc[0]),
    b: Math.exp(l[1]! * s.scale[1] + s.loc[1]),
    c: Math.exp(l[2]! * s.scale[2] + s.loc[2]),
    alpha: featureToAngle(l[3]!),
    beta: featureToAngle(l[4]!),
    gamma: featureToAngle(l[5]!),
  };
}
