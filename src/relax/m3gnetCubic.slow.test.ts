/**
 * Issue #15's check of the relaxation with the real potential: the 42 cubic crystals of the M3GNet
 * model card's benchmark (../shared/reference/m3gnet/cubic_lattice_dev.csv), built at their
 * Materials Project lattice constants and relaxed with M3GNet-MP-2021.2.8 (batched float32 engine
 * path) + FIRE + the exponential cell filter (fmax 0.01 eV/Å), land within 0.5 % of the lattice
 * constants matgl's M3GNet relaxation gives (measured: worst 0.24 %, Eu).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadM3GNet, m3gnetBatch } from '../potential/index.js';
import { M3GNET_TEST_WEIGHTS, skipWithoutWeights } from '../potential/testWeights.js';
import { volume } from '../crystal/lattice.js';
import { relaxStructures } from './relax.js';
import { cubicCrystal } from './testing/cubicCrystals.js';

const CSV = join(M3GNET_TEST_WEIGHTS, '..', 'cubic_lattice_dev.csv');

test('M3GNet relaxation reproduces matgl\'s cubic lattice constants within 0.5 %', { skip: skipWithoutWeights() || (!existsSync(CSV) && `${CSV} not found`) }, () => {
  const rows = readFileSync(CSV, 'utf8').trim().split('\n').slice(1).map((l) => {
    const m = /^"([^"]*)","([^"]*)",([\d.]+),([\d.]+),([\d.]+)$/.exec(l.trim());
    assert.ok(m, `unexpected row ${l}`);
    return { material: m[1]!, kind: m[2]!, aMp: Number(m[4]), aM3gnet: Number(m[5]) };
  });
  assert.equal(rows.length, 42);
  const model = loadM3GNet(M3GNET_TEST_WEIGHTS);
  const structures = rows.map((r) => cubicCrystal(r.material, r.kind, r.aMp));
  const results = relaxStructures(structures, (s) => m3gnetBatch(model, s), { fmax: 0.01, maxSteps: 300 });
  const off: string[] = [];
  rows.forEach((r, k) => {
    const res = results[k]!;
    assert.ok(res.converged, `${r.material} did not converge in ${res.steps} steps`);
    const a = Math.cbrt(volume(res.final.lattice));
    const dev = (100 * (a - r.aM3gnet)) / r.aM3gnet;
    if (Math.abs(dev) > 0.5) off.push(`${r.material} (${r.kind}): ${a.toFixed(4)} Å vs ${r.aM3gnet} (${dev.toFixed(2)} %)`);
  });
  assert.deepEqual(off, []);
});
