/**
 * Reads a `kldm relax --jsonl` output as the relaxations behind the DNG stability columns
 * (`kldm evaluate dng --stability --relaxed relaxed.jsonl`). Relaxing thousands of generated crystals
 * takes hours on a small machine; `kldm relax --jsonl` resumes after a kill and shards over a Redis
 * queue, so the evaluation can reuse its output instead of relaxing again in one process.
 */
import { readFileSync } from 'node:fs';
import type { Structure } from '../../crystal/types.js';
import { InputError } from '../../util/errors.js';
import { readCifForMatching } from '../cifReader.js';

export interface RelaxedRecord {
  /** relaxed structure; null when the relaxation failed (error line) */
  final: Structure | null;
  /** total energy of the relaxed structure, eV (NaN for an error line) */
  energy: number;
  converged: boolean;
}

/** Relaxed records by structure id. A line that is not JSON, or has no id, or a relaxed cif that cannot be read, is an error naming it. */
export function readRelaxedJsonl(path: string): Map<string, RelaxedRecord> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`--relaxed: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const out = new Map<string, RelaxedRecord>();
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    if (!raw.trim()) return;
    const where = `${path} line ${i + 1}`;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      // a torn last line of a relaxation that is still running or was killed: not an answer yet
      if (i >= lines.length - 2) return;
      throw new InputError(`--relaxed: ${where} is not JSON`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InputError(`--relaxed: ${where} is not a JSON object`);
    const id = typeof v['id'] === 'string' ? v['id'] : null;
    if (id === null) throw new InputError(`--relaxed: ${where} has no "id" (not a kldm relax --jsonl output?)`);
    const energy = typeof v['energy'] === 'number' ? v['energy'] : Number.NaN;
    const cif = typeof v['cif'] === 'string' ? v['cif'] : '';
    if (typeof v['error'] === 'string' || !cif || !Number.isFinite(energy)) {
      out.set(id, { final: null, energy: Number.NaN, converged: false });
      return;
    }
    let final: Structure;
    try {
      final = readCifForMatching(cif, `relaxed ${id}`);
    } catch (err) {
      throw new InputError(`--relaxed: ${where}: the relaxed cif cannot be read (${(err as Error).message})`);
    }
    out.set(id, { final, energy, converged: v['converged'] === true });
  });
  return out;
}
