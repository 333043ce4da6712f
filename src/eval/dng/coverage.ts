/**
 * COV-R / COV-P of CDVAE/DiffCSP (`compute_cov`, spec §10.1). Euclidean distances between generated and
 * reference fingerprints, separately for the structural (CrystalNN ops mean) and the standardised
 * composition (magpie) fingerprints:
 *   COV-R = fraction of reference structures whose nearest generated structural distance ≤ c_s AND
 *           whose nearest generated composition distance ≤ c_c (two minima taken independently);
 *   COV-P = number of generated structures whose nearest reference structural distance ≤ c_s AND
 *           nearest reference composition distance ≤ c_c, divided by ALL generated structures
 *           (those without fingerprints count in the denominator only).
 * Also the mean nearest distances AMSD/AMCD (recall: over references; precision: over fingerprinted
 * generated structures).
 */
import { InputError } from '../../util/errors.js';

export interface Fingerprints {
  struct: Float64Array;
  comp: Float64Array;
}

export interface CoverageCutoffs {
  struct: number;
  comp: number;
}

export interface CoverageResult {
  covRecall: number;
  covPrecision: number;
  amsdRecall: number;
  amsdPrecision: number;
  amcdRecall: number;
  amcdPrecision: number;
  /** per generated structure (null = no fingerprint): nearest reference distances */
  generatedNearest: Array<{ struct: number; comp: number } | null>;
}

/** Rows packed into one contiguous matrix: the distance loop then streams through memory. */
function pack(rows: readonly Float64Array[]): { data: Float64Array; dim: number } {
  const dim = rows[0]!.length;
  const data = new Float64Array(rows.length * dim);
  rows.forEach((r, i) => {
    if (r.length !== dim) throw new InputError(`fingerprints of different lengths (${r.length} vs ${dim})`);
    data.set(r, i * dim);
  });
  return { data, dim };
}

function rowDistance(a: Float64Array, ai: number, b: Float64Array, bi: number, dim: number): number {
  let s = 0;
  for (let k = 0; k < dim; k++) {
    const d = a[ai + k]! - b[bi + k]!;
    s += d * d;
  }
  return Math.sqrt(s);
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

export function computeCoverage(generated: ReadonlyArray<Fingerprints | null>, reference: readonly Fingerprints[], cutoffs: CoverageCutoffs): CoverageResult {
  if (reference.length === 0) throw new InputError('coverage needs at least one reference structure');
  if (generated.length === 0) throw new InputError('coverage needs at least one generated structure');
  const gen = generated.map((g, i) => ({ g, i })).filter((x): x is { g: Fingerprints; i: number } => x.g !== null);
  const refStructMin = new Float64Array(reference.length).fill(Infinity);
  const refCompMin = new Float64Array(reference.length).fill(Infinity);
  const generatedNearest: CoverageResult['generatedNearest'] = generated.map(() => null);
  const refS = pack(reference.map((r) => r.struct));
  const refC = pack(reference.map((r) => r.comp));
  for (const { g, i } of gen) {
    if (g.struct.length !== refS.dim || g.comp.length !== refC.dim) throw new InputError('generated and reference fingerprints differ in length');
    let sMin = Infinity;
    let cMin = Infinity;
    for (let r = 0; r < reference.length; r++) {
      const ds = rowDistance(g.struct, 0, refS.data, r * refS.dim, refS.dim);
      const dc = rowDistance(g.comp, 0, refC.data, r * refC.dim, refC.dim);
      if (ds < sMin) sMin = ds;
      if (dc < cMin) cMin = dc;
      if (ds < refStructMin[r]!) refStructMin[r] = ds;
      if (dc < refCompMin[r]!) refCompMin[r] = dc;
    }
    generatedNearest[i] = { struct: sMin, comp: cMin };
  }
  let recalled = 0;
  for (let r = 0; r < reference.length; r++) if (refStructMin[r]! <= cutoffs.struct && refCompMin[r]! <= cutoffs.comp) recalled++;
  let precise = 0;
  for (const x of generatedNearest) if (x !== null && x.struct <= cutoffs.struct && x.comp <= cutoffs.comp) precise++;
  const near = generatedNearest.filter((x): x is { struct: number; comp: number } => x !== null);
  return {
    covRecall: gen.length === 0 ? 0 : recalled / reference.length,
    covPrecision: precise / generated.length,
    amsdRecall: gen.length === 0 ? NaN : mean([...refStructMin]),
    amsdPrecision: mean(near.map((x) => x.struct)),
    amcdRecall: gen.length === 0 ? NaN : mean([...refCompMin]),
    amcdPrecision: mean(near.map((x) => x.comp)),
    generatedNearest,
  };
}
