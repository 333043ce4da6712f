/**
 * Reading CSP predictions (JSON Lines: {"material_id": string, "sample": int, "cif": string})
 * and the ground truth of a dataset split. Bad lines never abort the run: a line
 * that names its material and sample becomes a malformed (invalid) prediction,
 * one that does not is counted and reported as unreadable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../util/errors.js';
import { readCifCsv, readSplitSource } from '../data/source.js';
import type { CspGroundTruth, CspPredictionInput } from './csp.js';

export interface PredictionsFile {
  predictions: CspPredictionInput[];
  /** lines that could not be attributed to a (material, sample) */
  unreadableLines: number;
  messages: string[];
}

export function readPredictionsJsonl(path: string): PredictionsFile {
  if (!existsSync(path)) throw new InputError(`predictions file ${path} does not exist`);
  let buf = readFileSync(path);
  if (path.endsWith('.gz')) {
    try {
      buf = gunzipSync(buf);
    } catch (err) {
      throw new InputError(`${path}: not a valid gzip file (${(err as Error).message})`);
    }
  }
  const lines = buf.toString('utf8').split('\n');
  const predictions: CspPredictionInput[] = [];
  const messages: string[] = [];
  let unreadableLines = 0;
  const report = (m: string): void => {
    if (messages.length < 50) messages.push(m);
  };
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.trim();
    if (text === '') continue;
    const where = `${path}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      unreadableLines++;
      report(`${where}: not JSON (${(err as Error).message})`);
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      unreadableLines++;
      report(`${where}: expected a JSON object`);
      continue;
    }
    const o = v as Record<string, unknown>;
    const id = typeof o.material_id === 'string' || typeof o.material_id === 'number' ? String(o.material_id) : null;
    const sample = o.sample === undefined ? 0 : o.sample;
    if (id === null || typeof sample !== 'number' || !Number.isInteger(sample)) {
      unreadableLines++;
      report(`${where}: needs "material_id" (string) and "sample" (integer)`);
      continue;
    }
    if (typeof o.cif !== 'string' || o.cif.trim() === '') {
      report(`${where}: "cif" missing or not a string: counted invalid`);
      predictions.push({ materialId: id, sample, malformed: `${where}: "cif" missing or not a string` });
      continue;
    }
    predictions.push({ materialId: id, sample, cif: o.cif });
  }
  return { predictions, unreadableLines, messages };
}

/** Ground truth of a dataset split: every material with its CIF as stored in the dataset. */
export function loadCspGroundTruth(dataset: string, split: string): CspGroundTruth[] {
  const src = readSplitSource(dataset, split);
  return src.materialIds.map((materialId, i) => ({ materialId, cif: src.cifs[i]! }));
}

/** Ground truth from any CSV with material_id and cif columns (a user's own test set). */
export function loadCspGroundTruthCsv(path: string): CspGroundTruth[] {
  const src = readCifCsv(path);
  return src.materialIds.map((materialId, i) => ({ materialId, cif: src.cifs[i]! }));
}
