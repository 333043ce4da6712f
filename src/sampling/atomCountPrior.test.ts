import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import type { LatticeStats } from '../data/types.js';
import { miniPerov5 } from '../training/testFixtures.js';
import { atomCountHistogram, checkPriorAgainstStats, drawAtomCounts, parseAtomCountPrior, priorSupport } from './atomCountPrior.js';

test('the empirical prior is the training split histogram and draws follow it (multinomial tolerance, spec §5.4)', () => {
  assert.deepEqual(atomCountHistogram(miniPerov5().train), { 5: 32 });
  const histogram = { 2: 10, 4: 30, 7: 60 };
  const n = 30000;
  const draws = drawAtomCounts({ kind: 'empirical', histogram }, n, new Rng(42));
  for (const [N, c] of Object.entries(histogram)) {
    const p = c / 100;
    const f = draws.filter((x) => x === Number(N)).length / n;
    assert.ok(Math.abs(f - p) < 4 * Math.sqrt((p * (1 - p)) / n), `N=${N}: ${f} vs ${p}`);
  }
  assert.equal(draws.filter((x) => ![2, 4, 7].includes(x)).length, 0);
  assert.deepEqual(Array.from(drawAtomCounts({ kind: 'empirical', histogram }, 50, new Rng(3))), Array.from(drawAtomCounts({ kind: 'empirical', histogram }, 50, new Rng(3))));
});

test('fixed and range priors: constant, and uniform over lo..hi inclusive', () => {
  assert.deepEqual(Array.from(drawAtomCounts({ kind: 'fixed', count: 6 }, 4, new Rng(1))), [6, 6, 6, 6]);
  const n = 20000;
  const d = drawAtomCounts({ kind: 'range', lo: 3, hi: 6 }, n, new Rng(2));
  for (let N = 3; N <= 6; N++) {
    const f = d.filter((x) => x === N).length / n;
    assert.ok(Math.abs(f - 0.25) < 4 * Math.sqrt(0.25 * 0.75 / n), `N=${N}: ${f}`);
  }
  assert.deepEqual(priorSupport({ kind: 'range', lo: 3, hi: 6 }), [3, 4, 5, 6]);
});

test('parsing --atoms / --atoms-range, and priors the lattice statistics cannot decode, give clear errors', () => {
  assert.deepEqual(parseAtomCountPrior('8', undefined), { kind: 'fixed', count: 8 });
  assert.deepEqual(parseAtomCountPrior(undefined, '4-12'), { kind: 'range', lo: 4, hi: 12 });
  assert.equal(parseAtomCountPrior(undefined, undefined), null);
  assert.throws(() => parseAtomCountPrior('0', undefined), /positive integer/);
  assert.throws(() => parseAtomCountPrior(undefined, '9-4'), /9 > 4/);
  assert.throws(() => parseAtomCountPrior(undefined, '4..9'), /expected a-b/);
  assert.throws(() => parseAtomCountPrior('4', '4-5'), /at most one/);
  const stats: LatticeStats = { byAtomCount: { 5: { loc: [1, 1, 1], scale: [0.1, 0.1, 0.1] } } };
  checkPriorAgainstStats({ kind: 'fixed', count: 5 }, stats);
  assert.throws(() => checkPriorAgainstStats({ kind: 'range', lo: 4, hi: 6 }, stats, 'model x'), /model x cannot generate cells of 4, 6 atoms/);
});
