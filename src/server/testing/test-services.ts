/**
 * Services for tests and the load benchmark: the real worker-thread runner
 * around the deterministic fake predictor, the real formula parser and CIF
 * reader/writer, and small deterministic doubles for the model list, the
 * matcher and the datasets.
 */
import { defaultServices } from '../default-services.js';
import { WorkerPool } from '../worker-pool.js';
import type { DatasetEntry, Services } from '../services.js';
import type { Structure } from '../../crystal/types.js';
import { InputError } from '../../util/errors.js';
import { volume } from '../../crystal/lattice.js';

const EXT = import.meta.url.endsWith('.ts') ? 'ts' : 'js';

export function fakePredictModule(): string {
  return new URL(`./fake-predict.${EXT}`, import.meta.url).href;
}

function cubic(a: number, species: string[], frac: number[]): Structure {
  return { lattice: [a, 0, 0, 0, a, 0, 0, 0, a], species, frac: Float64Array.from(frac) };
}

const DATASET: DatasetEntry[] = [
  { id: 'ds-0', formula: 'NaCl', structure: cubic(2.8, ['Na', 'Cl'], [0, 0, 0, 0.5, 0.5, 0.5]) },
  { id: 'ds-1', formula: 'CsCl', structure: cubic(4.1, ['Cs', 'Cl'], [0, 0, 0, 0.5, 0.5, 0.5]) },
  { id: 'ds-2', formula: 'Po', structure: cubic(3.35, ['Po'], [0, 0, 0]) },
];

/** the fake predictor serves any cell size */
export const ANY_SIZE: number[] = Array.from({ length: 100 }, (_, i) => i + 1);

export function testServices(overrides: Partial<Services> = {}): Services {
  const real = defaultServices();
  return {
    ...real,
    runner: new WorkerPool({ predictModule: fakePredictModule(), generateModule: fakePredictModule(), abortGraceMs: 300, startupGraceMs: 300, maxHeapMb: 256 }),
    precheck: undefined, // the fake predictor serves any size
    listModels: async () => [
      { name: 'fake', task: 'csp', atomCounts: ANY_SIZE, meta: { description: 'deterministic test double' }, card: '# fake\nNot a model.' },
      { name: 'fake-busy', task: 'csp', atomCounts: ANY_SIZE, meta: {} },
      { name: 'fake-error', task: 'csp', atomCounts: ANY_SIZE, meta: {} },
      // served by fake-predict.ts's generateStructures (types unmasked one by one)
      { name: 'fake-dng', task: 'dng', atomCounts: ANY_SIZE, dng: { typeDiffusion: 'masking', trainingAtomCounts: [2, 3, 4] }, meta: { description: 'deterministic generation double' } },
    ],
    // stand-in matcher: same species multiset and volumes within 10 % (the real one is src/eval's)
    matchCifs: async (cifA, cifB) => {
      const a = await real.parseCif(cifA);
      const b = await real.parseCif(cifB);
      const same = [...a.species].sort().join() === [...b.species].sort().join();
      const va = volume(a.lattice);
      const vb = volume(b.lattice);
      const ok = same && Math.abs(va - vb) / Math.max(va, vb) < 0.1;
      return { match: ok, rms: ok ? Math.abs(va - vb) / Math.max(va, vb) : null };
    },
    listDatasets: async () => [{ name: 'toy', splits: ['test'] }],
    datasetPage: async (name, split, q) => {
      if (q.formula !== undefined && !/^[A-Za-z0-9()]+$/.test(q.formula)) throw new InputError('bad formula filter');
      const hits = DATASET.filter((e) => q.formula === undefined || e.formula === q.formula);
      return { dataset: name, split, offset: q.offset, limit: q.limit, total: hits.length, items: hits.slice(q.offset, q.offset + q.limit) };
    },
    ...overrides,
  };
}
