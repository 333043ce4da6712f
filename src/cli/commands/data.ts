/**
 * `kldm data list | fetch | prepare | stats`: the benchmark datasets (issues #2, #12).
 */
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { InputError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { getDataset, listDatasets, installedSplit } from '../../data/registry.js';
import { kldmHome } from '../../assets/home.js';
import { assetStatus, installCommand } from '../../assets/store.js';
import { runFetch, table } from './assets.js';
import { loadLatticeStats, loadSplit, prepareSplit, readSplitCache, splitCachePath } from '../../data/prepare.js';
import { summariseSplit } from '../../data/stats.js';
import { statsSvg } from '../../data/plot.js';

const usage = `Usage:
  kldm data list                       datasets, splits, row counts, which file is installed, cache status
  kldm data fetch <dataset...>|all [--from <dir|url>]
                                       install datasets (= kldm assets fetch; verified, resumable)
  kldm data prepare <dataset|all> [--split s] [--force] [--json report.json]
                                       parse + preprocess every CIF (spec §1.2), cache to $KLDM_HOME/cache/<dataset>/
  kldm data stats <dataset> [--split s] [--json out.json] [--svg out.svg]
                                       atom counts, elements, lattice statistics (+ §1.3 loc/scale for train)

Datasets: ${listDatasets().map((d) => d.name).join(', ')}
Files: $KLDM_HOME/assets/<dataset>/ (default ~/.cache/kldm), installed by kldm data fetch; see docs/data.md
`;

function splitsOf(dataset: string, split: string | undefined): string[] {
  const d = getDataset(dataset);
  if (split === undefined) return d.splits.map((s) => s.split);
  return [split];
}

function runList(): number {
  const rows: (string | number)[][] = [['dataset', 'split', 'rows', 'installed file', 'cache']];
  const missing: string[] = [];
  for (const d of listDatasets()) {
    for (const s of d.splits) {
      const inst = installedSplit(d.name, s.split);
      if (!inst) {
        rows.push([d.name, s.split, s.rows, 'NOT INSTALLED', '-']);
        continue;
      }
      const c = readSplitCache(d.name, s.split);
      const status = 'header' in c ? `ready (${c.header.count} structures, ${c.header.failures.length} failed)` : c.reason;
      rows.push([d.name, s.split, s.rows, `${inst.file}  [${inst.variant}]`, status]);
    }
    for (const m of d.missingSplits) rows.push([d.name, m, '-', '(no known source, see docs/data.md)', '-']);
    if (!assetStatus(d.name).installed) missing.push(d.name);
  }
  console.log(table(rows, ['l', 'l', 'r']));
  console.log(`\nfiles: ${kldmHome()}/assets/<dataset>/   caches: ${kldmHome()}/cache/<dataset>/`);
  if (missing.length > 0) {
    console.log(`not installed: ${missing.join(', ')}; install with: ${missing.map((n) => installCommand(n)).join('; ')}  (or kldm data fetch all; from a local mirror add --from <dir>)`);
  }
  return 0;
}

function runPrepare(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { split: { type: 'string' }, force: { type: 'boolean', default: false }, json: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new InputError('data prepare needs exactly one dataset name (or "all")');
  const datasets = positionals[0] === 'all' ? listDatasets().map((d) => d.name) : [getDataset(positionals[0]!).name];
  if (positionals[0] === 'all' && values.split) throw new InputError('--split cannot be combined with "all"');
  const reports: unknown[] = [];
  let failedTotal = 0;
  for (const [dataset, split] of datasets.flatMap((d) => splitsOf(d, values.split).map((s) => [d, s] as const))) {
    const cached = values.force ? { reason: 'forced' } : readSplitCache(dataset, split);
    let rows: number;
    let count: number;
    let failures;
    let seconds: number;
    let note: string;
    let atoms: number;
    if ('header' in cached) {
      ({ failures } = cached.header);
      rows = cached.header.source.rows;
      count = cached.header.count;
      seconds = cached.header.prepareSeconds;
      atoms = cached.header.totalAtoms;
      note = `up to date (${splitCachePath(dataset, split)}; --force to rebuild)`;
    } else {
      const r = prepareSplit(dataset, split, { progress: true });
      ({ failures, rows, seconds } = r);
      count = r.split.materialIds.length;
      atoms = r.split.atomTypes.length;
      note = r.cacheFile ? `cached to ${r.cacheFile}` : `NOT cached: ${r.cacheError}`;
    }
    failedTotal += failures.length;
    console.log(`${dataset}/${split}: ${rows} rows, ${count} prepared, ${failures.length} failed, ${atoms} atoms, ${seconds.toFixed(2)} s (${(rows / Math.max(seconds, 1e-9)).toFixed(0)} CIF/s); ${note}`);
    for (const f of failures.slice(0, 20)) console.log(`  row ${f.row} (${f.materialId}): ${f.reason}`);
    if (failures.length > 20) console.log(`  ... ${failures.length - 20} more (see --json)`);
    reports.push({ dataset, split, rows, prepared: count, atoms, failures, seconds });
  }
  if (reports.length > 1) {
    const r = reports as { rows: number; prepared: number }[];
    console.log(`total: ${r.length} splits, ${r.reduce((n, x) => n + x.rows, 0)} rows, ${r.reduce((n, x) => n + x.prepared, 0)} prepared, ${failedTotal} failed`);
  }
  if (values.json) {
    writeFileAtomic(values.json, JSON.stringify(reports, null, 1) + '\n');
    console.log(`report written to ${values.json}`);
  }
  return failedTotal > 0 ? 1 : 0;
}

function runStats(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { split: { type: 'string' }, json: { type: 'string' }, svg: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new InputError('data stats needs exactly one dataset name');
  const d = getDataset(positionals[0]!);
  const split = values.split ?? (d.splits.some((s) => s.split === 'train') ? 'train' : d.splits[0]!.split);
  const prepared = loadSplit(d.name, split);
  const summary = summariseSplit(prepared);
  console.log(`${d.name}/${split}: ${summary.structures} structures, ${summary.atoms} atoms${installedSplit(d.name, split)?.reconstructed ? ' (reconstructed split, see docs/data.md)' : ''}\n`);
  const ns = Object.keys(summary.atomCountHistogram).map(Number).sort((a, b) => a - b);
  const maxCount = Math.max(...ns.map((n) => summary.atomCountHistogram[n]!));
  console.log('Atoms per cell');
  console.log(table([['N', 'structures', ''], ...ns.map((n) => [n, summary.atomCountHistogram[n]!, '#'.repeat(Math.max(1, Math.round((40 * summary.atomCountHistogram[n]!) / maxCount)))])], ['r', 'r', 'l']));
  console.log(`\nElements (${summary.elements.length} distinct; top 25 by atoms)`);
  console.log(table([['element', 'Z', 'atoms', 'structures'], ...summary.elements.slice(0, 25).map((e) => [e.symbol, e.Z, e.atoms, e.structures])], ['l', 'r', 'r', 'r']));
  console.log('\nLattice (after Niggli reduction, spec §1.2)');
  const f = (v: number) => v.toFixed(3);
  console.log(table([['parameter', 'min', 'mean', 'max', 'std'], ...Object.entries(summary.lattice).map(([k, s]) => [k, f(s.min), f(s.mean), f(s.max), f(s.std)])], ['l', 'r', 'r', 'r', 'r']));
  let stats: ReturnType<typeof loadLatticeStats> | undefined;
  if (split === 'train') {
    stats = loadLatticeStats(d.name);
    console.log('\nLog-length statistics per atom count (spec §1.3 with §13.13; used to normalise lattice lengths)');
    console.log(table([['N', 'M_N', 'loc_a', 'loc_b', 'loc_c', 'scale_a', 'scale_b', 'scale_c'], ...Object.keys(stats.byAtomCount).map(Number).sort((a, b) => a - b).map((n) => {
      const e = stats!.byAtomCount[n]!;
      return [n, stats!.counts[n]!, ...e.loc.map((v) => v.toFixed(4)), ...e.scale.map((v) => v.toFixed(4))];
    })], ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
  }
  if (values.json) {
    writeFileAtomic(values.json, JSON.stringify({ ...summary, latticeStats: stats }, null, 1) + '\n');
    console.log(`\nJSON written to ${values.json}`);
  }
  if (values.svg) {
    writeFileAtomic(values.svg, statsSvg(summary, prepared));
    console.log(`${values.json ? '' : '\n'}SVG written to ${values.svg}`);
  }
  return 0;
}

export const dataCommand: Command = {
  name: 'data',
  summary: 'benchmark datasets: list, fetch, prepare (parse + preprocess + cache), stats',
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'list':
        if (rest.length > 0) throw new InputError(`data list takes no arguments (got ${rest.join(' ')})`);
        return runList();
      case 'fetch':
        return runFetch(rest, listDatasets().map((d) => d.name), 'dataset');
      case 'prepare':
        return runPrepare(rest);
      case 'stats':
        return runStats(rest);
      case undefined:
        console.log(usage);
        return 1;
      default:
        throw new InputError(`unknown data subcommand "${sub}" (use list, fetch, prepare or stats)`);
    }
  },
};

