/**
 * The LP hull against closed forms and against Debian pymatgen's PhaseDiagram on MP-20
 * (fixture: bench/reference/hull_pymatgen.py; references = MP-20 train + val from the asset store).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConvexHull } from './hull.js';
import { compositionOf, mp20HullEntries } from './mp20Hull.js';
import { assetStatus } from '../assets/index.js';

test('binary hull: closed forms (a line between two phases, below, above, the elements)', async () => {
  // A-B with AB at -1 eV/atom and A3B at -0.5 (above the A..AB line, -0.5 at x_B = 0.25: on it)
  const hull = await ConvexHull.create([
    { id: 'AB', composition: { Na: 1, Cl: 1 }, energyPerAtom: -1 },
    { id: 'A3B', composition: { Na: 3, Cl: 1 }, energyPerAtom: -0.4 },
    { id: 'AB2', composition: { Na: 1, Cl: 2 }, energyPerAtom: -0.9 },
  ]);
  // x_Cl = 0.25: hull = 0.5 * (0 + -1) = -0.5; A3B at -0.4 is 0.1 above
  assert.ok(Math.abs(hull.eAboveHull({ Na: 3, Cl: 1 }, -0.4) - 0.1) < 1e-9);
  // AB2 (x = 2/3): between AB (x=1/2, -1) and Cl (x=1, 0): hull = -1 * (1/3)/(1/2) = -2/3; AB2 at -0.9 is below → on hull, and it is a vertex
  const ab2 = hull.hullAt({ Na: 1, Cl: 2 });
  assert.ok(Math.abs(ab2.hullEnergy + 0.9) < 1e-9);
  assert.deepEqual(ab2.decomposition.map((d) => d.id), ['AB2']);
  assert.ok(Math.abs(hull.eAboveHull({ Na: 2, Cl: 2 }, -1.2) + 0.2) < 1e-9);
  assert.equal(hull.hullAt({ Na: 1 }).hullEnergy, 0);
  // an element with no entries (K) is a reference at 0
  assert.ok(Math.abs(hull.hullAt({ K: 1, Cl: 1 }).hullEnergy) < 1e-12);
  assert.throws(() => hull.hullAt({}), /empty composition/);
});

const fixture = JSON.parse(readFileSync(new URL('./fixtures/hull_mp20.json', import.meta.url), 'utf8')) as {
  references_count: number;
  queries: { id: string; formula: string; formation_energy_per_atom: number; e_above_hull: number; decomposition: [string, number][] }[];
};

test('E_hull of 300 MP-20 test materials against a train+val hull equals pymatgen PhaseDiagram', { skip: assetStatus('mp_20').installed ? false : 'mp_20 not installed' }, async () => {
  const { entries } = mp20HullEntries(['train', 'val']);
  assert.equal(entries.length, fixture.references_count);
  const hull = await ConvexHull.create(entries);
  let worst = 0;
  for (const q of fixture.queries) {
    const e = hull.eAboveHull(compositionOf(q.formula), q.formation_energy_per_atom);
    worst = Math.max(worst, Math.abs(e - q.e_above_hull));
    assert.ok(Math.abs(e - q.e_above_hull) < 1e-7, `${q.id} ${q.formula}: ${e} vs pymatgen ${q.e_above_hull}`);
  }
  assert.ok(worst < 1e-7);
});
