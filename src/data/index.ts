/**
 * Benchmark datasets public API: registry, preparation + cache, statistics.
 */
export type { PreparedSplit, LatticeStats } from './types.js';
export { listDatasets, getDataset, getSplit, installedSplit, dataDirOverride, SPLIT_NAMES, type DatasetInfo, type SplitInfo, type SplitName, type InstalledSplit } from './registry.js';
export {
  loadSplit, loadSplitCifs, loadLatticeStats, loadSplitFailures, prepareSplit, readSplitCache, splitCachePath, latticeStatsPath, cacheDir,
  latticeStatsOnly, type PrepareOptions, type PrepareResult, type LoadOptions, type RowFailure,
} from './prepare.js';
export { computeLatticeStats, summariseSplit, toReferenceJson, MIN_LATTICE_SCALE, type LatticeStatsWithCounts, type SplitSummary } from './stats.js';
export { readSplitSource, type SplitSource } from './source.js';
export { parseCsv, type CsvTable } from './csv.js';
