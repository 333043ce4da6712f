/**
 * One CSP evaluation job: read a predicted structure (CIF text or Structure),
 * check its validity under the protocol (spec §9 step 1) and, if valid, match
 * it against the ground truth (step 2). Shared by the inline path and the
 * worker threads of evaluateCsp.
 */
import type { Structure } from '../crystal/types.js';
import { readCifForMatching } from './cifReader.js';
import { checkValidity, type ValidityProtocol } from './validity.js';
import { matchStructures, type MatcherOptions, type NoMatchStage } from './match.js';

export interface CspJob {
  /** index of the job in the caller's list */
  id: number;
  gtIndex: number;
  cif?: string;
  structure?: Structure;
  /** set when the prediction line itself was malformed: the job is reported invalid without parsing */
  malformed?: string;
}

export type SampleStatus = 'matched' | 'unmatched' | 'invalid' | 'malformed';

export interface CspJobResult {
  id: number;
  status: SampleStatus;
  reason?: string;
  /** unmatched valid predictions: the matcher step that ruled the pair out */
  stage?: NoMatchStage;
  rms: number | null;
}

export function runCspJob(job: CspJob, gts: ReadonlyArray<Structure | null>, protocol: ValidityProtocol, matcher: MatcherOptions): CspJobResult {
  if (job.malformed !== undefined) return { id: job.id, status: 'malformed', reason: job.malformed, rms: null };
  let pred: Structure;
  try {
    if (job.structure) pred = job.structure;
    else if (typeof job.cif === 'string') pred = readCifForMatching(job.cif, 'prediction');
    else return { id: job.id, status: 'malformed', reason: 'no cif or structure', rms: null };
  } catch (err) {
    return { id: job.id, status: 'malformed', reason: err instanceof Error ? err.message : String(err), rms: null };
  }
  const v = checkValidity(pred, protocol);
  if (!v.valid) return { id: job.id, status: 'invalid', ...(v.reason !== undefined ? { reason: v.reason } : {}), rms: null };
  const gt = gts[job.gtIndex];
  if (!gt) return { id: job.id, status: 'unmatched', reason: 'ground truth unreadable', rms: null };
  try {
    const m = matchStructures(pred, gt, matcher);
    return m.match ? { id: job.id, status: 'matched', rms: m.rms } : { id: job.id, status: 'unmatched', stage: m.failure ?? 'sites', rms: null };
  } catch (err) {
    // pymatgen-based evaluations count a matcher exception as no match
    return { id: job.id, status: 'unmatched', reason: `matcher error: ${err instanceof Error ? err.message : String(err)}`, rms: null };
  }
}
