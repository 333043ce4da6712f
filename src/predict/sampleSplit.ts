/**
 * Batched CSP sampling over a whole list of compositions (a benchmark split or any CSV with
 * material_id and cif columns), writing the evaluator's JSON Lines format
 * `{"material_id", "sample", "cif"}` (scored by `kldm evaluate csp`).
 *
 * Resumable: pairs (material_id, sample) already in the output file are skipped, and new lines are
 * appended after each batch; a torn last line (kill during a write) is cut off on restart. Work is
 * ordered sample-major (every material's sample 0 first), so @1 results are complete first.
 * Each batch's randomness comes from (seed, index of the batch's first pair), so a given batch
 * composition is reproducible.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LatticeStats } from '../data/types.js';
import { writeCif } from '../crystal/io/cif.js';
import { makeLayout, type ScoreNetwork } from '../network/types.js';
import { sampleCsp, type SamplerMethod } from '../sampling/sampler.js';
import { decodeSamplerResult } from '../sampling/decode.js';
import { statsForAtomCount } from '../diffusion/latticeFeatures.js';
import { InputError, KldmError } from '../util/errors.js';
import { Progress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { edgeBudgetBatchSize } from '../training/batches.js';
import type { TypeDiffusionSpec } from '../diffusion/typeDiffusion.js';

export interface SampleTarget {
  materialId: string;
  /** atomic numbers in the order of the ground truth's sites */
  atomicNumbers: number[];
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
  seed?: number;
  /** crystals per sampler batch (default: defaultSamplingBatchSize of the targets) */
  batchSize?: number;
  signal?: AbortSignal;
  quiet?: boolean;
  /** the network is a DNG model: the compositions' types are held fixed, CSP-style (typeSampler.ts) */
  typeDiffusion?: TypeDiffusionSpec;
}

export interface SampleSplitSummary {
  total: number;
  alreadyDone: number;
  written: number;
  nonFinite: number;
  seconds: number;
  aborted: boolean;
}

/** Pairs already in the output (and a clean end of file), for resuming. */
function existingPairs(path: string): Set<string> {
  const done = new Set<string>();
  if (!existsSync(path)) return done;
  const text = readFileSync(path, 'utf8');
  const lastNewline = text.lastIndexOf('\n');
  if (lastNewline !== text.length - 1) truncateSync(path, Buffer.byteLength(text.slice(0, lastNewline + 1), 'utf8'));
  const lines = text.slice(0, lastNewline + 1).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    try {
      const v = JSON.parse(line) as { material_id?: unknown; sample?: unknown };
      if (typeof v.material_id === 'string' && Number.isInteger(v.sample)) done.add(`${v.material_id}\u0000${v.sample as number}`);
    } catch {
      throw new KldmError(`${path}: line ${i + 1} is not JSON; not a kldm sample output (refusing to append)`);
    }
  }
  return done;
}

/** Default crystals per sampler batch for these targets (about 20,480 edges at H = 128; see edgeBudgetBatchSize). */
export function defaultSamplingBatchSize(targets: readonly SampleTarget[], hidden = 128): number {
  return edgeBudgetBatchSize(targets.map((t) => t.atomicNumbers.length), hidden);
}


export async function sampleSplit(opts: SampleSplitOptions): Promise<SampleSplitSummary> {
  const k = opts.samplesPerMaterial ?? 1;
  const batchSize = opts.batchSize ?? defaultSamplingBatchSize(opts.targets, opts.net.config?.hidden);
  const seed = opts.seed ?? 42;
  if (!Number.isInteger(k) || k < 1) throw new InputError(`--samples-per-material must be a positive integer (got ${k})`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`--batch-size must be a positive integer (got ${batchSize})`);
  const ids = new Set<string>();
  for (const t of opts.targets) {
    if (ids.has(t.materialId)) throw new InputError(`material_id ${t.materialId} appears twice in the input`);
    ids.add(t.materialId);
    if (t.atomicNumbers.length === 0) throw new InputError(`material ${t.materialId} has no atoms`);
    try {
      statsForAtomCount(opts.stats, t.atomicNumbers.length);
    } catch (err) {
      throw new InputError(`material ${t.materialId}: ${(err as Error).message}`);
    }
  }
  mkdirSync(dirname(opts.outPath), { recursive: true });
  const done = existingPairs(opts.outPath);
  // sample-major work list, skipping finished pairs
  const work: Array<{ target: SampleTarget; sample: number; index: number }> = [];
  let index = 0;
  for (let s = 0; s < k; s++) {
    for (const target of opts.targets) {
      if (!done.has(`${target.materialId}\u0000${s}`)) work.push({ target, sample: s, index });
      index++;
    }
  }
  const total = opts.targets.length * k;
  const alreadyDone = total - work.length;
  const progress = new Progress({ label: 'sampling', total, unit: 'crystals', quiet: opts.quiet, initial: alreadyDone });
  progress.update(alreadyDone);
  const t0 = Date.now();
  let written = 0;
  let nonFinite = 0;
  let aborted = false;
  for (let start = 0; start < work.length; start += batchSize) {
    if (opts.signal?.aborted) {
      aborted = true;
      break;
    }
    const chunk = work.slice(start, start + batchSize);
    const layout = makeLayout(chunk.map((w) => w.target.atomicNumbers.length));
    const types = new Int32Array(layout.numAtoms);
    for (let g = 0; g < chunk.length; g++) types.set(chunk[g]!.target.atomicNumbers, layout.atomOffsets[g]!);
    const rng = new Rng((seed * 1_000_003 + chunk[0]!.index) >>> 0);
    const batchStart = alreadyDone + written;
    let result;
    try {
      const td = opts.typeDiffusion;
      const fixedTypes = td ? { typeDiffusion: { kind: td.kind, maskSchedule: td.maskSchedule, fixed: types } } : {};
      result = await sampleCsp(opts.net, { layout, types, ...fixedTypes }, rng, {
        method: opts.sampler ?? 'pc',
        nSteps: opts.steps ?? 1000,
        tFinal: opts.tFinal ?? 1e-3,
        signal: opts.signal,
        onProgress: (step, n) => progress.update(batchStart + Math.floor((chunk.length * step) / n)),
      });
    } catch (err) {
      if (opts.signal?.aborted) {
        aborted = true;
        break;
      }
      throw err;
    }
    const decoded = decodeSamplerResult(result, opts.stats);
    let lines = '';
    for (let g = 0; g < chunk.length; g++) {
      const d = decoded[g]!;
      // A non-finite sample is still written (as an empty CIF) so it counts as invalid, not missing.
      let cif = '';
      if (d.finite) cif = writeCif(d.structure, chunk[g]!.target.materialId);
      else nonFinite++;
      lines += JSON.stringify({ material_id: chunk[g]!.target.materialId, sample: chunk[g]!.sample, cif }) + '\n';
    }
    appendFileSync(opts.outPath, lines);
    written += chunk.length;
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
