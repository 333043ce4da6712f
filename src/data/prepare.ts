/**
 * Dataset preparation (spec §1.2-1.3) and the public loading API used by
 * training, evaluation and the server:
 *   loadSplit(dataset, split)      -> PreparedSplit (prepares + caches on first use)
 *   loadLatticeStats(dataset)      -> LatticeStats from the train split (§1.3, §13.13)
 *   loadSplitCifs(dataset, split)  -> raw CIF strings, same order as loadSplit().materialIds
 *   listDatasets()                 -> the registry
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { LatticeStats, PreparedSplit } from './types.js';
import { InputError, KldmError, errorMessage } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { readCif } from '../crystal/io/cif.js';
import { atomicNumber } from '../crystal/elements.js';
import { preprocessStructure } from '../crystal/structure.js';
import { toParameters } from '../crystal/lattice.js';
import { dataDirOverride, getDataset, getSplit } from './registry.js';
import { derivedCacheDir } from '../assets/home.js';
import { readSplitSource, sha256 } from './source.js';
import { CacheInvalid, decodeSplitCache, encodeSplitCache, type CacheHeader, type RowFailure } from './cache.js';
import { computeLatticeStats, toReferenceJson, type LatticeStatsWithCounts } from './stats.js';

export { listDatasets } from './registry.js';
export type { RowFailure } from './cache.js';

export interface PrepareOptions {
  /** print a progress line to stderr (CLI); default false */
  progress?: boolean;
  /** do not write the cache file */
  noCache?: boolean;
}

export interface PrepareResult {
  split: PreparedSplit & { sourceRows: Int32Array };
  /** rows in the CSV */
  rows: number;
  failures: RowFailure[];
  seconds: number;
  /** cache file written (undefined with noCache or when the folder is read-only) */
  cacheFile?: string;
  /** why the cache could not be written, if it could not */
  cacheError?: string;
}

/**
 * Folder of a dataset's preprocessed caches: $KLDM_HOME/cache/<dataset>
 * (derived data, never in the repository); with the KLDM_DATA_DIR override,
 * beside those files (<dir>/<dataset>/cache), so other data never mixes in.
 */
export function cacheDir(dataset: string): string {
  const name = getDataset(dataset).name;
  const override = dataDirOverride();
  return override !== undefined ? join(override, name, 'cache') : derivedCacheDir(name);
}

export function splitCachePath(dataset: string, split: string): string {
  return join(cacheDir(dataset), `${split}.bin`);
}

function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel.startsWith('..') ? p : rel;
}

/**
 * Parses and preprocesses every CIF of a split (spec §1.2): parse, Niggli
 * reduction, standard orientation, keep fractional coordinates and site order,
 * Z from the element; lengths (Å) and angles (°) from the reduced lattice.
 * A row that fails is recorded (row, material_id, reason) and skipped.
 */
export function prepareSplit(dataset: string, split: string, options: PrepareOptions = {}): PrepareResult {
  const t0 = Date.now();
  const src = readSplitSource(dataset, split);
  const M = src.cifs.length;
  const progress = new Progress({ label: `prepare ${src.dataset}/${split}`, total: M, unit: 'CIF', quiet: !options.progress });
  const materialIds: string[] = [];
  const sourceRows: number[] = [];
  const offsets: number[] = [0];
  const types: number[] = [];
  const frac: number[] = [];
  const lengths: number[] = [];
  const angles: number[] = [];
  const failures: RowFailure[] = [];
  for (let row = 0; row < M; row++) {
    const id = src.materialIds[row]!;
    try {
      const parsed = readCif(src.cifs[row]!, { source: `${displayPath(src.path)} row ${row} (${id})` });
      const s = preprocessStructure(parsed);
      const p = toParameters(s.lattice);
      const z: number[] = [];
      for (const e of s.species) z.push(atomicNumber(e));
      for (const v of [p.a, p.b, p.c, p.alpha, p.beta, p.gamma]) {
        if (!Number.isFinite(v)) throw new InputError('non-finite lattice parameter after preprocessing');
      }
      types.push(...z);
      for (let i = 0; i < s.frac.length; i++) frac.push(s.frac[i]!);
      lengths.push(p.a, p.b, p.c);
      angles.push(p.alpha, p.beta, p.gamma);
      offsets.push(types.length);
      materialIds.push(id);
      sourceRows.push(row);
    } catch (err) {
      failures.push({ row, materialId: id, reason: errorMessage(err) });
    }
    if ((row & 1023) === 0 && row + 1 < M) progress.update(row + 1);
  }
  progress.update(M, failures.length ? `${failures.length} failed` : '');
  if (process.stderr.isTTY) progress.finish(failures.length ? `${failures.length} failed` : '');
  const prepared: PreparedSplit & { sourceRows: Int32Array } = {
    dataset: src.dataset,
    split,
    materialIds,
    atomOffsets: Int32Array.from(offsets),
    atomTypes: Int32Array.from(types),
    frac: Float32Array.from(frac),
    lengths: Float32Array.from(lengths),
    angles: Float32Array.from(angles),
    sourceRows: Int32Array.from(sourceRows),
  };
  const seconds = (Date.now() - t0) / 1000;
  const result: PrepareResult = { split: prepared, rows: M, failures, seconds };
  if (!options.noCache) {
    const path = splitCachePath(dataset, split);
    try {
      const bytes = encodeSplitCache(prepared, {
        dataset: src.dataset,
        split,
        source: { file: getSplit(dataset, split).file, gzSize: src.gzSize, gzSha256: src.gzSha256, rows: M },
        failures,
        createdAt: new Date().toISOString(),
        prepareSeconds: seconds,
      });
      mkdirSync(dirname(path), { recursive: true });
      writeFileAtomic(path, bytes);
      result.cacheFile = path;
    } catch (err) {
      result.cacheError = `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`;
    }
  }
  return result;
}

/** Loads a cache file if it is valid and matches the current source file; otherwise says why not. */
export function readSplitCache(dataset: string, split: string): { split: PreparedSplit & { sourceRows: Int32Array }; header: CacheHeader } | { reason: string } {
  const path = splitCachePath(dataset, split);
  if (!existsSync(path)) return { reason: 'not prepared yet' };
  const info = getSplit(dataset, split);
  let decoded;
  try {
    decoded = decodeSplitCache(readFileSync(path), displayPath(path));
  } catch (err) {
    if (err instanceof CacheInvalid) return { reason: err.message };
    throw err;
  }
  const src = decoded.header.source;
  const gzSize = statSync(info.path).size;
  if (src.gzSize !== gzSize || src.gzSha256 !== sha256(readFileSync(info.path))) {
    return { reason: `${displayPath(path)} is stale (${info.file} changed since it was prepared)` };
  }
  return decoded;
}

function notice(message: string): void {
  process.stderr.write(`kldm: ${message}\n`);
}

export interface LoadOptions {
  /** suppress the one-line notice when the split has to be prepared */
  quiet?: boolean;
}

/**
 * The preprocessed split (spec §1.2), from the binary cache; prepares and
 * caches it first when the cache is missing, stale or damaged (one notice line
 * on stderr). Rows that failed preprocessing are absent (see `sourceRows`).
 */
export function loadSplit(dataset: string, split: string, options: LoadOptions = {}): PreparedSplit {
  getSplit(dataset, split); // a split that is not installed fails here, naming the command that installs it
  const cached = readSplitCache(dataset, split);
  if ('split' in cached) return cached.split;
  const name = getDataset(dataset).name;
  if (!options.quiet) {
    const why = cached.reason === 'not prepared yet' ? 'first use' : cached.reason;
    notice(`preparing ${name}/${split} (${why}); cached to ${displayPath(splitCachePath(dataset, split))}`);
  }
  const r = prepareSplit(dataset, split);
  if (r.cacheError && !options.quiet) notice(`warning: ${r.cacheError}; the split will be prepared again next time`);
  if (r.failures.length > 0 && !options.quiet) notice(`${r.failures.length} of ${r.rows} rows of ${name}/${split} failed preprocessing and were skipped (kldm data prepare ${name} --split ${split} lists them)`);
  return r.split;
}

/** Rows that failed preprocessing, as recorded in the cache (prepares if needed). */
export function loadSplitFailures(dataset: string, split: string): RowFailure[] {
  const cached = readSplitCache(dataset, split);
  if ('header' in cached) return cached.header.failures;
  return prepareSplit(dataset, split).failures;
}

/**
 * Raw CIF text of each crystal of `loadSplit(dataset, split)`, exactly as
 * stored in the CSV, in the same order (failed rows are left out likewise).
 */
export function loadSplitCifs(dataset: string, split: string): string[] {
  const prepared = loadSplit(dataset, split);
  const src = readSplitSource(dataset, split);
  const rows = prepared.sourceRows;
  if (!rows) return src.cifs;
  const out: string[] = [];
  for (let i = 0; i < rows.length; i++) out.push(src.cifs[rows[i]!]!);
  return out;
}

const STATS_FORMAT = 1;

interface StatsFile extends LatticeStatsWithCounts {
  format: number;
  dataset: string;
  trainCachePayloadSha256: string;
}

export function latticeStatsPath(dataset: string): string {
  return join(cacheDir(dataset), 'lattice_stats.json');
}

/**
 * Per-atom-count lattice statistics (spec §1.3, §13.13) from the train split,
 * cached as cache/lattice_stats.json (plus cache/train_loc_scale.json in the
 * reference format). Throws InputError for datasets without a train split here.
 */
export function loadLatticeStats(dataset: string): LatticeStatsWithCounts {
  const d = getDataset(dataset);
  if (!d.splits.some((s) => s.split === 'train')) {
    throw new InputError(`dataset ${d.name} has no train split (see docs/data.md), so its lattice statistics (spec §1.3) cannot be computed`);
  }
  let cached = readSplitCache(d.name, 'train');
  if (!('header' in cached)) {
    loadSplit(d.name, 'train');
    cached = readSplitCache(d.name, 'train');
  }
  const path = latticeStatsPath(d.name);
  const trainHash = 'header' in cached ? cached.header.payloadSha256 : '';
  if (trainHash && existsSync(path)) {
    try {
      const f = JSON.parse(readFileSync(path, 'utf8')) as StatsFile;
      if (f.format === STATS_FORMAT && f.trainCachePayloadSha256 === trainHash) return { byAtomCount: f.byAtomCount, counts: f.counts };
    } catch {
      // unreadable stats file: recompute below
    }
  }
  const split = 'split' in cached ? cached.split : loadSplit(d.name, 'train', { quiet: true });
  const stats = computeLatticeStats(split);
  for (const [n, e] of Object.entries(stats.byAtomCount)) {
    if (![...e.loc, ...e.scale].every(Number.isFinite)) throw new KldmError(`lattice statistics for N = ${n} are not finite`);
  }
  if (trainHash) {
    try {
      const file: StatsFile = { format: STATS_FORMAT, dataset: d.name, trainCachePayloadSha256: trainHash, ...stats };
      writeFileAtomic(path, JSON.stringify(file, null, 1) + '\n');
      writeFileAtomic(join(cacheDir(d.name), 'train_loc_scale.json'), toReferenceJson(stats));
    } catch {
      // read-only data folder: statistics are recomputed next time (cheap)
    }
  }
  return stats;
}

/** LatticeStats without the counts (the plain contract). */
export function latticeStatsOnly(stats: LatticeStatsWithCounts): LatticeStats {
  return { byAtomCount: stats.byAtomCount };
}
