import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadLatticeStats, loadSplit, loadSplitCifs, loadSplitFailures, prepareSplit, readSplitCache, splitCachePath } from './prepare.js';
import { listDatasets, getSplit } from './registry.js';
import { kldmHome } from '../assets/home.js';
import { readCif } from '../crystal/io/cif.js';
import { fromParameters, toParameters } from '../crystal/lattice.js';
import { isNiggliReduced, preprocessStructure } from '../crystal/structure.js';
import { atomicNumber } from '../crystal/elements.js';
import { cpuMs } from '../util/cpuTime.js';

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/num_atoms_distribution.json', import.meta.url), 'utf8')) as Record<string, number[]>;

function withDataDir<T>(dir: string, fn: () => T): T {
  const old = process.env['KLDM_DATA_DIR'];
  process.env['KLDM_DATA_DIR'] = dir;
  try {
    return fn();
  } finally {
    if (old === undefined) delete process.env['KLDM_DATA_DIR'];
    else process.env['KLDM_DATA_DIR'] = old;
  }
}

test('splits are read from the asset store (the mirror installs MP-20 reconstructions); KLDM_DATA_DIR overrides it', () => {
  assert.ok(getSplit('perov_5', 'train').path.startsWith(join(kldmHome(), 'assets', 'perov_5')));
  withDataDir('/nonexistent-kldm', () => assert.throws(() => getSplit('perov_5', 'train'), /KLDM_DATA_DIR=\/nonexistent-kldm has no perov_5\/train.csv or perov_5\/train.csv.gz/));
  assert.throws(() => getSplit('mpts_52', 'train'), /has no train split \(the original file could not be obtained/);
  assert.throws(() => getSplit('nope', 'train'), /unknown dataset "nope" \(available: perov_5, mp_20, mpts_52, carbon_24\)/);
  assert.deepEqual(listDatasets().map((d) => d.name), ['perov_5', 'mp_20', 'mpts_52', 'carbon_24']);
  const mp20 = getSplit('mp_20', 'train');
  assert.ok(mp20.file.includes('reconstructed') && mp20.reconstructed && mp20.variant === 'reconstruction');
  // a store without the dataset: the error names the command that installs it
  const old = process.env['KLDM_HOME'];
  process.env['KLDM_HOME'] = mkdtempSync(join(tmpdir(), 'kldm-empty-home-'));
  try {
    assert.throws(() => loadSplit('carbon_24', 'val'), /dataset carbon_24 \(val split\) is not installed; install it with: kldm data fetch carbon_24/);
  } finally {
    if (old === undefined) delete process.env['KLDM_HOME'];
    else process.env['KLDM_HOME'] = old;
  }
});

test('a bad row never aborts: failures carry row, material_id and reason; cache staleness and damage are handled', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-data-'));
  mkdirSync(join(dir, 'perov_5'));
  const good = `data_ok\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\nloop_\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nSr 0 0 0\nTi 0.5 0.5 0.5\nO 0.5 0.5 0\n`;
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const csv = [
    'material_id,cif',
    `m-good,${q(good)}`,
    `m-partial,${q(good.replace('Ti 0.5 0.5 0.5', 'Ti 0.5 0.5 0.5').replace('_atom_site_fract_z\n', '_atom_site_fract_z\n_atom_site_occupancy\n').replace('Sr 0 0 0', 'Sr 0 0 0 0.5').replace('Ti 0.5 0.5 0.5', 'Ti 0.5 0.5 0.5 1').replace('O 0.5 0.5 0', 'O 0.5 0.5 0 1'))}`,
    `m-unknown,${q(good.replace('Ti 0.5', 'Qq 0.5'))}`,
    `m-good2,${q(good.replace('_cell_length_a 4', '_cell_length_a 4.2'))}`,
  ].join('\n') + '\n';
  writeFileSync(join(dir, 'perov_5', 'test.csv.gz'), gzipSync(csv));
  withDataDir(dir, () => {
    const r = prepareSplit('perov_5', 'test');
    assert.equal(r.rows, 4);
    assert.deepEqual(r.split.materialIds, ['m-good', 'm-good2']);
    assert.deepEqual([...r.split.sourceRows], [0, 3]);
    assert.deepEqual(r.failures.map((f) => [f.row, f.materialId]), [[1, 'm-partial'], [2, 'm-unknown']]);
    assert.match(r.failures[0]!.reason, /row 1 \(m-partial\).*atom site 'site 1'.*partial occupancy 0.5 \(Sr\)/);
    assert.match(r.failures[1]!.reason, /row 2 \(m-unknown\).*unknown element symbol "Qq"/);
    assert.ok(r.cacheFile, r.cacheError);
    assert.deepEqual(loadSplitFailures('perov_5', 'test'), r.failures);
    assert.deepEqual(loadSplitCifs('perov_5', 'test').map((c) => readCif(c).name), ['ok', 'ok']);
    assert.deepEqual([...loadSplit('perov_5', 'test').lengths.slice(3, 6)].map((v) => Math.round(v * 1e6) / 1e6), [4, 4, 4.2]); // Niggli: a <= b <= c
    // damaged cache -> reason, and loadSplit rebuilds it
    const path = splitCachePath('perov_5', 'test');
    const bytes = readFileSync(path);
    bytes[bytes.length - 3]! ^= 0x55;
    writeFileSync(path, bytes);
    const bad = readSplitCache('perov_5', 'test');
    assert.ok('reason' in bad && /damaged/.test(bad.reason), JSON.stringify('reason' in bad ? bad.reason : 'valid'));
    assert.equal(loadSplit('perov_5', 'test', { quiet: true }).materialIds.length, 2);
    assert.ok('split' in readSplitCache('perov_5', 'test'));
    // changed source -> stale
    writeFileSync(join(dir, 'perov_5', 'test.csv.gz'), gzipSync(`material_id,cif\nm-good,${q(good)}\n`));
    const stale = readSplitCache('perov_5', 'test');
    assert.ok('reason' in stale && /is stale/.test(stale.reason));
    assert.deepEqual(loadSplit('perov_5', 'test', { quiet: true }).materialIds, ['m-good']);
  });
});

test('Perov-5 row counts 11356 / 3787 / 3785, no failures, Z and standard orientation per spec §1.2', () => {
  const expected: Record<string, number> = { train: 11356, val: 3787, test: 3785 };
  for (const split of ['train', 'val', 'test']) {
    const s = loadSplit('perov_5', split);
    assert.equal(s.materialIds.length, expected[split], split);
    assert.equal(loadSplitFailures('perov_5', split).length, 0);
    assert.equal(s.atomTypes.length, 5 * expected[split]!);
  }
  const test = loadSplit('perov_5', 'test');
  const cifs = loadSplitCifs('perov_5', 'test');
  assert.equal(cifs.length, 3785);
  for (const g of [0, 1, 1000, 3784]) {
    const raw = readCif(cifs[g]!);
    assert.deepEqual([...test.atomTypes.slice(5 * g, 5 * g + 5)], raw.species.map((e) => atomicNumber(e)), `order of crystal ${g}`);
    const p = toParameters(raw.lattice); // Perov-5 cells are already Niggli-reduced: preprocessing keeps them
    assert.ok(isNiggliReduced(raw.lattice));
    assert.ok(Math.abs(test.lengths[3 * g]! - p.a) < 1e-5 && Math.abs(test.angles[3 * g + 2]! - p.gamma) < 1e-4);
    for (let k = 0; k < 15; k++) assert.ok(Math.abs(test.frac[15 * g + k]! - raw.frac[k]!) < 1e-6);
  }
  const stats = loadLatticeStats('perov_5');
  assert.deepEqual(Object.keys(stats.byAtomCount), ['5']);
  assert.equal(stats.counts[5], 11356);
});

test('MP-20 row counts 27136 / 9047 / 9046; atom-count distribution equals the reference constants; cached reload < 1 s', () => {
  const expected: Record<string, number> = { train: 27136, val: 9047, test: 9046 };
  for (const split of ['train', 'val', 'test']) {
    assert.equal(loadSplit('mp_20', split).materialIds.length, expected[split], split);
    assert.equal(loadSplitFailures('mp_20', split).length, 0);
  }
  const t0 = cpuMs();
  const train = loadSplit('mp_20', 'train');
  const ms = cpuMs() - t0; // CPU time: a loaded machine stretches the wall clock, not the work
  assert.ok(ms < 1000, `cached load took ${ms} ms of CPU time`);
  const counts = new Array<number>(21).fill(0);
  for (let g = 0; g < train.materialIds.length; g++) counts[train.atomOffsets[g + 1]! - train.atomOffsets[g]!]!++;
  const ref = fixtures['mp_20']!;
  for (let n = 0; n <= 20; n++) assert.ok(Math.abs(counts[n]! - ref[n]! * 27136) < 1e-6, `N = ${n}: ${counts[n]} vs ${ref[n]! * 27136}`);
  const stats = loadLatticeStats('mp_20');
  assert.deepEqual(Object.keys(stats.byAtomCount).map(Number), Array.from({ length: 20 }, (_, i) => i + 1));
  for (const e of Object.values(stats.byAtomCount)) assert.ok([...e.loc, ...e.scale].every((v) => Number.isFinite(v) && v > 0));
  // a sample of prepared cells equals a float64 re-run of the preprocessing, which is Niggli-reduced
  const cifs = loadSplitCifs('mp_20', 'train');
  for (let g = 0; g < train.materialIds.length; g += 97) {
    const s = preprocessStructure(readCif(cifs[g]!));
    assert.ok(isNiggliReduced(s.lattice), `crystal ${g}`);
    const p = toParameters(s.lattice);
    const stored = [...train.lengths.slice(3 * g, 3 * g + 3), ...train.angles.slice(3 * g, 3 * g + 3)];
    [p.a, p.b, p.c, p.alpha, p.beta, p.gamma].forEach((v, k) => assert.ok(Math.abs(v - stored[k]!) < 1e-5 * v, `crystal ${g} parameter ${k}`));
    const L = fromParameters(p);
    s.lattice.forEach((v, k) => assert.ok(Math.abs(v - L[k]!) < 1e-12, 'standard orientation'));
  }
  assert.throws(() => loadLatticeStats('carbon_24'), /no train split/);
});
