/** Plain JSON form of a Structure (typed arrays become arrays) and back, for the API and the page. */
import type { Matrix3, Structure } from '../crystal/types.js';
import { isGenerateResult, type JobResult } from './services.js';

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

/**
 * The result without trajectories (they are fetched per sample), as the job endpoint returns it. A generation
 * result says `kind: "generate"`, how atom counts were chosen and the element restriction, and each sample adds
 * what generateStructures reports: id, composition, numAtoms, structValid (= valid), compValid (SMACT).
 */
export function resultSummaryJson(result: JobResult): Record<string, unknown> {
  const common = {
    model: result.model,
    sampler: result.sampler,
    steps: result.steps,
    seed: result.seed,
    warnings: result.warnings,
  };
  const sampleJson = (s: JobResult['samples'][number], index: number): Record<string, unknown> => ({
    index,
    structure: structureToJson(s.structure),
    minDistance: s.minDistance,
    volume: s.volume,
    valid: s.valid,
    trajectoryFrames: s.trajectory?.length ?? 0,
  });
  if (!isGenerateResult(result)) return { formula: result.formula, ...common, samples: result.samples.map(sampleJson) };
  return {
    kind: 'generate',
    ...common,
    atoms: result.atoms,
    elements: result.elements,
    samples: result.samples.map((s, index) => ({
      ...sampleJson(s, index),
      id: s.id,
      composition: s.composition,
      numAtoms: s.numAtoms,
      structValid: s.structValid,
      compValid: s.compValid,
    })),
  };
}

/** File name stem of a job's downloads: "<formula>-<job>" for predictions, "<model>-s<seed>-<job>" for generations. */
export function resultFileBase(result: JobResult, jobId: string): string {
  const head = isGenerateResult(result) ? `${result.model}-s${result.seed}` : result.formula;
  return `${head}-${jobId.slice(0, 8)}`;
}

/** Title of sample k inside a file (CIF data block, POSCAR comment, extXYZ comment). */
export function sampleTitle(result: JobResult, k: number): string {
  if (!isGenerateResult(result)) return `${result.formula} sample ${k}`;
  const s = result.samples[k]!;
  return `${s.composition} ${s.id}`;
}

/** The full result including trajectories (download as JSON). */
export function resultFullJson(result: JobResult): Record<string, unknown> {
  const summary = resultSummaryJson(result);
  (summary.samples as Record<string, unknown>[]).forEach((s, k) => {
    s.trajectory = result.samples[k]!.trajectory ?? [];
  });
  return summary;
}
