/**
 * The real library behind the server: formula parsing and structure I/O from
 * src/crystal, prediction from src/predict (in worker threads), matching from
 * src/eval, datasets from src/data, shipped models from models/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expandSites, parseFormula } from '../crystal/composition.js';
import { chooseModel, dngTypeDiffusion, listModels, modelsRoot } from '../predict/registry.js';
import { HttpError } from './http-error.js';
import { formatStructure, readCif } from '../crystal/io/index.js';
import { initMatching, matchCifs } from '../eval/match.js';
import type { ModelInfo, Services } from './services.js';
import { WorkerPool, type WorkerPoolOptions } from './worker-pool.js';
import { DatasetBrowser } from './datasets.js';

/** Shipped models (src/predict/registry) with their model cards; the manifest minus the large network/statistics blocks. */
export function readShippedModels(root = modelsRoot()): ModelInfo[] {
  const out: ModelInfo[] = [];
  for (const { manifest, dir } of listModels(root)) {
    const { netConfig: _net, latticeStats: _stats, trainConfig: _train, ...meta } = manifest;
    const ascending = (keys: string[]): number[] => keys.map(Number).filter((n) => Number.isInteger(n) && n > 0).sort((a, b) => a - b);
    const info: ModelInfo = {
      name: manifest.name,
      task: manifest.task === 'dng' ? 'dng' : 'csp',
      atomCounts: ascending(Object.keys(manifest.latticeStats.byAtomCount)),
      meta: meta as unknown as Record<string, unknown>,
    };
    if (info.task === 'dng') {
      const histogram = manifest.trainingRange.atomCounts;
      info.dng = {
        typeDiffusion: dngTypeDiffusion(manifest).kind,
        trainingAtomCounts: histogram ? ascending(Object.keys(histogram).filter((k) => (histogram[k] ?? 0) > 0)) : null,
      };
    }
    const cardPath = join(dir, 'MODEL_CARD.md');
    if (existsSync(cardPath)) info.card = readFileSync(cardPath, 'utf8');
    out.push(info);
  }
  return out;
}

/** Options of the prediction runner. Models come from $KLDM_MODELS_DIR or the package's models/ (src/predict/registry), in the server and in its worker threads alike. */
export type DefaultServiceOptions = WorkerPoolOptions;

export function defaultServices(options: DefaultServiceOptions = {}): Services {
  const root = modelsRoot();
  const datasets = new DatasetBrowser();
  let models: ModelInfo[] | undefined;
  let matcherReady: Promise<void> | undefined;
  return {
    runner: new WorkerPool(options),
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
    // read once: models are installed before the server starts
    listModels: async () => (models ??= readShippedModels(root)),
    precheck: async (request) => {
      if ((models ??= readShippedModels(root)).length === 0) {
        throw new HttpError(503, 'no_models', `no models are installed in ${root}; train and export one first (docs/training.md)`);
      }
      // as predictStructures: the formula's counts times z (the formula may carry its own "x2" multiple)
      const c = parseFormula(request.formula, { maxAtoms: 1_000_000 });
      const sites = expandSites({ elements: c.elements, counts: c.counts.map((n) => n * request.z) });
      chooseModel(sites, request.model, root);
    },
    listDatasets: async () => datasets.list(),
    datasetPage: async (name, split, q) => datasets.page(name, split, q),
  };
}
