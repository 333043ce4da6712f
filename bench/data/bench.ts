/**
 * Data-pipeline throughput (issue #2): CIFs parsed per second, full
 * preparation time (parse + Niggli + orientation, spec §1.2), and cache load
 * time, for every installed split (kldm data fetch all). Run: npx tsx bench/data/bench.ts [--json out.json]
 */
import { readCif } from '../../src/crystal/io/cif.js';
import { readSplitSource } from '../../src/data/source.js';
import { listDatasets } from '../../src/data/registry.js';
import { loadSplit, prepareSplit } from '../../src/data/prepare.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import { cpus, loadavg } from 'node:os';

interface Row {
  dataset: string;
  split: string;
  rows: number;
  readCsvMs: number;
  parseCifPerSec: number;
  prepareSec: number;
  prepareCifPerSec: number;
  cacheLoadMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const rows: Row[] = [];
for (const d of listDatasets()) {
  for (const s of d.splits) {
    let t = performance.now();
    const src = readSplitSource(d.name, s.split);
    const readCsvMs = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < src.cifs.length; i++) readCif(src.cifs[i]!);
    const parseSec = (performance.now() - t) / 1000;
    const prep = prepareSplit(d.name, s.split); // also (re)writes the cache
    const loads: number[] = [];
    for (let k = 0; k < 5; k++) {
      t = performance.now();
      loadSplit(d.name, s.split, { quiet: true });
      loads.push(performance.now() - t);
    }
    rows.push({
      dataset: d.name,
      split: s.split,
      rows: src.cifs.length,
      readCsvMs: Math.round(readCsvMs),
      parseCifPerSec: Math.round(src.cifs.length / parseSec),
      prepareSec: Number(prep.seconds.toFixed(2)),
      prepareCifPerSec: Math.round(src.cifs.length / prep.seconds),
      cacheLoadMs: Number(median(loads).toFixed(1)),
    });
    const r = rows[rows.length - 1]!;
    console.log(`${r.dataset.padEnd(10)} ${r.split.padEnd(6)} ${String(r.rows).padStart(6)} rows  gunzip+CSV ${String(r.readCsvMs).padStart(5)} ms  parse ${String(r.parseCifPerSec).padStart(7)} CIF/s  prepare ${r.prepareSec.toFixed(2).padStart(6)} s (${String(r.prepareCifPerSec).padStart(6)} CIF/s)  cache load ${r.cacheLoadMs.toFixed(1).padStart(6)} ms`);
  }
}
const jsonAt = process.argv.indexOf('--json');
if (jsonAt > 0 && process.argv[jsonAt + 1]) {
  writeFileAtomic(process.argv[jsonAt + 1]!, JSON.stringify({ node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, loadAverage1m: loadavg()[0], date: new Date().toISOString(), rows }, null, 1) + '\n');
}
