/**
 * Batched CSP sampling over a whole list of compositions (a benchmark split or any CSV with
 * material_id and cif columns), writing the evaluator's JSON Lines format
 * `{"material_id", "sample", "cif"}` (scored by `kldm evaluate csp`).
 *
 * Resumable: pairs (material_id, sample) already in the output file are skipped, and new lines are
 * appended after each batch; a torn last line (kill during a write) is cut off on restart. Work is
 * ordered sample-major (every material's sample 0 first), so @1 results are complete first.
 * The batches are planned over the whole run (planSampleBatches) and each batch's randomness comes
 * from (seed, index of its first pair), so a resumed run writes the same lines as an uninterrupted
 * one, and so does a run sharded over a job queue (src/queue/), and a run limited to the first n
 * materials writes the whole run's lines for them.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { readResumableJsonl } from '../util/resumableJsonl.js';
import { dirname } from 'node:path';
import type { LatticeStats } from '../data/types.js';
import { writeCif } from '../crystal/io/cif.js';
import { makeLayout, type ScoreNetwork } from '../network/types.js';
import { sampleCsp, type SamplerMethod } from '../sampling/sampler.js';
import { decodeSamplerResult } from '../sampling/decode.js';
import { statsForAtomCount } from '../diffusion/latticeFeatures.js';
import { InputError } from '../util/errors.js';
import { Progress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { edgeBudgetBatchSize } from '../training/batches.js';
import type { TypeDiffusionSpec } from '../diffusion/typeDiffusion.js';
import type { VpParameterisation } from '../diffusion/latticeVp.js';

export interface SampleTarget {
  materialId: string;
  /** atomic numbers in the order of the ground truth's sites */
  atomicNumbers: number[];
  /** diagnostic only: the true cell's lattice features (§1.4, the model's statistics); the sampler then follows its forward path instead of sampling a lattice (CspSamplingBatch.oracleLattice) */
  oracleLattice?: number[];
}

export interface SampleSplitOptions {
  net: ScoreNetwork;
  stats: LatticeStats;
  targets: SampleTarget[];
  outPath: string;
  samplesPerMaterial?: number;
  sampler?: SamplerMethod;
  steps?: number;
  /** sampler final time t_f (spec §7.4: 0 in the reference's test command; default 1e-3) */
  tFinal?: number;
  /** PC corrector step-size factor τ (spec §7.2; default 0.25); ignored by EM */
  tau?: number | undefined;
  seed?: number;
  /** crystals per sampler batch (default: defaultSamplingBatchSize of the targets) */
  batchSize?: number;
  /** only the first `limit` materials (`kldm sample --limit`), sampled as the whole run samples them (planSampleBatches) */
  limit?: number;
  /** `kldm sample --part k/n`: only every n-th batch of the run's plan, from the k-th (1-based; planPartBatches) */
  part?: RunPart;
  signal?: AbortSignal;
  quiet?: boolean;
  /** the network is a DNG model: the compositions' types are held fixed, CSP-style (typeSampler.ts) */
  typeDiffusion?: TypeDiffusionSpec;
  /** the network's lattice parameterisation (spec §4; default x0) */
  latticeParameterisation?: VpParameterisation;
}

export interface SampleSplitSummary {
  total: number;
  alreadyDone: number;
  written: number;
  nonFinite: number;
  seconds: number;
  aborted: boolean;
}

/** Pairs ("material_id\u0000sample") already in the output (and a clean end of file: a torn last line is cut), for resuming. */
export function existingPairs(path: string): Set<string> {
  const done = new Set<string>();
  for (const { value: v } of readResumableJsonl(path, 'kldm sample')) {
    if (typeof v['material_id'] === 'string' && Number.isInteger(v['sample'])) done.add(`${v['material_id']}\u0000${v['sample'] as number}`);
  }
  return done;
}

/** Default crystals per sampler batch for these targets (about 20,480 edges at H = 128; see edgeBudgetBatchSize). */
export function defaultSamplingBatchSize(targets: readonly SampleTarget[], hidden = 128): number {
  return edgeBudgetBatchSize(targets.map((t) => t.atomicNumbers.length), hidden);
}


/** One (material, sample) pair of a run, at its place in the run's sample-major order. */
export interface SamplePair {
  target: SampleTarget;
  sample: number;
  /** position in the run's full sample-major pair list; a batch's noise comes from (seed, its first pair's index) */
  index: number;
  /** a material past the run's limit: sampled with its batch (so the batch's noise is the whole run's) but not written */
  padding?: true;
}

/**
 * The batches of a run: the full sample-major pair list (every material's sample 0 first) cut into
 * consecutive batches of `batchSize`. The plan depends only on (targets, k, batchSize), never on what
 * is already written, so an interrupted and resumed run, a shard of a queued run (src/queue/) and an
 * uninterrupted run all sample exactly the same batches with the same noise.
 *
 * With a `limit` (the first n materials only) the plan keeps the whole run's batches that hold a pair
 * of those materials; their other pairs are marked `padding`: sampled, because a batch's noise is drawn
 * for the whole batch, but not written. So a limited run writes exactly the whole run's lines of its
 * materials (at the cost of up to batchSize - 1 extra crystals per sample index).
 */
export function planSampleBatches(targets: readonly SampleTarget[], k: number, batchSize: number, limit = targets.length): SamplePair[][] {
  const pairs: SamplePair[] = [];
  let index = 0;
  for (let s = 0; s < k; s++) {
    targets.forEach((target, i) => pairs.push(i < limit ? { target, sample: s, index: index + i } : { target, sample: s, index: index + i, padding: true }));
    index += targets.length;
  }
  const batches: SamplePair[][] = [];
  for (let start = 0; start < pairs.length; start += batchSize) {
    const batch = pairs.slice(start, start + batchSize);
    if (batch.some((w) => !w.padding)) batches.push(batch);
  }
  return batches;
}

/** One of `count` disjoint parts of a run (`kldm sample --part index/count`, index 1-based). */
export interface RunPart {
  index: number;
  count: number;
}

/** Parses `k/n` (1 <= k <= n) as a run part. */
export function parseRunPart(raw: string): RunPart {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(raw);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(count) && index >= 1 && index <= count)) {
    throw new InputError(`--part must be k/n with 1 <= k <= n (e.g. 1/2 and 2/2 for two processes), got "${raw}"`);
  }
  return { index, count };
}

/**
 * The batches of one part of a run: every `count`-th batch of the plan, from batch `index - 1`. The parts
 * are disjoint and together the whole plan, and each batch keeps its place in the plan (so its noise), so
 * the lines of all parts are the lines of the whole run, in another order. Interleaved rather than
 * contiguous: parts running side by side cover a growing prefix of the split, which `kldm evaluate csp
 * --limit` can score before they finish.
 */
export function planPartBatches(batches: SamplePair[][], part: RunPart | undefined): SamplePair[][] {
  if (!part) return batches;
  return batches.filter((_, b) => b % part.count === part.index - 1);
}

export interface SampleBatchOptions {
  seed: number;
  /** a DNG model sampled CSP-style: its type process with the types held fixed (spec §5, docs/dng.md) */
  typeDiffusion?: TypeDiffusionSpec | undefined;
  /** the network's lattice parameterisation (spec §4; default x0) */
  latticeParameterisation?: VpParameterisation | undefined;
  sampler: SamplerMethod;
  steps: number;
  tFinal: number;
  /** PC corrector step-size factor τ (spec §7.2; default 0.25) */
  tau?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((step: number, nSteps: number) => void) | undefined;
}

/**
 * Samples one planned batch and returns its output lines `{"material_id","sample","cif"}` (in the
 * batch's pair order). A non-finite sample is still written (as an empty CIF) so that it counts as
 * invalid, not missing.
 */
export async function sampleBatchLines(
  net: ScoreNetwork,
  stats: LatticeStats,
  batch: readonly SamplePair[],
  o: SampleBatchOptions,
): Promise<{ lines: string[]; nonFinite: number; finite: boolean[] }> {
  const layout = makeLayout(batch.map((w) => w.target.atomicNumbers.length));
  const types = new Int32Array(layout.numAtoms);
  for (let g = 0; g < batch.length; g++) types.set(batch[g]!.target.atomicNumbers, layout.atomOffsets[g]!);
  const rng = new Rng((o.seed * 1_000_003 + batch[0]!.index) >>> 0);
  const td = o.typeDiffusion;
  const fixedTypes = td ? { typeDiffusion: { kind: td.kind, maskSchedule: td.maskSchedule, fixed: types } } : {};
  const withOracle = batch.filter((w) => w.target.oracleLattice !== undefined).length;
  if (withOracle !== 0 && withOracle !== batch.length) throw new InputError('oracle lattices must be given for every target or none');
  const oracle = withOracle > 0 ? { oracleLattice: Float64Array.from(batch.flatMap((w) => w.target.oracleLattice!)) } : {};
  const result = await sampleCsp(net, { layout, types, ...fixedTypes, ...oracle }, rng, {
    method: o.sampler,
    nSteps: o.steps,
    tFinal: o.tFinal,
    ...(o.tau !== undefined ? { tau: o.tau } : {}),
    latticeParameterisation: o.latticeParameterisation ?? 'x0',
    signal: o.signal,
    onProgress: o.onProgress,
  });
  const decoded = decodeSamplerResult(result, stats);
  const lines: string[] = [];
  let nonFinite = 0;
  const finite: boolean[] = [];
  for (let g = 0; g < batch.length; g++) {
    const d = decoded[g]!;
    let cif = '';
    if (d.finite) cif = writeCif(d.structure, batch[g]!.target.materialId);
    else nonFinite++;
    finite.push(d.finite);
    lines.push(JSON.stringify({ material_id: batch[g]!.target.materialId, sample: batch[g]!.sample, cif }));
  }
  return { lines, nonFinite, finite };
}

/** Checks a run's targets before any sampling: unique ids, atoms present, a lattice prior for every size. */
export function checkSampleTargets(targets: readonly SampleTarget[], stats: LatticeStats): void {
  const ids = new Set<string>();
  for (const t of targets) {
    if (ids.has(t.materialId)) throw new InputError(`material_id ${t.materialId} appears twice in the input`);
    ids.add(t.materialId);
    if (t.atomicNumbers.length === 0) throw new InputError(`material ${t.materialId} has no atoms`);
    try {
      statsForAtomCount(stats, t.atomicNumbers.length);
    } catch (err) {
      throw new InputError(`material ${t.materialId}: ${(err as Error).message}`);
    }
  }
}

export async function sampleSplit(opts: SampleSplitOptions): Promise<SampleSplitSummary> {
  const k = opts.samplesPerMaterial ?? 1;
  const batchSize = opts.batchSize ?? defaultSamplingBatchSize(opts.targets, opts.net.config?.hidden);
  const seed = opts.seed ?? 42;
  if (!Number.isInteger(k) || k < 1) throw new InputError(`--samples-per-material must be a positive integer (got ${k})`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`--batch-size must be a positive integer (got ${batchSize})`);
  checkSampleTargets(opts.targets, opts.stats);
  mkdirSync(dirname(opts.outPath), { recursive: true });
  const done = existingPairs(opts.outPath);
  const key = (w: SamplePair): string => `${w.target.materialId}\u0000${w.sample}`;
  const limit = opts.limit ?? opts.targets.length;
  if (!Number.isInteger(limit) || limit < 1) throw new InputError(`--limit must be a positive integer (got ${limit})`);
  const batches = planPartBatches(planSampleBatches(opts.targets, k, batchSize, limit), opts.part);
  let total = 0;
  for (const b of batches) for (const w of b) if (!w.padding) total++;
  let alreadyDone = 0;
  for (const b of batches) for (const w of b) if (!w.padding && done.has(key(w))) alreadyDone++;
  const progress = new Progress({ label: 'sampling', total, unit: 'crystals', quiet: opts.quiet, initial: alreadyDone });
  progress.update(alreadyDone);
  const t0 = Date.now();
  let written = 0;
  let nonFinite = 0;
  let aborted = false;
  for (const batch of batches) {
    // a batch cut short by a kill is sampled again whole (same noise, so the same lines) and only its missing lines are appended
    const missing = batch.filter((w) => !w.padding && !done.has(key(w)));
    if (missing.length === 0) continue;
    if (opts.signal?.aborted) {
      aborted = true;
      break;
    }
    const batchStart = alreadyDone + written;
    let out;
    try {
      out = await sampleBatchLines(opts.net, opts.stats, batch, {
        seed,
        sampler: opts.sampler ?? 'pc',
        steps: opts.steps ?? 1000,
        typeDiffusion: opts.typeDiffusion,
        latticeParameterisation: opts.latticeParameterisation,
        tFinal: opts.tFinal ?? 1e-3,
        tau: opts.tau,
        signal: opts.signal,
        onProgress: (step, n) => progress.update(batchStart + Math.floor((missing.length * step) / n)),
      });
    } catch (err) {
      if (opts.signal?.aborted) {
        aborted = true;
        break;
      }
      throw err;
    }
    let lines = '';
    for (let g = 0; g < batch.length; g++) {
      if (batch[g]!.padding || done.has(key(batch[g]!))) continue;
      lines += out.lines[g]! + '\n';
      if (!out.finite[g]) nonFinite++;
    }
    appendFileSync(opts.outPath, lines);
    written += missing.length;
    progress.update(alreadyDone + written);
  }
  progress.finish();
  return { total, alreadyDone, written, nonFinite, seconds: (Date.now() - t0) / 1000, aborted };
}

/**
 * A documented fixed random subset: the first `n` indices of Rng(seed).permutation(M), returned in
 * the original (split) order, so the same (n, seed) always picks the same materials.
 */
export function randomSubset<T>(items: readonly T[], n: number, seed: number): T[] {
  if (n >= items.length) return [...items];
  const chosen = Array.from(new Rng(seed).permutation(items.length).subarray(0, n)).sort((a, b) => a - b);
  return chosen.map((i) => items[i]!);
}

/** Size of an output file in lines (for messages). */
export function countLines(path: string): number {
  if (!existsSync(path) || statSync(path).size === 0) return 0;
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
}
