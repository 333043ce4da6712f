/**
 * The real library behind the server: formula parsing and CIF I/O from
 * src/crystal, prediction from src/predict (in worker threads), matching from
 * src/eval, datasets from src/data, shipped models from models/.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFormula } from '../crystal/composition.js';
import type { Structure } from '../crystal/types.js';
import { HttpError } from './http-error.js';
import type { ModelInfo, Services } from './services.js';
import { WorkerJobRunner, type WorkerRunnerOptions } from './worker-runner.js';

const EXT = import.meta.url.endsWith('.ts') ? 'ts' : 'js';

/**
 * Loads a library module that another part of kldm provides; a 501 naming the
 * feature when this build lacks it (rather than failing the whole server).
 */
async function libraryModule<T>(rel: string, feature: string): Promise<T> {
  try {
    return (await import(new URL(`${rel}.${EXT}`, import.meta.url).href)) as T;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new HttpError(501, 'not_available', `${feature} is not available in this build of kldm`);
    }
    throw err;
  }
}

function needFunction<F>(mod: Record<string, unknown>, name: string, feature: string): F {
  const f = mod[name];
  if (typeof f !== 'function') throw new HttpError(501, 'not_available', `${feature} is not available in this build of kldm`);
  return f as F;
}

export function defaultModelsRoot(): string {
  return fileURLToPath(new URL('../../models/', import.meta.url));
}

/** models/<name>/model.json (+ MODEL_CARD.md); read from the install folder, never from request data */
export function readShippedModels(root: string): ModelInfo[] {
  if (!existsSync(root)) return [];
  const out: ModelInfo[] = [];
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    const metaPath = join(dir, 'model.json');
    if (!statSync(dir).isDirectory() || !existsSync(metaPath)) continue;
    let meta: Record<string, unknown>;
    try {
      meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Record<string, unknown>;
    } catch {
      continue; // a broken model.json is the model's problem, not the listing's
    }
    const info: ModelInfo = { name, meta };
    const cardPath = join(dir, 'MODEL_CARD.md');
    if (existsSync(cardPath)) info.card = readFileSync(cardPath, 'utf8');
    out.push(info);
  }
  return out;
}

export interface DefaultServiceOptions extends WorkerRunnerOptions {
  modelsRoot?: string;
}

export function defaultServices(options: DefaultServiceOptions = {}): Services {
  const modelsRoot = options.modelsRoot ?? defaultModelsRoot();
  let models: ModelInfo[] | undefined;
  return {
    runner: new WorkerJobRunner(options),
    parseFormula: async (formula) => {
      // the server applies its own atoms-per-cell cap after multiplying by z
      const c = parseFormula(formula, { maxAtoms: 1_000_000 });
      const counts: Record<string, number> = {};
      for (let i = 0; i < c.elements.length; i++) counts[c.elements[i]!] = c.counts[i]!;
      return counts;
    },
    parseCif: async (text) => {
      const mod = await libraryModule<Record<string, unknown>>('../crystal/io/cif', 'CIF reading');
      const readCif = needFunction<(t: string) => Structure>(mod, 'readCif', 'CIF reading');
      const s = readCif(text);
      return { lattice: s.lattice, species: s.species, frac: s.frac };
    },
    writeStructure: async (s, format, title) => {
      const mod = await libraryModule<Record<string, unknown>>(`../crystal/io/${format}`, `${format} writing`);
      const name = { cif: 'writeCif', poscar: 'writePoscar', extxyz: 'writeExtxyz' }[format];
      return needFunction<(s: Structure, title?: string) => string>(mod, name, `${format} writing`)(s, title);
    },
    match: async (a, b) => {
      const mod = await libraryModule<Record<string, unknown>>('../eval/match', 'structure matching');
      const m = needFunction<(p: Structure, g: Structure) => { match: boolean; rms: number | null }>(
        mod,
        'matchStructures',
        'structure matching',
      )(a, b);
      return { match: m.match, rms: m.rms };
    },
    listModels: async () => (models ??= readShippedModels(modelsRoot)),
    listDatasets: async () => {
      const mod = await libraryModule<Record<string, unknown>>('../data/datasets', 'dataset browsing');
      return needFunction<() => Promise<{ name: string; splits: string[] }[]>>(mod, 'listDatasets', 'dataset browsing')();
    },
    datasetPage: async () => {
      throw new HttpError(501, 'not_available', 'dataset browsing is not available in this build of kldm');
    },
  };
}
