/**
 * The real library behind the server: formula parsing and structure I/O from
 * src/crystal, prediction from src/predict (in worker threads), matching from
 * src/eval, datasets from src/data, shipped models from models/.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFormula } from '../crystal/composition.js';
import { formatStructure, readCif } from '../crystal/io/index.js';
import { initMatching, matchCifs } from '../eval/match.js';
import type { ModelInfo, Services } from './services.js';
import { WorkerJobRunner, type WorkerRunnerOptions } from './worker-runner.js';
import { DatasetBrowser } from './datasets.js';

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
  const datasets = new DatasetBrowser();
  let models: ModelInfo[] | undefined;
  let matcherReady: Promise<void> | undefined;
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
      const s = readCif(text);
      return { lattice: s.lattice, species: s.species, frac: s.frac };
    },
    writeStructure: async (s, format, title) => formatStructure(s, format, title),
    matchCifs: async (a, b) => {
      await (matcherReady ??= initMatching());
      const m = matchCifs(a, b);
      return { match: m.match, rms: m.rms };
    },
    listModels: async () => (models ??= readShippedModels(modelsRoot)),
    listDatasets: async () => datasets.list(),
    datasetPage: async (name, split, q) => datasets.page(name, split, q),
  };
}
