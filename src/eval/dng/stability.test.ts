import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dngStability, dngStabilityFromRelaxed } from './stability.js';
import type { DngStructureReport } from './evaluate.js';
import { ConvexHull } from '../../thermo/hull.js';
import { StabilityScorer } from '../../thermo/stability.js';
import { lennardJones, lennardJonesBatch } from '../../relax/testing/lennardJones.js';
import { relaxStructures } from '../../relax/relax.js';
import { cubicCrystal } from '../../relax/testing/cubicCrystals.js';

const lj = { epsilon: 0.0104, sigma: 3.4, rc: 10.2 };
const report = (over: Partial<DngStructureReport>): DngStructureReport => ({
  id: 'x', constructed: true, compValid: true, structValid: true, valid: true, density: 1, nElements: 1,
  nearestStructDist: null, nearestCompDist: null, duplicateOf: -1, trainMatch: '', ...over,
});

test('DNG stability: relaxed with the potential, RMSD of a relaxed crystal ~0, E_hull from the references, S.U.N. over all generated', async () => {
  const ar = cubicCrystal('Ar', 'FCC', 5.3);
  const [ref] = relaxStructures([ar], lennardJonesBatch(lj), { fmax: 1e-4, maxSteps: 1000 });
  const mu = ref!.energyPerAtom;
  const scorer = StabilityScorer.fromParts({ potential: 'lj', mu: { Ar: { energyPerAtom: mu, materialId: 'ref' } } }, await ConvexHull.create([]));
  const generated = [ref!.final, cubicCrystal('Ar', 'FCC', 6.2), null, cubicCrystal('Ar', 'FCC', 5.3)];
  const reports = [report({}), report({ duplicateOf: -1, trainMatch: 'mp-1' }), report({ constructed: false, structValid: false, valid: false, duplicateOf: null, trainMatch: null }), report({ duplicateOf: 0 })];
  const r = dngStability(generated, reports, { potential: lennardJonesBatch(lj), scorer, fmax: 1e-3 });
  assert.equal(r.relaxed, 3);
  assert.equal(r.generated, 4);
  const [a, b, d] = r.perStructure;
  assert.ok(a!.rmsd! < 1e-3, `rmsd of an already relaxed crystal: ${a!.rmsd}`);
  assert.ok(Math.abs(a!.eAboveHull!) < 1e-6);
  assert.ok(b!.rmsd! >= 0);
  assert.ok(b!.stable && !b!.sun, 'stable but not novel');
  assert.ok(d!.stable && !d!.sun, 'stable but a duplicate');
  assert.ok(a!.sun);
  assert.equal(r.sunPercent, 25);
  assert.equal(r.stablePercent, 100);
  assert.ok(Math.abs(lennardJones(ref!.final, lj).energy / 4 - mu) < 1e-12);
});

test('DNG stability from relaxations done elsewhere equals relaxing in process, and a missing relaxation is named', async () => {
  const ar = cubicCrystal('Ar', 'FCC', 5.3);
  const [ref] = relaxStructures([ar], lennardJonesBatch(lj), { fmax: 1e-4, maxSteps: 1000 });
  const scorer = StabilityScorer.fromParts({ potential: 'lj', mu: { Ar: { energyPerAtom: ref!.energyPerAtom, materialId: 'ref' } } }, await ConvexHull.create([]));
  const generated = [cubicCrystal('Ar', 'FCC', 6.2), null, cubicCrystal('Ar', 'FCC', 5.0)];
  const reports = [report({}), report({ constructed: false, structValid: false, valid: false, duplicateOf: null, trainMatch: null }), report({ trainMatch: 'mp-1' })];
  const inProcess = dngStability(generated, reports, { potential: lennardJonesBatch(lj), scorer, fmax: 1e-3 });
  const done = new Map([0, 2].map((i) => [i, relaxStructures([generated[i]!], lennardJonesBatch(lj), { fmax: 1e-3, maxSteps: 500 })[0]!]));
  const fromFile = dngStabilityFromRelaxed(generated, reports, (i) => done.get(i), { scorer });
  assert.deepEqual(fromFile, inProcess);
  assert.throws(() => dngStabilityFromRelaxed(generated, reports, (i) => (i === 0 ? done.get(0) : undefined), { scorer }), /no relaxation for generated structure 2/);
  // with a limit only the first valid structures are needed
  assert.equal(dngStabilityFromRelaxed(generated, reports, (i) => (i === 0 ? done.get(0) : undefined), { scorer, limit: 1 }).relaxed, 1);
});
