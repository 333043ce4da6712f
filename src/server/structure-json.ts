/** Plain JSON form of a Structure (typed arrays become arrays) and back, for the API and the page. */
import type { Matrix3, Structure } from '../crystal/types.js';
import type { PredictResult } from '../predict/types.js';

export interface StructureJson {
  lattice: number[];
  species: string[];
  frac: number[];
}

export function structureToJson(s: Structure): StructureJson {
  return { lattice: Array.from(s.lattice), species: [...s.species], frac: Array.from(s.frac) };
}

export function structureFromJson(j: StructureJson): Structure {
  return { lattice: [...j.lattice] as Matrix3, species: [...j.species], frac: Float64Array.from(j.frac) };
}

/** The result without trajectories (they are fetched per sample), as the job endpoint returns it. */
export function resultSummaryJson(result: PredictResult): Record<string, unknown> {
  return {
    formula: result.formula,
    model: result.model,
    sampler: result.sampler,
    steps: result.steps,
    seed: result.seed,
    warnings: result.warnings,
    samples: result.samples.map((s, index) => ({
      index,
      structure: structureToJson(s.structure),
      minDistance: s.minDistance,
      volume: s.volume,
      valid: s.valid,
      trajectoryFrames: s.trajectory?.length ?? 0,
    })),
  };
}

/** The full result including trajectories (download as JSON). */
export function resultFullJson(result: PredictResult): Record<string, unknown> {
  const summary = resultSummaryJson(result);
  (summary.samples as Record<string, unknown>[]).forEach((s, k) => {
    s.trajectory = result.samples[k]!.trajectory ?? [];
  });
  return summary;
}
