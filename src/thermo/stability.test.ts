import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConvexHull } from './hull.js';
import { StabilityScorer } from './stability.js';
import { cubicCrystal } from '../relax/testing/cubicCrystals.js';

test('formation energy = (E + MP2020 correction − Σ n μ) / N and E_hull against the given hull', async () => {
  const hull = await ConvexHull.create([{ id: 'NaCl-ref', composition: { Na: 1, Cl: 1 }, energyPerAtom: -2.0 }]);
  const scorer = StabilityScorer.fromParts({ potential: 'test', mu: { Na: { energyPerAtom: -1.3, materialId: 'a' }, Cl: { energyPerAtom: -1.8, materialId: 'b' } } }, hull);
  const nacl = cubicCrystal('NaCl', 'Halite', 5.6); // 4 Na + 4 Cl; MP2020: Cl anion correction -0.614 eV per Cl
  const r = scorer.score(nacl, -27.0);
  const expected = (-27.0 + 4 * -0.614 - 4 * -1.3 - 4 * -1.8) / 8;
  assert.ok(Math.abs(r.correction - 4 * -0.614) < 1e-12);
  assert.ok(Math.abs(r.formationEnergyPerAtom! - expected) < 1e-12);
  assert.ok(Math.abs(r.eAboveHull! - (expected + 2.0)) < 1e-9);
  const kcl = scorer.score(cubicCrystal('KCl', 'Halite', 6.3), -25);
  assert.equal(kcl.formationEnergyPerAtom, null);
  assert.match(kcl.note!, /no elemental phase of K/);
});
