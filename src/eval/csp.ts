/**
 * CSP evaluation: match rate (MR) and RMSE @1 and @k (spec §9).
 *
 * - The denominator is every ground-truth material of the split; a missing,
 *   malformed or invalid prediction counts as unmatched.
 * - @1 uses sample 0 of each material. Every sample index s is also scored as an
 *   independent "run" (spec §9.4: @1 is reported as mean ± std over runs).
 * - @k (k = samples per material): a material is matched if any of its k samples
 *   matched; RMSE@k = mean over matched materials of the smallest rms (§9.5).
 * - Protocols (§9, §13.15): 'kldm' = structural validity of the prediction only
 *   (with the 40 Å cap); 'diffcsp' = SMACT + structural validity, and in
 *   single-sample mode (@1 and the per-run numbers) the ground truth must be
 *   valid too; its @k uses prediction validity only.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Structure } from '../crystal/types.js';
import { Progress } from '../util/progress.js';
import { InputError } from '../util/errors.js';
import { readCifForMatching } from './cifReader.js';
import { runCspJob, type CspJob, type CspJobResult, type SampleStatus } from './cspJob.js';
import { checkValidity, type ValidityProtocol } from './validity.js';
import type { MatcherOptions, NoMatchStage } from './match.js';

export interface CspGroundTruth {
  materialId: string;
  /** the dataset CIF as stored (read in pymatgen's site order), or a Structure */
  cif?: string;
  structure?: Structure;
}

export interface CspPredictionInput {
  materialId: string;
  sample: number;
  cif?: string;
  structure?: Structure;
  /** the prediction could not be read (bad JSON line, missing field): counted invalid */
  malformed?: string;
}

export interface EvaluateCspOptions {
  protocol?: ValidityProtocol;
  /** samples per material; default: 1 + the largest sample index seen */
  k?: number;
  /** worker threads (default: available cores, at most 2 here); 0 or 1 = run inline */
  workers?: number;
  /** print progress to stderr */
  progress?: boolean;
  matcher?: MatcherOptions;
}

export type SampleOutcome = SampleStatus | 'missing';

export interface MaterialCspResult {
  material_id: string;
  /** DiffCSP protocol only: SMACT + structural validity of the ground truth */
  gt_valid?: boolean;
  samples: Array<{ sample: number; status: SampleOutcome; rms: number | null; reason?: string; stage?: NoMatchStage }>;
  match_at_1: boolean;
  rms_at_1: number | null;
  match_at_k: boolean;
  rms_at_k: number | null;
  best_sample: number | null;
}

export interface CspRunMetrics {
  sample: number;
  match_rate: number;
  rmse: number | null;
  valid_rate: number;
}

export interface CspReport {
  protocol: ValidityProtocol;
  k: number;
  n_materials: number;
  mr_at_1: number;
  rmse_at_1: number | null;
  mr_at_k: number;
  rmse_at_k: number | null;
  /** each sample index scored as one run (§9.4) */
  runs: CspRunMetrics[];
  mr_at_1_mean: number;
  mr_at_1_std: number;
  rmse_at_1_mean: number | null;
  rmse_at_1_std: number | null;
  counts: {
    predictions: number;
    matched: number;
    unmatched: number;
    invalid: number;
    malformed: number;
    /** (material, sample) slots 0..k-1 with no prediction */
    missing: number;
    missing_at_1: number;
    unknown_material: number;
    duplicate: number;
    out_of_range_sample: number;
    gt_invalid: number;
  };
  /**
   * The same metrics per ground-truth atom count (key: atoms in the cell; materials whose ground
   * truth could not be read are left out). Shows where a model fails (MP-20: large cells).
   */
  by_atom_count: Record<string, AtomCountMetrics>;
  /** why sample 0 did not match, over all materials (one count per unmatched material) */
  unmatched_at_1: UnmatchedCauses;
  /** first problems found (malformed lines, unknown ids, ...), for the user */
  messages: string[];
  per_material: MaterialCspResult[];
  seconds: number;
}

export interface AtomCountMetrics {
  n_materials: number;
  mr_at_1: number;
  rmse_at_1: number | null;
  mr_at_k: number;
  rmse_at_k: number | null;
  /** why sample 0 of the other materials did not match */
  unmatched_at_1: UnmatchedCauses;
}

/**
 * Why sample 0 of a material did not match, one count per material: the matcher step that ruled
 * a valid prediction out (NoMatchStage: 'lattice' = wrong cell shape, 'sites' = right shape, wrong
 * atoms, 'site_count', 'composition'), or that there was nothing to match ('invalid', 'malformed',
 * 'missing'), or (DiffCSP protocol, single-sample mode) that the ground truth itself is invalid.
 */
export type UnmatchedCause = NoMatchStage | 'invalid' | 'malformed' | 'missing' | 'gt_invalid';
export type UnmatchedCauses = Record<UnmatchedCause, number>;

const UNMATCHED_CAUSES: readonly UnmatchedCause[] = ['lattice', 'sites', 'site_count', 'composition', 'invalid', 'malformed', 'missing', 'gt_invalid'];

function noCauses(): UnmatchedCauses {
  return Object.fromEntries(UNMATCHED_CAUSES.map((c) => [c, 0])) as UnmatchedCauses;
}

/** The cause of a material's sample-0 miss, null when it matched. */
function unmatchedCause(m: MaterialCspResult): UnmatchedCause | null {
  if (m.match_at_1) return null;
  if (m.gt_valid === false) return 'gt_invalid';
  const first = m.samples[0];
  if (first === undefined || first.status === 'missing') return 'missing';
  if (first.status === 'invalid' || first.status === 'malformed') return first.status;
  // matched sample 0 without match_at_1 only happens with an invalid ground truth (handled above)
  return first.stage ?? 'sites';
}

const MAX_MESSAGES = 50;

/** Metrics of the materials in `members` (indices into perMaterial), as in aggregateCsp. */
function subsetMetrics(perMaterial: readonly MaterialCspResult[], members: readonly number[]): AtomCountMetrics {
  const at1: number[] = [];
  const atK: number[] = [];
  const causes = noCauses();
  for (const i of members) {
    const m = perMaterial[i]!;
    if (m.match_at_1 && m.rms_at_1 !== null) at1.push(m.rms_at_1);
    if (m.match_at_k && m.rms_at_k !== null) atK.push(m.rms_at_k);
    const cause = unmatchedCause(m);
    if (cause !== null) causes[cause]++;
  }
  const n = members.length;
  return { n_materials: n, mr_at_1: n === 0 ? 0 : at1.length / n, rmse_at_1: mean(at1), mr_at_k: n === 0 ? 0 : atK.length / n, rmse_at_k: mean(atK), unmatched_at_1: causes };
}

/** Per-atom-count metrics: atomCounts[i] = atoms of ground truth i (null = unreadable, left out). */
export function metricsByAtomCount(perMaterial: readonly MaterialCspResult[], atomCounts: ReadonlyArray<number | null>): Record<string, AtomCountMetrics> {
  const groups = new Map<number, number[]>();
  atomCounts.forEach((n, i) => {
    if (n === null) return;
    if (!groups.has(n)) groups.set(n, []);
    groups.get(n)!.push(i);
  });
  const out: Record<string, AtomCountMetrics> = {};
  for (const n of [...groups.keys()].sort((a, b) => a - b)) out[String(n)] = subsetMetrics(perMaterial, groups.get(n)!);
  return out;
}

/**
 * Merges per-atom-count metrics into ranges for display ([lo, hi] inclusive): the ranges' metrics
 * are recomputed from the counts (weighted by materials), not averaged.
 */
export function groupAtomCounts(byN: Record<string, AtomCountMetrics>, edges: ReadonlyArray<readonly [number, number]>): Array<{ lo: number; hi: number } & AtomCountMetrics> {
  const out: Array<{ lo: number; hi: number } & AtomCountMetrics> = [];
  for (const [lo, hi] of edges) {
    let n = 0, m1 = 0, r1 = 0, mk = 0, rk = 0;
    const causes = noCauses();
    for (const [key, v] of Object.entries(byN)) {
      const atoms = Number(key);
      if (atoms < lo || atoms > hi) continue;
      n += v.n_materials;
      for (const c of UNMATCHED_CAUSES) causes[c] += v.unmatched_at_1[c];
      m1 += v.mr_at_1 * v.n_materials;
      mk += v.mr_at_k * v.n_materials;
      r1 += (v.rmse_at_1 ?? 0) * v.mr_at_1 * v.n_materials;
      rk += (v.rmse_at_k ?? 0) * v.mr_at_k * v.n_materials;
    }
    if (n === 0) continue;
    out.push({ lo, hi, n_materials: n, mr_at_1: m1 / n, rmse_at_1: m1 > 0 ? r1 / m1 : null, mr_at_k: mk / n, rmse_at_k: mk > 0 ? rk / mk : null, unmatched_at_1: causes });
  }
  return out;
}

function mean(xs: number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function std(xs: number[]): number | null {
  const m = mean(xs);
  if (m === null) return null;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
}

/**
 * Pure aggregation of per-sample outcomes into the §9 metrics.
 * outcomes[i][s] = outcome of sample s of material i (undefined = missing).
 */
export function aggregateCsp(
  materialIds: readonly string[],
  k: number,
  outcomes: ReadonlyArray<ReadonlyArray<{ status: SampleStatus; rms: number | null; reason?: string; stage?: NoMatchStage } | undefined>>,
  protocol: ValidityProtocol,
  gtValid: readonly boolean[] | null,
): Pick<CspReport, 'mr_at_1' | 'rmse_at_1' | 'mr_at_k' | 'rmse_at_k' | 'runs' | 'mr_at_1_mean' | 'mr_at_1_std' | 'rmse_at_1_mean' | 'rmse_at_1_std' | 'per_material'> {
  const n = materialIds.length;
  const perMaterial: MaterialCspResult[] = [];
  const runMatched: number[][] = Array.from({ length: k }, () => []); // rms of matched materials per run
  const runValid = new Array<number>(k).fill(0);
  const kRms: number[] = [];
  let matchedK = 0;
  for (let i = 0; i < n; i++) {
    // DiffCSP single-sample mode also requires a valid ground truth
    const singleOk = protocol === 'diffcsp' && gtValid ? gtValid[i]! : true;
    const samples: MaterialCspResult['samples'] = [];
    let best: number | null = null;
    let bestSample: number | null = null;
    for (let s = 0; s < k; s++) {
      const o = outcomes[i]?.[s];
      if (!o) {
        samples.push({ sample: s, status: 'missing', rms: null });
        continue;
      }
      samples.push({ sample: s, status: o.status, rms: o.rms, ...(o.reason !== undefined ? { reason: o.reason } : {}), ...(o.stage !== undefined ? { stage: o.stage } : {}) });
      if (o.status === 'matched' || o.status === 'unmatched') runValid[s]!++;
      if (o.status === 'matched' && o.rms !== null) {
        if (singleOk) runMatched[s]!.push(o.rms);
        if (best === null || o.rms < best) {
          best = o.rms;
          bestSample = s;
        }
      }
    }
    const first = samples[0];
    const m1 = singleOk && first !== undefined && first.status === 'matched';
    if (best !== null) {
      matchedK++;
      kRms.push(best);
    }
    perMaterial.push({
      material_id: materialIds[i]!,
      ...(protocol === 'diffcsp' && gtValid ? { gt_valid: gtValid[i]! } : {}),
      samples,
      match_at_1: m1,
      rms_at_1: m1 ? first!.rms : null,
      match_at_k: best !== null,
      rms_at_k: best,
      best_sample: bestSample,
    });
  }
  const runs: CspRunMetrics[] = runMatched.map((rms, s) => ({
    sample: s,
    match_rate: n === 0 ? 0 : rms.length / n,
    rmse: mean(rms),
    valid_rate: n === 0 ? 0 : runValid[s]! / n,
  }));
  const runRmse = runs.map((r) => r.rmse).filter((x): x is number => x !== null);
  return {
    mr_at_1: runs[0]?.match_rate ?? 0,
    rmse_at_1: runs[0]?.rmse ?? null,
    mr_at_k: n === 0 ? 0 : matchedK / n,
    rmse_at_k: mean(kRms),
    runs,
    mr_at_1_mean: mean(runs.map((r) => r.match_rate)) ?? 0,
    mr_at_1_std: std(runs.map((r) => r.match_rate)) ?? 0,
    rmse_at_1_mean: mean(runRmse),
    rmse_at_1_std: std(runRmse),
    per_material: perMaterial,
  };
}

/** Runs jobs inline or on worker threads, in any order; calls onResult for each. */
async function runJobs(
  jobs: CspJob[],
  gts: Array<Structure | null>,
  protocol: ValidityProtocol,
  matcher: MatcherOptions,
  workers: number,
  onResult: (r: CspJobResult) => void,
): Promise<void> {
  if (workers <= 1 || jobs.length < 64) {
    for (let i = 0; i < jobs.length; i++) onResult(runCspJob(jobs[i]!, gts, protocol, matcher));
    return;
  }
  const isTs = import.meta.url.endsWith('.ts');
  const url = new URL(isTs ? './cspWorker.ts' : './cspWorker.js', import.meta.url);
  const batchSize = 32;
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    let active = 0;
    let failed = false;
    const pool: Worker[] = [];
    const feed = (w: Worker): void => {
      if (next >= jobs.length) {
        void w.terminate();
        active--;
        if (active === 0) resolve();
        return;
      }
      const batch = jobs.slice(next, next + batchSize);
      next += batchSize;
      w.postMessage(batch);
    };
    for (let i = 0; i < workers; i++) {
      // under tsx (tests, development) the worker registers tsx's loader itself:
      // Node 20 workers ignore `--import` in execArgv
      const w = isTs
        ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, workerData: { gts, protocol, matcher } })
        : new Worker(url, { workerData: { gts, protocol, matcher } });
      pool.push(w);
      active++;
      w.on('message', (msg: 'ready' | CspJobResult[]) => {
        if (msg !== 'ready') for (const r of msg) onResult(r);
        feed(w);
      });
      w.on('error', (err) => {
        if (failed) return;
        failed = true;
        for (const x of pool) void x.terminate();
        reject(err);
      });
    }
  });
}

/**
 * Evaluates CSP predictions against ground truths (spec §9). Predictions for
 * unknown materials, duplicates (same material and sample) and negative or
 * ≥ k sample indices are reported in `counts` and ignored.
 */
export async function evaluateCsp(groundTruths: readonly CspGroundTruth[], predictions: readonly CspPredictionInput[], opts: EvaluateCspOptions = {}): Promise<CspReport> {
  const t0 = performance.now();
  const protocol = opts.protocol ?? 'kldm';
  if (protocol !== 'kldm' && protocol !== 'diffcsp') throw new InputError(`unknown protocol "${String(protocol)}" (kldm or diffcsp)`);
  const matcher = opts.matcher ?? {};
  const messages: string[] = [];
  const note = (m: string): void => {
    if (messages.length < MAX_MESSAGES) messages.push(m);
  };

  const index = new Map<string, number>();
  const gts: Array<Structure | null> = [];
  const gtValid: boolean[] = [];
  let gtInvalid = 0;
  for (let i = 0; i < groundTruths.length; i++) {
    const g = groundTruths[i]!;
    if (index.has(g.materialId)) throw new InputError(`ground truth: duplicate material_id "${g.materialId}"`);
    index.set(g.materialId, i);
    let s: Structure | null = null;
    try {
      s = g.structure ?? readCifForMatching(g.cif ?? '', `ground truth ${g.materialId}`);
    } catch (err) {
      note(`ground truth ${g.materialId} unreadable: ${err instanceof Error ? err.message : String(err)}`);
    }
    gts.push(s);
    const ok = s !== null && (protocol === 'kldm' || checkValidity(s, 'diffcsp').valid);
    gtValid.push(ok);
    if (!ok) gtInvalid++;
  }

  let maxSample = -1;
  for (const p of predictions) if (Number.isInteger(p.sample) && p.sample > maxSample && index.has(p.materialId)) maxSample = p.sample;
  const k = opts.k ?? Math.max(1, maxSample + 1);
  if (!Number.isInteger(k) || k < 1) throw new InputError(`k must be a positive integer (got ${k})`);

  const counts: CspReport['counts'] = {
    predictions: predictions.length,
    matched: 0,
    unmatched: 0,
    invalid: 0,
    malformed: 0,
    missing: 0,
    missing_at_1: 0,
    unknown_material: 0,
    duplicate: 0,
    out_of_range_sample: 0,
    gt_invalid: gtInvalid,
  };
  const slots = new Map<number, { material: number; sample: number }>();
  const seen = new Set<string>();
  const jobs: CspJob[] = [];
  for (const p of predictions) {
    const mi = index.get(p.materialId);
    if (mi === undefined) {
      counts.unknown_material++;
      note(`prediction for unknown material_id "${p.materialId}" ignored`);
      continue;
    }
    if (!Number.isInteger(p.sample) || p.sample < 0 || p.sample >= k) {
      counts.out_of_range_sample++;
      note(`prediction ${p.materialId} sample ${p.sample} outside 0..${k - 1} ignored`);
      continue;
    }
    const key = `${mi}\u0000${p.sample}`;
    if (seen.has(key)) {
      counts.duplicate++;
      note(`duplicate prediction ${p.materialId} sample ${p.sample}: first one kept`);
      continue;
    }
    seen.add(key);
    const id = jobs.length;
    slots.set(id, { material: mi, sample: p.sample });
    const job: CspJob = { id, gtIndex: mi };
    if (p.malformed !== undefined) job.malformed = p.malformed;
    else if (p.structure) job.structure = p.structure;
    else if (p.cif !== undefined) job.cif = p.cif;
    else job.malformed = 'prediction has neither cif nor structure';
    jobs.push(job);
  }

  const outcomes: Array<Array<{ status: SampleStatus; rms: number | null; reason?: string; stage?: NoMatchStage } | undefined>> = groundTruths.map(() => new Array(k));
  const workers = opts.workers ?? Math.min(2, availableParallelism());
  const progress = new Progress({ label: 'evaluate csp', total: jobs.length, unit: 'predictions', quiet: !opts.progress });
  let done = 0;
  await runJobs(jobs, gts, protocol, matcher, workers, (r) => {
    const slot = slots.get(r.id)!;
    outcomes[slot.material]![slot.sample] = { status: r.status, rms: r.rms, ...(r.reason !== undefined ? { reason: r.reason } : {}), ...(r.stage !== undefined ? { stage: r.stage } : {}) };
    if (r.status === 'malformed') note(`${groundTruths[slot.material]!.materialId} sample ${slot.sample}: malformed (${r.reason ?? ''})`);
    counts[r.status]++;
    progress.update(++done);
  });
  progress.finish();

  for (let i = 0; i < outcomes.length; i++) {
    for (let s = 0; s < k; s++) {
      if (outcomes[i]![s] === undefined) {
        counts.missing++;
        if (s === 0) counts.missing_at_1++;
      }
    }
  }
  const agg = aggregateCsp(
    groundTruths.map((g) => g.materialId),
    k,
    outcomes,
    protocol,
    gtValid,
  );
  const byAtomCount = metricsByAtomCount(agg.per_material, gts.map((g) => (g === null ? null : g.species.length)));
  const unmatchedAt1 = subsetMetrics(agg.per_material, agg.per_material.map((_, i) => i)).unmatched_at_1;
  return { protocol, k, n_materials: groundTruths.length, ...agg, by_atom_count: byAtomCount, unmatched_at_1: unmatchedAt1, counts, messages, seconds: (performance.now() - t0) / 1000 };
}
