/**
 * Paging through the installed benchmark splits (GET /api/datasets/...).
 * A split's CSV is read once and kept (at most `maxSplits` splits, least
 * recently used dropped); CIFs are parsed only for the requested page. A
 * formula filter compares reduced compositions; the formulas of a split are
 * computed once, in chunks that yield to the event loop so that other requests
 * are still served meanwhile.
 */
import { readSplitSource } from '../data/source.js';
import { installedSplit, listDatasets as registryDatasets } from '../data/registry.js';
import { readCif } from '../crystal/io/cif.js';
import { compositionOf, parseFormula, reducedComposition, type Composition } from '../crystal/composition.js';
import type { DatasetInfo, DatasetPage } from './services.js';
import { InputError } from '../util/errors.js';

interface LoadedSplit {
  ids: string[];
  cifs: string[];
  /** canonical reduced-composition keys, computed on the first filtered request */
  keys?: Promise<string[]>;
}

/** order-independent key of a reduced composition: "Cl1|Na1" */
export function compositionKey(c: Composition): string {
  const r = reducedComposition(c);
  return r.elements
    .map((e, i) => `${e}${r.counts[i]}`)
    .sort()
    .join('|');
}

export class DatasetBrowser {
  private readonly loaded = new Map<string, LoadedSplit>();

  constructor(private readonly maxSplits = 2) {}

  /** Datasets with the splits installed in the asset store (kldm data fetch); the others are not offered. */
  list(): DatasetInfo[] {
    return registryDatasets()
      .map((d) => ({ name: d.name, splits: d.splits.filter((s) => installedSplit(d.name, s.split) !== undefined).map((s) => s.split) }))
      .filter((d) => d.splits.length > 0);
  }

  async page(name: string, split: string, q: { offset: number; limit: number; formula?: string }): Promise<DatasetPage> {
    const data = this.load(name, split);
    let rows: number[];
    if (q.formula !== undefined) {
      const want = compositionKey(parseFormula(q.formula, { maxAtoms: 1e6 }));
      const keys = await (data.keys ??= this.computeKeys(data));
      rows = [];
      for (let i = 0; i < keys.length; i++) if (keys[i] === want) rows.push(i);
    } else {
      rows = Array.from({ length: data.ids.length }, (_, i) => i);
    }
    const items: DatasetPage['items'] = [];
    for (const i of rows.slice(q.offset, q.offset + q.limit)) {
      const s = readCif(data.cifs[i]!, { source: `${name}/${split} row ${i}` });
      const structure = { lattice: s.lattice, species: s.species, frac: s.frac };
      const c = compositionOf(s.species);
      const formula = c.elements.map((e, k) => (c.counts[k] === 1 ? e : `${e}${c.counts[k]}`)).join('');
      items.push({ id: data.ids[i]!, formula, structure, cif: data.cifs[i]! });
    }
    return { dataset: name, split, offset: q.offset, limit: q.limit, total: rows.length, items };
  }

  private load(name: string, split: string): LoadedSplit {
    const key = `${name}/${split}`;
    let data = this.loaded.get(key);
    if (data) {
      this.loaded.delete(key); // re-insert: most recently used last
    } else {
      const src = readSplitSource(name, split);
      data = { ids: src.materialIds, cifs: src.cifs };
      while (this.loaded.size >= this.maxSplits) this.loaded.delete(this.loaded.keys().next().value!);
    }
    this.loaded.set(key, data);
    return data;
  }

  private async computeKeys(data: LoadedSplit): Promise<string[]> {
    const keys: string[] = new Array(data.cifs.length);
    for (let i = 0; i < data.cifs.length; i++) {
      try {
        keys[i] = compositionKey(compositionOf(readCif(data.cifs[i]!).species));
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        keys[i] = ''; // an unreadable row never matches a filter
      }
      if (i % 200 === 199) await new Promise((r) => setImmediate(r));
    }
    return keys;
  }
}
