/**
 * `kldm sample` as queue shards (issue #17). A run's batches are planned exactly as a
 * single-process run plans them (planSampleBatches: the full sample-major pair list cut into
 * batches; each batch's noise from (seed, its first pair's index)), and a shard is a run of whole
 * consecutive batches. A worker samples a shard's batches with the same code and parameters, so
 * the shards' lines, concatenated in shard order, are line for line the output of one process.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { dngTypeDiffusion, getModel, loadModelNetwork, modelLatticeParameterisation } from '../predict/registry.js';
import { planSampleBatches, sampleBatchLines, type SamplePair, type SampleTarget } from '../predict/sampleSplit.js';
import type { SamplerMethod } from '../sampling/sampler.js';
import { KldmError } from '../util/errors.js';

export interface SampleRunParams {
  model: string;
  /** sha256 of the model's weights file: a worker with other weights refuses the shard */
  weightsSha256: string;
  sampler: SamplerMethod;
  steps: number;
  tFinal: number;
  /** PC corrector step-size factor τ (spec §7.2); absent = the sampler's default 0.25 (older shards) */
  tau?: number;
  seed: number;
  samplesPerMaterial: number;
  batchSize: number;
}

/** A shard's work: whole batches of the run's plan, each a list of pairs with their plan indices. */
export interface SampleShardJob {
  kind: 'sample';
  runId: string;
  shard: number;
  shards: number;
  params: SampleRunParams;
  /** `padding`: a pair past the run's --limit, sampled with its batch but not written (planSampleBatches) */
  batches: { materialId: string; atomicNumbers: number[]; sample: number; index: number; padding?: true }[][];
}

export interface ShardResult {
  /** the output lines of the shard, in plan order, without newlines */
  lines: string[];
  nonFinite: number;
  seconds: number;
  worker: string;
}

const weightsHashes = new Map<string, string>();

/** sha256 of a shipped model's weights file (computed once per process). */
export function modelWeightsSha256(name: string): string {
  const entry = getModel(name);
  const path = join(entry.dir, entry.manifest.weights);
  let h = weightsHashes.get(path);
  if (!h) {
    h = createHash('sha256').update(readFileSync(path)).digest('hex');
    weightsHashes.set(path, h);
  }
  return h;
}

/** Splits a run into shards of whole batches, about `shardSize` crystals each (at least one batch). */
export function planSampleShards(targets: readonly SampleTarget[], params: SampleRunParams, shardSize: number, limit = targets.length): SampleShardJob[] {
  const batches = planSampleBatches(targets, params.samplesPerMaterial, params.batchSize, limit);
  const perShard = Math.max(1, Math.ceil(shardSize / params.batchSize));
  const runId = sampleRunId(targets, params, perShard, limit);
  const shards: SampleShardJob[] = [];
  const count = Math.ceil(batches.length / perShard);
  for (let s = 0; s < count; s++) {
    shards.push({
      kind: 'sample',
      runId,
      shard: s,
      shards: count,
      params,
      batches: batches.slice(s * perShard, (s + 1) * perShard).map((b) =>
        b.map((w) => ({ materialId: w.target.materialId, atomicNumbers: w.target.atomicNumbers, sample: w.sample, index: w.index, ...(w.padding ? { padding: true as const } : {}) })),
      ),
    });
  }
  return shards;
}

/** A run's identity: everything that decides its output. The same command on the same inputs gets the same id (resume). */
export function sampleRunId(targets: readonly SampleTarget[], params: SampleRunParams, batchesPerShard: number, limit = targets.length): string {
  const h = createHash('sha256');
  // an unlimited run keeps the id it had before --limit existed (queued runs resume across versions)
  h.update(JSON.stringify(limit < targets.length ? { v: 1, params, batchesPerShard, limit } : { v: 1, params, batchesPerShard }));
  for (const t of targets) h.update(`${t.materialId}\u0000${t.atomicNumbers.join(',')}\n`);
  return h.digest('hex').slice(0, 20);
}

/** Runs one shard (in a worker): the model by name, checked against the producer's weights hash. */
export async function runSampleShard(job: SampleShardJob, onBatch?: (done: number, total: number) => void, signal?: AbortSignal): Promise<ShardResult> {
  const t0 = Date.now();
  const { params } = job;
  const have = modelWeightsSha256(params.model);
  if (have !== params.weightsSha256) {
    throw new KldmError(`model ${params.model} on this worker has other weights (sha256 ${have.slice(0, 12)}…, the run needs ${params.weightsSha256.slice(0, 12)}…): install the same kldm models on every worker`);
  }
  const entry = getModel(params.model);
  const net = loadModelNetwork(entry);
  // a DNG model samples CSP-style with its type process held fixed, as in a single-process kldm sample
  const typeDiffusion = entry.manifest.task === 'dng' ? dngTypeDiffusion(entry.manifest) : undefined;
  const latticeParameterisation = modelLatticeParameterisation(entry.manifest);
  const lines: string[] = [];
  let nonFinite = 0;
  for (let b = 0; b < job.batches.length; b++) {
    const batch: SamplePair[] = job.batches[b]!.map((p) => ({ target: { materialId: p.materialId, atomicNumbers: p.atomicNumbers }, sample: p.sample, index: p.index }));
    const out = await sampleBatchLines(net, entry.manifest.latticeStats, batch, { seed: params.seed, sampler: params.sampler, steps: params.steps, tFinal: params.tFinal, tau: params.tau, signal, typeDiffusion, latticeParameterisation });
    job.batches[b]!.forEach((p, g) => {
      if (p.padding) return;
      lines.push(out.lines[g]!);
      if (!out.finite[g]) nonFinite++;
    });
    onBatch?.(b + 1, job.batches.length);
  }
  return { lines, nonFinite, seconds: (Date.now() - t0) / 1000, worker: `${hostname()}:${process.pid}` };
}
