/**
 * Closed-form and independent checks of the DNG evaluation's building blocks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Matrix3, Structure } from '../../crystal/types.js';
import { polygonArea, polygonSolidAngle, voronoiCellOfOrigin, type Vec3 } from './voronoiCell.js';
import { voronoiNeighbours } from './voronoiNN.js';
import { crystalNNData, semicircleIntegral } from './crystalNN.js';
import { siteOpsFingerprint, OPS_FEATURE_LABELS } from './crystalNNFingerprint.js';
import { orderParameter, DEFAULT_OP_PARAMS } from './orderParams.js';
import { pyRound3 } from './pyRound.js';
import { wasserstein1 } from './wasserstein.js';
import { computeCoverage } from './coverage.js';
import { magpieFingerprint, standardiseMagpie, loadMagpie, MAGPIE_PROPERTIES } from './magpie.js';
import { reducedCompositionKey, findDuplicates } from './duplicates.js';
import { MAGPIE_SKIP_MESSAGE, testMagpieDir } from './testAssets.js';

const cubic = (a: number): Matrix3 => [a, 0, 0, 0, a, 0, 0, 0, a];

test('Voronoi cell of a simple-cubic point is the cube: 6 faces of area a², solid angle 4π/6 each', () => {
  const pts: Vec3[] = [];
  for (let i = -2; i <= 2; i++) for (let j = -2; j <= 2; j++) for (let k = -2; k <= 2; k++) if (i || j || k) pts.push([2 * i, 2 * j, 2 * k]);
  const cell = voronoiCellOfOrigin(pts, 100);
  assert.equal(cell.bounded, true);
  assert.equal(cell.faces.length, 6);
  for (const f of cell.faces) {
    assert.ok(Math.abs(polygonArea(f.vertices) - 4) < 1e-12);
    assert.ok(Math.abs(polygonSolidAngle(f.vertices) - (4 * Math.PI) / 6) < 1e-12);
  }
});

test('Voronoi cell of an isolated pair is open (qhull: infinite vertex)', () => {
  assert.equal(voronoiCellOfOrigin([[1, 0, 0]], 50).bounded, false);
});

test('bcc Voronoi cell: 8 hexagons + 6 squares, solid angles sum to 4π', () => {
  const s: Structure = { lattice: cubic(3), species: ['Fe', 'Fe'], frac: Float64Array.from([0, 0, 0, 0.5, 0.5, 0.5]) };
  const nn = voronoiNeighbours(s, 0);
  assert.equal(nn.length, 14);
  const total = nn.reduce((a, n) => a + n.solidAngle, 0);
  assert.ok(Math.abs(total - 4 * Math.PI) < 1e-10);
  // truncated octahedron of edge a√2/4: hexagon area (3√3/2)e², square e²
  const e = (3 * Math.SQRT2) / 4;
  const areas = nn.map((n) => n.area).sort((x, y) => x - y);
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(areas[i]! - e * e) < 1e-10);
  for (let i = 6; i < 14; i++) assert.ok(Math.abs(areas[i]! - ((3 * Math.sqrt(3)) / 2) * e * e) < 1e-10);
});

test('rock salt: CrystalNN gives CN 6 with probability 1 and a perfect octahedron', () => {
  const s: Structure = {
    lattice: cubic(5.64),
    species: ['Na', 'Na', 'Na', 'Na', 'Cl', 'Cl', 'Cl', 'Cl'],
    frac: Float64Array.from([0, 0, 0, 0, 0.5, 0.5, 0.5, 0, 0.5, 0.5, 0.5, 0, 0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0.5, 0.5, 0.5]),
  };
  const d = crystalNNData(s, 0);
  assert.deepEqual([...d.cnWeights.keys()], [6]);
  assert.equal(d.cnWeights.get(6), 1);
  const fp = siteOpsFingerprint(s, 0);
  assert.equal(fp[OPS_FEATURE_LABELS.indexOf('wt CN_6')], 1);
  assert.ok(Math.abs(fp[OPS_FEATURE_LABELS.indexOf('octahedral CN_6')]! - 1) < 1e-12);
});

test('order parameters of ideal motifs are 1', () => {
  const tet: Vec3[] = [[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]];
  assert.ok(Math.abs(orderParameter('tet_max', DEFAULT_OP_PARAMS.tet_max, tet)! - 1) < 1e-12);
  const lin: Vec3[] = [[0, 0, 2], [0, 0, -2]];
  assert.ok(Math.abs(orderParameter('bent', DEFAULT_OP_PARAMS.bent, lin)! - 1) < 1e-12);
  // single bond: 1 - d_min / d_second
  assert.equal(orderParameter('sgl_bd', {}, [[0, 0, 1], [0, 0, -4]]), 0.75);
  // Steinhardt q6 of a simple-cubic octahedron is sqrt(13/32)·... known value 0.353553 (q4 0.763763)
  const oct: Vec3[] = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]];
  assert.ok(Math.abs(orderParameter('q4', {}, oct)! - 0.7637626158259734) < 1e-12);
  assert.ok(Math.abs(orderParameter('q6', {}, oct)! - 0.3535533905932738) < 1e-12);
  assert.equal(orderParameter('oct_max', DEFAULT_OP_PARAMS.oct_max, [[1, 0, 0]]), null);
});

test('semicircle integral: shells of weights 1 and 0.5 split the quarter circle', () => {
  const bins = [1, 0.5, 0];
  const w1 = semicircleIntegral(bins, 0);
  const w2 = semicircleIntegral(bins, 1);
  const area = (x: number): number => 0.5 * (x * Math.sqrt(1 - x * x) + Math.asin(x));
  assert.ok(Math.abs(w1 - (Math.PI / 4 - area(0.5)) / (Math.PI / 4)) < 1e-15);
  assert.ok(Math.abs(w1 + w2 - 1) < 1e-15);
});

test('pyRound3 follows Python round(x, 3) (exact ties to even)', () => {
  assert.equal(pyRound3(0.0625), 0.062);
  assert.equal(pyRound3(0.1875), 0.188);
  assert.equal(pyRound3(0.0005), 0.001); // 0.0005 is slightly above the tie in binary
  assert.equal(pyRound3(2.675), 2.675);
  assert.equal(pyRound3(0.12345), 0.123);
  assert.equal(pyRound3(0.9999), 1);
});

test('wasserstein1 equals scipy.stats.wasserstein_distance', () => {
  // values printed by scipy 1.10 (Debian) for these inputs
  assert.ok(Math.abs(wasserstein1([1, 2, 3], [1, 1, 5, 7.5]) - 1.9583333333333333) < 1e-15);
  assert.ok(Math.abs(wasserstein1([0.5, 0.5, 2], [2, 2, 2]) - 1.0) < 1e-15);
  assert.ok(Math.abs(wasserstein1([3.1], [1, 2, 3, 4, 5, 6]) - 1.5) < 1e-15);
  assert.equal(wasserstein1([4, 4], [4]), 0);
});

test('coverage: nearest distances taken independently; precision over all generated', () => {
  const fp = (s: number, c: number) => ({ struct: Float64Array.of(s), comp: Float64Array.of(c) });
  const r = computeCoverage([fp(0, 5), fp(5, 0), null, fp(0.1, 0.1)], [fp(0, 0), fp(10, 10)], { struct: 0.2, comp: 0.2 });
  // reference 0: nearest struct 0 (gen 0), nearest comp 0 (gen 1) → recalled even though no single generated is close in both
  assert.equal(r.covRecall, 0.5);
  // generated: only gen 3 is within both cut-offs of a reference; denominator 4 (the null counts)
  assert.equal(r.covPrecision, 0.25);
  assert.equal(r.generatedNearest[2], null);
  assert.ok(Math.abs(r.amsdPrecision - (0 + 5 + 0.1) / 3) < 1e-15);
});

test('composition keys and duplicates', () => {
  assert.equal(reducedCompositionKey(['O', 'Ti', 'O', 'Sr', 'O']), reducedCompositionKey(['Sr', 'Sr', 'Ti', 'Ti', 'O', 'O', 'O', 'O', 'O', 'O']));
  const a: Structure = { lattice: cubic(4), species: ['Cs', 'Cl'], frac: Float64Array.from([0, 0, 0, 0.5, 0.5, 0.5]) };
  const shifted: Structure = { lattice: cubic(4.1), species: ['Cl', 'Cs'], frac: Float64Array.from([0.1, 0.1, 0.1, 0.6, 0.6, 0.6]) };
  const other: Structure = { lattice: cubic(4), species: ['Cs', 'Cl'], frac: Float64Array.from([0, 0, 0, 0.5, 0.5, 0.0]) };
  assert.deepEqual(findDuplicates([a, null, shifted, other]).duplicateOf, [-1, null, 0, -1]);
});

test('magpie: a missing table value (He electronegativity) makes that property NaN, standardised to 0', (t) => {
  const dir = testMagpieDir();
  if (dir === null) {
    t.skip(MAGPIE_SKIP_MESSAGE);
    return;
  }
  const tables = loadMagpie(dir);
  const fp = magpieFingerprint(tables, ['He', 'O', 'O']);
  const en = MAGPIE_PROPERTIES.indexOf('Electronegativity');
  // min/max/range/mean/avg_dev see the NaN; the mode looks only at the most abundant element (O: 3.44)
  for (let k = 0; k < 5; k++) assert.ok(Number.isNaN(fp[6 * en + k]!));
  assert.equal(fp[6 * en + 5], 3.44);
  // Number: min 2, max 8, range 6, mean (2 + 16)/3 = 6, avg_dev (4 + 2·2)/3, mode (largest amount: O) 8
  assert.deepEqual([...fp.subarray(0, 6)], [2, 8, 6, 6, 8 / 3, 8]);
  const z = standardiseMagpie(fp);
  assert.equal(z[6 * en], 0);
  assert.ok(z.every((v) => Number.isFinite(v)));
});
