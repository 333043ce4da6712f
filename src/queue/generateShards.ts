/**
 * `kldm generate` as queue shards (issue #17). A request's batches are planned over its whole index
 * list (planGeneration: atom counts from Rng(seed), each batch's noise from its first index), a shard
 * is a run of whole consecutive batches, and a worker samples them with generateWithNetwork's
 * `batches` option, so the merged lines equal a single-process `kldm generate --out x.jsonl`.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { dngModelInfo, generateWithNetwork, type GenerateOptions } from '../predict/generate.js';
import { KldmError } from '../util/errors.js';
import { modelWeightsSha256, type ShardResult } from './sampleShards.js';

/** the request fields that decide the output (no file, no callbacks) */
export type GenerateRequest = Pick<GenerateOptions, 'n' | 'atoms' | 'atomsRange' | 'elements' | 'formula' | 'z' | 'sampler' | 'steps' | 'tFinal' | 'seed' | 'batchSize'>;

export interface GenerateShardJob {
  kind: 'generate';
  runId: string;
  shard: number;
  shards: number;
  params: { model: string; weightsSha256: string; request: GenerateRequest; total: number };
  first: number;
  count: number;
  /** structures in this shard (for progress) */
  structures: number;
}

/** plans the shards of a request (validates it and fixes the batch size by running zero batches) */
export async function planGenerateShards(model: string, request: GenerateRequest, shardSize: number): Promise<GenerateShardJob[]> {
  const { net, info } = dngModelInfo(model);
  const plan = await generateWithNetwork(net, info, { ...request, batches: { first: 0, count: 0 } });
  const fixed: GenerateRequest = { ...request, batchSize: plan.batchSize };
  const params = { model, weightsSha256: modelWeightsSha256(model), request: fixed, total: plan.total };
  const perShard = Math.max(1, Math.ceil(shardSize / plan.batchSize));
  const runId = createHash('sha256').update(JSON.stringify({ v: 1, kind: 'generate', params, perShard })).digest('hex').slice(0, 20);
  const count = Math.ceil(plan.batches / perShard);
  return Array.from({ length: count }, (_, s) => {
    const first = s * perShard;
    const nb = Math.min(perShard, plan.batches - first);
    const structures = Math.min(plan.total, (first + nb) * plan.batchSize) - first * plan.batchSize;
    return { kind: 'generate' as const, runId, shard: s, shards: count, params, first, count: nb, structures };
  });
}

export async function runGenerateShard(job: GenerateShardJob, onBatch?: (done: number, total: number) => void): Promise<ShardResult> {
  const t0 = Date.now();
  const { model, weightsSha256, request } = job.params;
  const have = modelWeightsSha256(model);
  if (have !== weightsSha256) {
    throw new KldmError(`model ${model} on this worker has other weights (sha256 ${have.slice(0, 12)}…, the run needs ${weightsSha256.slice(0, 12)}…): install the same kldm models on every worker`);
  }
  const { net, info } = dngModelInfo(model);
  const lines: string[] = [];
  let batches = 0;
  await generateWithNetwork(net, info, {
    ...request,
    batches: { first: job.first, count: job.count },
    onLines: (l) => {
      lines.push(...l);
      onBatch?.(++batches, job.count);
    },
  });
  const nonFinite = lines.filter((l) => l.endsWith('"cif":""}')).length;
  return { lines, nonFinite, seconds: (Date.now() - t0) / 1000, worker: `${hostname()}:${process.pid}` };
}
