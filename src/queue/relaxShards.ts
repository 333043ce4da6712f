/**
 * `kldm relax --jsonl` as queue shards (issue #17). A run's chunks are planned exactly as a
 * single-process run plans them (planRelaxChunks over the whole input: the structures of a chunk
 * relax together), a shard is a run of whole consecutive chunks, and a worker relaxes them with the
 * same potential and options, so the merged lines equal the single-process output line for line.
 * The records travel as their CIF text and are parsed on the worker exactly as the producer would.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { assetPath } from '../assets/index.js';
import { readCif } from '../crystal/io/cif.js';
import { makeStructure } from '../crystal/structure.js';
import { M3GNET_ASSET, m3gnetPotential } from '../potential/shipped.js';
import type { RelaxOptions, RelaxResult } from '../relax/relax.js';
import { planRelaxChunks, relaxChunkLinesAsync, type RelaxInputRecord } from '../relax/jsonl.js';
import { StabilityScorer } from '../thermo/stability.js';
import { KldmError } from '../util/errors.js';
import type { ShardResult } from './sampleShards.js';

export interface RelaxRunParams {
  potential: typeof M3GNET_ASSET;
  /** sha256 of the potential's weights: a worker with other weights refuses the shard */
  weightsSha256: string;
  options: Required<Pick<RelaxOptions, 'fmax' | 'maxSteps' | 'relaxCell' | 'cellForce'>>;
  hull: boolean;
  batchSize: number;
}

/** a record as it travels: its CIF text (or the reader's error), parsed again on the worker */
export interface RelaxShardRecord {
  id: string;
  materialId?: string;
  sample?: number;
  cif?: string;
  error?: string;
}

export interface RelaxShardJob {
  kind: 'relax';
  runId: string;
  shard: number;
  shards: number;
  params: RelaxRunParams;
  chunks: RelaxShardRecord[][];
}

let weightsHash: string | undefined;
export function potentialWeightsSha256(): string {
  return (weightsHash ??= createHash('sha256').update(readFileSync(assetPath(M3GNET_ASSET, 'state.pt'))).digest('hex'));
}

/** the record as it travels: the CIF text it was read from, or its reading error */
export function toShardRecord(rec: RelaxInputRecord, cif: string | undefined = rec.cif): RelaxShardRecord {
  const out: RelaxShardRecord = { id: rec.id };
  if (rec.materialId !== undefined) out.materialId = rec.materialId;
  if (rec.sample !== undefined) out.sample = rec.sample;
  if (rec.error !== undefined) out.error = rec.error;
  else if (cif !== undefined) out.cif = cif;
  return out;
}

function fromShardRecord(r: RelaxShardRecord, where: string): RelaxInputRecord {
  const rec: RelaxInputRecord = { id: r.id };
  if (r.materialId !== undefined) rec.materialId = r.materialId;
  if (r.sample !== undefined) rec.sample = r.sample;
  if (r.error !== undefined || r.cif === undefined) {
    rec.error = r.error ?? 'no structure';
    return rec;
  }
  const s = readCif(r.cif, { source: where });
  rec.structure = makeStructure(s.lattice, s.species, s.frac, where);
  return rec;
}

export function planRelaxShards(records: RelaxShardRecord[], params: RelaxRunParams, shardSize: number): RelaxShardJob[] {
  const chunks = planRelaxChunks(records as unknown as RelaxInputRecord[], params.batchSize) as unknown as RelaxShardRecord[][];
  const perShard = Math.max(1, Math.ceil(shardSize / params.batchSize));
  const h = createHash('sha256').update(JSON.stringify({ v: 1, kind: 'relax', params, perShard }));
  for (const r of records) h.update(`${r.id}\u0000${r.cif ?? r.error ?? ''}\n`);
  const runId = h.digest('hex').slice(0, 20);
  const count = Math.ceil(chunks.length / perShard);
  return Array.from({ length: count }, (_, s) => ({ kind: 'relax' as const, runId, shard: s, shards: count, params, chunks: chunks.slice(s * perShard, (s + 1) * perShard) }));
}

let scorer: Promise<StabilityScorer> | undefined;

export async function runRelaxShard(job: RelaxShardJob, onChunk?: (done: number, total: number) => void): Promise<ShardResult> {
  const t0 = Date.now();
  if (potentialWeightsSha256() !== job.params.weightsSha256) {
    throw new KldmError(`the ${M3GNET_ASSET} weights on this worker differ from the producer's (sha256): install the same asset on every worker`);
  }
  const potential = m3gnetPotential();
  const score = job.params.hull ? await (scorer ??= StabilityScorer.create(potential, M3GNET_ASSET)) : null;
  const scoreFn = score
    ? (res: RelaxResult): Record<string, unknown> => {
        const st = score.score(res.final, res.energy);
        return { formation_energy_per_atom: st.formationEnergyPerAtom, e_above_hull: st.eAboveHull, mp2020_correction: st.correction, ...(st.note ? { hull_note: st.note } : {}) };
      }
    : undefined;
  const lines: string[] = [];
  let failed = 0;
  for (let c = 0; c < job.chunks.length; c++) {
    const chunk = job.chunks[c]!.map((r) => fromShardRecord(r, `record ${r.id}`));
    const out = await relaxChunkLinesAsync(chunk, potential, job.params.options, scoreFn);
    lines.push(...out.lines);
    failed += out.failed;
    onChunk?.(c + 1, job.chunks.length);
  }
  return { lines, nonFinite: failed, seconds: (Date.now() - t0) / 1000, worker: `${hostname()}:${process.pid}` };
}
