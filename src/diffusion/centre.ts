/**
 * Per-crystal mean removal ("centre(·)" in the spec conventions): for an N×d
 * row-major array, subtract from every atom the mean over the atoms of its
 * crystal, per component. Used for the mean-free (zero centre-of-gravity)
 * velocity noise and velocity field of the TDM (spec §3.1, §3.4 step 2/3/5,
 * §3.6, §7 "Noise ξ ... per-crystal centred").
 *
 * Means are accumulated in float64 whatever the storage type.
 */
import type { BatchLayout } from '../network/types.js';

/** Centre `a` (layout.numAtoms × dim, row-major) per crystal, in place; returns `a`. */
export function centreInPlace<T extends Float32Array | Float64Array>(a: T, layout: BatchLayout, dim = 3): T {
  if (a.length !== layout.numAtoms * dim) {
    throw new Error(`centreInPlace: array length ${a.length} != numAtoms ${layout.numAtoms} × ${dim}`);
  }
  const mean = new Float64Array(dim);
  for (let g = 0; g < layout.numCrystals; g++) {
    const start = layout.atomOffsets[g]!;
    const end = layout.atomOffsets[g + 1]!;
    const n = end - start;
    if (n === 0) continue;
    mean.fill(0);
    for (let i = start; i < end; i++) for (let d = 0; d < dim; d++) mean[d]! += a[i * dim + d]!;
    for (let d = 0; d < dim; d++) mean[d]! /= n;
    for (let i = start; i < end; i++) for (let d = 0; d < dim; d++) a[i * dim + d]! -= mean[d]!;
  }
  return a;
}

/** A centred copy of `a` (see centreInPlace). */
export function centred(a: Float32Array | Float64Array, layout: BatchLayout, dim = 3): Float64Array {
  return centreInPlace(Float64Array.from(a), layout, dim);
}

/** Fill `out` with per-crystal centred standard normals (spec §3.4 steps 2-3, §7 ξ). */
export function centredNormal<T extends Float32Array | Float64Array>(
  out: T,
  layout: BatchLayout,
  rng: { normal(): number },
  dim = 3,
): T {
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return centreInPlace(out, layout, dim);
}
