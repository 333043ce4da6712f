/**
 * Public matching API: pymatgen-2022 StructureMatcher semantics for the CSP
 * metric (spec §9): StructureMatcher(stol=0.5, angle_tol=10, ltol=0.3), other
 * settings default, metric call get_rms_dist(pred, gt).
 */
import type { Structure } from '../crystal/types.js';
import { getRmsDist, type MatchDiagnosis, type MatcherOptions, type NoMatchStage } from './matcher/structureMatcher.js';
import { readCifForMatching, sortSitesLikePymatgen } from './cifReader.js';

export type { MatcherOptions, NoMatchStage } from './matcher/structureMatcher.js';

export interface MatchResult {
  /** get_rms_dist returned a result */
  match: boolean;
  /** its first value (normalised rms displacement), null when no match */
  rms: number | null;
  /** its second value (normalised max displacement), null when no match */
  maxDist: number | null;
  /** why there was no match (the matcher step that ruled it out, see NoMatchStage); null when matched */
  failure: NoMatchStage | null;
}

export interface MatchOptions extends MatcherOptions {
  /**
   * Put the ground truth's sites in the order pymatgen's CIF reader gives them
   * (stable sort by electronegativity, then symbol) before matching. pymatgen's
   * answer depends on that order (its anchor site is the first ground-truth
   * site of the rarest species); default true, which is a no-op for structures
   * read with readCifForMatching.
   */
  pymatgenGroundTruthOrder?: boolean;
}

/** Matches a prediction against a ground truth (prediction first, as get_rms_dist(pred, gt)). */
export function matchStructures(pred: Structure, gt: Structure, opts: MatchOptions = {}): MatchResult {
  const truth = opts.pymatgenGroundTruthOrder === false ? gt : sortSitesLikePymatgen(gt);
  const diagnosis: MatchDiagnosis = { stage: null, latticeMappings: 0 };
  const r = getRmsDist(pred, truth, opts, diagnosis);
  return r === null ? { match: false, rms: null, maxDist: null, failure: diagnosis.stage ?? 'sites' } : { match: true, rms: r.rms, maxDist: r.maxDist, failure: null };
}

/**
 * Kept for API compatibility: CIF reading for matching is pure TypeScript now
 * (no WASM module to instantiate), so there is nothing to wait for.
 */
export async function initMatching(): Promise<void> {
  await Promise.resolve();
}

/** Matches two CIF texts. Throws InputError for a malformed CIF. */
export function matchCifs(predCif: string, gtCif: string, opts: MatchOptions = {}): MatchResult {
  const pred = readCifForMatching(predCif, 'prediction CIF');
  const gt = readCifForMatching(gtCif, 'ground-truth CIF');
  return matchStructures(pred, gt, opts);
}
