/**
 * Relaxing a JSON Lines file of structures (the output of `kldm sample`, or any lines with a
 * `cif` field and an id), in batches, appending one result line per structure; resumable: ids
 * already in the output are skipped, a torn last line (kill during a write) is cut off.
 *
 * Output line: {id, material_id?, sample?, converged, steps, initial_energy, energy,
 * energy_per_atom, fmax, stress_gpa (3×3 row-major), cif (relaxed), error?}; a structure that
 * cannot be read or relaxed gets a line with `error` and no structure, so it is counted, not lost.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { readResumableJsonl } from '../util/resumableJsonl.js';
import { dirname } from 'node:path';
import type { Structure } from '../crystal/types.js';
import { readCif, writeCif } from '../crystal/io/cif.js';
import { makeStructure } from '../crystal/structure.js';
import { InputError } from '../util/errors.js';
import { uncoveredElements, type BatchPotential } from '../potential/types.js';
import { relaxStructures, relaxStructuresAsync, type RelaxOptions, type RelaxResult } from './relax.js';

/** 1 eV/Å³ in GPa */
const EV_PER_A3_TO_GPA = 160.21766208;

export interface RelaxInputRecord {
  id: string;
  materialId?: string;
  sample?: number;
  structure?: Structure;
  /** the CIF text the structure was read from (sent as is to queue workers) */
  cif?: string;
  error?: string;
}

/** Reads structure records from JSON Lines: `cif` + `id`, or `material_id` (+ `sample`) as written by kldm sample. */
export function readStructureJsonl(path: string): RelaxInputRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const out: RelaxInputRecord[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new InputError(`${path} line ${i + 1}: not JSON`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InputError(`${path} line ${i + 1}: not a JSON object`);
    const materialId = typeof v['material_id'] === 'string' ? v['material_id'] : undefined;
    const sample = Number.isInteger(v['sample']) ? (v['sample'] as number) : undefined;
    const id = typeof v['id'] === 'string' ? v['id'] : materialId !== undefined ? (sample !== undefined ? `${materialId}/${sample}` : materialId) : undefined;
    if (id === undefined) throw new InputError(`${path} line ${i + 1}: no "id" or "material_id"`);
    if (seen.has(id)) throw new InputError(`${path} line ${i + 1}: id ${id} appears twice`);
    seen.add(id);
    const rec: RelaxInputRecord = { id };
    if (materialId !== undefined) rec.materialId = materialId;
    if (sample !== undefined) rec.sample = sample;
    if (typeof v['cif'] !== 'string' || v['cif'] === '') rec.error = 'no structure (empty or missing cif)';
    else {
      try {
        const s = readCif(v['cif'], { source: `${path} line ${i + 1}` });
        rec.structure = makeStructure(s.lattice, s.species, s.frac, `${path} line ${i + 1}`);
        rec.cif = v['cif'];
      } catch (err) {
        rec.error = (err as Error).message;
      }
    }
    out.push(rec);
  });
  return out;
}

function doneIds(path: string): Set<string> {
  const done = new Set<string>();
  for (const { value: v } of readResumableJsonl(path, 'kldm relax')) if (typeof v['id'] === 'string') done.add(v['id']);
  return done;
}

export function resultLine(rec: RelaxInputRecord, r: RelaxResult | null, extra: Record<string, unknown> = {}): string {
  const base: Record<string, unknown> = { id: rec.id };
  if (rec.materialId !== undefined) base['material_id'] = rec.materialId;
  if (rec.sample !== undefined) base['sample'] = rec.sample;
  if (!r) return JSON.stringify({ ...base, error: rec.error ?? 'not relaxed' });
  return JSON.stringify({
    ...base,
    converged: r.converged,
    steps: r.steps,
    initial_energy: r.initialEnergy,
    energy: r.energy,
    energy_per_atom: r.energyPerAtom,
    fmax: r.fmax,
    stress_gpa: r.stress ? Array.from(r.stress, (x) => x * EV_PER_A3_TO_GPA) : null,
    ...extra,
    cif: Number.isFinite(r.energy) ? writeCif(r.final, rec.id) : '',
    ...(Number.isFinite(r.energy) ? {} : { error: 'the potential gave a non-finite energy' }),
  });
}

export interface RelaxJsonlSummary {
  total: number;
  alreadyDone: number;
  relaxed: number;
  converged: number;
  failed: number;
  seconds: number;
  aborted: boolean;
}

/**
 * The chunks of a run: the input cut into consecutive chunks of `batchSize` records, planned over the
 * whole input (never over what is left to do), because the structures of a chunk relax together and
 * share the potential's batched calls; so a resumed run and the shards of a queued run
 * (src/queue/relaxShards.ts) relax exactly the same chunks and write the same lines.
 */
export function planRelaxChunks(input: readonly RelaxInputRecord[], batchSize: number): RelaxInputRecord[][] {
  const chunks: RelaxInputRecord[][] = [];
  for (let start = 0; start < input.length; start += batchSize) chunks.push(input.slice(start, start + batchSize));
  return chunks;
}

type ChunkOut = { lines: string[]; relaxed: number; converged: number; failed: number };

/** Relaxes one chunk and returns its output lines (without newlines), in input order. */
export function relaxChunkLines(chunk: readonly RelaxInputRecord[], potential: BatchPotential, options: RelaxOptions, score?: (r: RelaxResult) => Record<string, unknown>): ChunkOut {
  const { ok, checked } = relaxable(chunk, potential);
  return chunkLines(checked, ok, ok.length > 0 ? relaxStructures(ok.map((r) => r.structure!), potential, options) : [], score);
}

/** relaxChunkLines yielding to the event loop between optimiser steps (queue workers); the same lines */
export async function relaxChunkLinesAsync(chunk: readonly RelaxInputRecord[], potential: BatchPotential, options: RelaxOptions, score?: (r: RelaxResult) => Record<string, unknown>): Promise<ChunkOut> {
  const { ok, checked } = relaxable(chunk, potential);
  return chunkLines(checked, ok, ok.length > 0 ? await relaxStructuresAsync(ok.map((r) => r.structure!), potential, options) : [], score);
}

/**
 * The records the potential can relax; a structure with an element the potential does not cover gets an
 * error line of its own (a generated crystal may contain any element) instead of failing its whole batch.
 */
function relaxable(chunk: readonly RelaxInputRecord[], potential: BatchPotential): { ok: RelaxInputRecord[]; checked: RelaxInputRecord[] } {
  const checked = chunk.map((r) => {
    if (!r.structure) return r;
    const missing = uncoveredElements(potential, r.structure);
    return missing.length === 0 ? r : { ...r, structure: undefined, error: `element${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not covered by the potential` };
  });
  return { ok: checked.filter((r) => r.structure), checked };
}

function chunkLines(chunk: readonly RelaxInputRecord[], ok: RelaxInputRecord[], results: RelaxResult[], score?: (r: RelaxResult) => Record<string, unknown>): ChunkOut {
  const byId = new Map(ok.map((r, k) => [r.id, results[k]!]));
  const out = { lines: [] as string[], relaxed: 0, converged: 0, failed: 0 };
  for (const rec of chunk) {
    const r = byId.get(rec.id) ?? null;
    if (!r || !Number.isFinite(r.energy)) out.failed++;
    else {
      out.relaxed++;
      if (r.converged) out.converged++;
    }
    out.lines.push(resultLine(rec, r, r && Number.isFinite(r.energy) && score ? score(r) : {}));
  }
  return out;
}

export function relaxJsonl(o: {
  input: RelaxInputRecord[];
  outPath: string;
  potential: BatchPotential;
  options: RelaxOptions;
  /** structures per relaxation batch (default 64) */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** extra fields per relaxed structure (e.g. formation energy and energy above hull) */
  score?: (r: RelaxResult) => Record<string, unknown>;
}): RelaxJsonlSummary {
  const t0 = Date.now();
  mkdirSync(dirname(o.outPath), { recursive: true });
  const done = doneIds(o.outPath);
  const alreadyDone = o.input.filter((r) => done.has(r.id)).length;
  let relaxed = 0;
  let converged = 0;
  let failed = 0;
  let finished = alreadyDone;
  for (const chunk of planRelaxChunks(o.input, o.batchSize ?? 64)) {
    const missing = chunk.filter((r) => !done.has(r.id));
    if (missing.length === 0) continue;
    if (o.signal?.aborted) return { total: o.input.length, alreadyDone, relaxed, converged, failed, seconds: (Date.now() - t0) / 1000, aborted: true };
    // a chunk cut short by a kill is relaxed again whole (same batch, same lines); only its missing lines are appended
    const r = relaxChunkLines(chunk, o.potential, o.options, o.score);
    let lines = '';
    chunk.forEach((rec, k) => {
      if (!done.has(rec.id)) lines += r.lines[k]! + '\n';
    });
    appendFileSync(o.outPath, lines);
    relaxed += r.relaxed;
    converged += r.converged;
    failed += r.failed;
    finished += missing.length;
    o.onProgress?.(finished, o.input.length);
  }
  return { total: o.input.length, alreadyDone, relaxed, converged, failed, seconds: (Date.now() - t0) / 1000, aborted: false };
}
