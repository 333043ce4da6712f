import { test } from 'node:test';
import assert from 'node:assert/strict';
import { angleToFeature, featureToAngle, featuresToLattice, latticeToFeatures } from './latticeFeatures.js';
import type { LatticeStats } from '../data/types.js';
import { InputError } from '../util/errors.js';

test('angle feature reproduces §14.7 and round-trips', () => {
  const rows: [number, number][] = [[60, -1.6495722], [90, 0], [109.47, 1.01008407], [120, 1.6495722]];
  for (const [deg, feat] of rows) {
    assert.ok(Math.abs(angleToFeature(deg) - feat) < 1e-7, `${deg}° -> ${angleToFeature(deg)}`);
    assert.ok(Math.abs(featureToAngle(angleToFeature(deg)) - deg) < 1e-10);
  }
  // the inverse maps all of R into (0°, 180°)
  assert.ok(featureToAngle(-1e9) > 0 && featureToAngle(1e9) < 180);
});

const stats: LatticeStats = { byAtomCount: { 5: { loc: [1.4, 1.35, 1.3], scale: [0.1, 0.2, 0.05] } } };

test('length features use the per-atom-count loc/scale and invert exactly', () => {
  const p = { a: 4.1, b: 3.9, c: 3.7, alpha: 88, beta: 95, gamma: 119 };
  const l = latticeToFeatures(p, 5, stats);
  assert.ok(Math.abs(l[0] - (Math.log(4.1) - 1.4) / 0.1) < 1e-12);
  assert.ok(Math.abs(l[2] - (Math.log(3.7) - 1.3) / 0.05) < 1e-12);
  const back = featuresToLattice(l, 5, stats);
  for (const k of ['a', 'b', 'c', 'alpha', 'beta', 'gamma'] as const) assert.ok(Math.abs(back[k] - p[k]) < 1e-10, k);
});

test('a missing atom count is a clear InputError', () => {
  assert.throws(() => featuresToLattice([0, 0, 0, 0, 0, 0], 7, stats), (e: unknown) => e instanceof InputError && /7 atoms/.test((e as Error).message));
});
