/**
 * Real inputs to mutate: CIFs of the benchmark datasets (read through the data API, so the
 * fuzzers follow the datasets wherever they are stored) and the shipped models' weight files.
 * Each corpus is loaded once per process and sampled deterministically.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSplitSource } from '../data/source.js';
import { listModels } from '../predict/registry.js';

/** Every `step`-th row so that the corpus spans the split; `limit` rows per split at most. */
function spread<T>(items: readonly T[], limit: number): T[] {
  const step = Math.max(1, Math.floor(items.length / limit));
  const out: T[] = [];
  for (let i = 0; i < items.length && out.length < limit; i += step) out.push(items[i]!);
  return out;
}

let cifs: { materialId: string; cif: string }[] | null = null;

/** Up to 200 test CIFs each of Perov-5 and MP-20 (whatever of them is installed; at least one must be). */
export function datasetCifs(): { materialId: string; cif: string }[] {
  if (cifs) return cifs;
  const out: { materialId: string; cif: string }[] = [];
  const errors: string[] = [];
  for (const dataset of ['perov_5', 'mp_20']) {
    try {
      const src = readSplitSource(dataset, 'test');
      const rows = src.materialIds.map((materialId, i) => ({ materialId, cif: src.cifs[i]! }));
      out.push(...spread(rows, 200));
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  if (out.length === 0) throw new Error(`fuzz corpus: no dataset CIFs could be read (${errors.join('; ')})`);
  cifs = out;
  return out;
}

let weights: { name: string; path: string; bytes: Buffer }[] | null = null;

/** The shipped models' weight files (models/<name>/weights.kldm). */
export function shippedWeights(): { name: string; path: string; bytes: Buffer }[] {
  if (weights) return weights;
  weights = listModels().map(({ manifest, dir }) => {
    const path = join(dir, manifest.weights);
    return { name: manifest.name, path, bytes: readFileSync(path) };
  });
  if (weights.length === 0) throw new Error('fuzz corpus: no shipped models found');
  return weights;
}
