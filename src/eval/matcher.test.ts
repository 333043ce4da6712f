import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Matrix3, Structure } from '../crystal/types.js';
import { determinant, inverse, multiply, toParameters } from '../crystal/lattice.js';
import { loadReferencePairs, scorePairs } from './pairScoring.js';
import { readCifForMatching } from './cifReader.js';
import { matchStructures, type NoMatchStage } from './match.js';
import { solveAssignment } from './matcher/assignment.js';
import { niggliReduce } from './matcher/latticeReduction.js';
import { primitiveStructure } from './matcher/primitive.js';
import { Rng } from '../util/rng.js';

const PAIRS = fileURLToPath(new URL('./fixtures/matcher_pairs.dev.jsonl.gz', import.meta.url));
const STAGES = fileURLToPath(new URL('./fixtures/match_stages.dev.json', import.meta.url));

test('assignment solver is optimal (brute force over all permutations, n ≤ 6)', () => {
  const rng = new Rng(7);
  const perms = (n: number): number[][] => (n === 0 ? [[]] : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)])));
  for (let trial = 0; trial < 40; trial++) {
    const n = 1 + (trial % 6);
    const cost = new Float64Array(n * n);
    for (let i = 0; i < n * n; i++) cost[i] = Math.floor(rng.uniform() * 10);
    const sol = solveAssignment(cost, n);
    const got = Array.from(sol).reduce((a, c, r) => a + cost[r * n + c]!, 0);
    const best = Math.min(...perms(n).map((p) => p.reduce((a, c, r) => a + cost[r * n + c]!, 0)));
    assert.equal(new Set(sol).size, n);
    assert.equal(got, best);
  }
});

test('Niggli reduction: same lattice (unimodular integer relation), Niggli ordering a ≤ b ≤ c', () => {
  const rng = new Rng(3);
  for (let t = 0; t < 30; t++) {
    const base: Matrix3 = [3 + rng.uniform(), 0, 0, rng.uniform(), 4 + rng.uniform(), 0, rng.uniform(), rng.uniform(), 5 + rng.uniform()];
    // skew it with a random unimodular matrix
    const u: Matrix3 = [1, Math.floor(rng.uniform() * 3) - 1, 2, 0, 1, Math.floor(rng.uniform() * 5) - 2, 0, 0, 1];
    const skewed = multiply(u, base);
    const red = niggliReduce(skewed);
    const rel = multiply(red, inverse(skewed)); // integer matrix with |det| = 1
    for (const v of rel) assert.ok(Math.abs(v - Math.round(v)) < 1e-6);
    assert.ok(Math.abs(Math.abs(determinant(rel)) - 1) < 1e-6);
    assert.ok(determinant(red) > 0);
    const p = toParameters(red);
    assert.ok(p.a <= p.b + 1e-6 && p.b <= p.c + 1e-6);
  }
});

test('tolerant primitive cell: a noisy 2×1×1 supercell reduces to the primitive cell with averaged sites', () => {
  const prim: Structure = { lattice: [4, 0, 0, 0, 4.2, 0, 0, 0, 4.4], species: ['Sr', 'Ti', 'O'], frac: Float64Array.from([0, 0, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0]) };
  const rng = new Rng(11);
  const species: string[] = [];
  const frac: number[] = [];
  for (let cell = 0; cell < 2; cell++) {
    for (let i = 0; i < 3; i++) {
      species.push(prim.species[i]!);
      frac.push((prim.frac[3 * i]! + cell) / 2 + 0.005 * (rng.uniform() - 0.5), prim.frac[3 * i + 1]! + 0.01 * (rng.uniform() - 0.5), prim.frac[3 * i + 2]!);
    }
  }
  const supercell: Structure = { lattice: [8, 0, 0, 0, 4.2, 0, 0, 0, 4.4], species, frac: Float64Array.from(frac) };
  const p = primitiveStructure(supercell);
  assert.equal(p.species.length, 3);
  assert.deepEqual(p.species, ['O', 'Sr', 'Ti']); // pymatgen groups by symbol
  assert.ok(Math.abs(Math.abs(determinant(p.lattice)) - 4 * 4.2 * 4.4) < 1e-9);
  // and the matcher sees the supercell as the same crystal
  const m = matchStructures(supercell, prim);
  assert.equal(m.match, true);
  assert.ok(m.rms! < 0.01);
});

test('matcher invariances: permuted sites, shifted origin and a new basis give rms ≈ 0', () => {
  const gt: Structure = { lattice: [3.9, 0, 0, 0.3, 4.1, 0, 0.2, 0.1, 4.3], species: ['Ba', 'Ti', 'O', 'O', 'O'], frac: Float64Array.from([0, 0, 0, 0.5, 0.52, 0.49, 0.5, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0.5]) };
  const u: Matrix3 = [1, 1, 0, 0, 1, 0, 0, 1, 1]; // new basis rows = u · old
  const uinv = inverse(u);
  const order = [4, 2, 0, 3, 1];
  const frac: number[] = [];
  for (const i of order) {
    const f = [gt.frac[3 * i]! + 0.13, gt.frac[3 * i + 1]! - 0.27, gt.frac[3 * i + 2]! + 0.05];
    for (let d = 0; d < 3; d++) frac.push(f[0]! * uinv[d]! + f[1]! * uinv[3 + d]! + f[2]! * uinv[6 + d]!);
  }
  const pred: Structure = { lattice: multiply(u, gt.lattice), species: order.map((i) => gt.species[i]!), frac: Float64Array.from(frac) };
  const m = matchStructures(pred, gt);
  assert.equal(m.match, true);
  assert.ok(m.rms! < 1e-6);
  // a different composition never matches
  assert.equal(matchStructures({ ...pred, species: ['O', 'O', 'Ba', 'O', 'O'] }, gt).match, false);
});

test('pymatgen agreement on a stratified subset of the dev pairs (16 per category)', () => {
  const all = loadReferencePairs(PAIRS);
  const perCat = new Map<string, number>();
  const subset = all.filter((p) => {
    const key = `${p.source}/${p.category}`;
    const c = perCat.get(key) ?? 0;
    perCat.set(key, c + 1);
    return c < 16;
  });
  assert.ok(subset.length >= 290);
  const score = scorePairs(subset, (a, b) => {
    const r = matchStructures(readCifForMatching(a), readCifForMatching(b));
    return r.rms;
  });
  assert.deepEqual(score.disagreements.filter((d) => (d.ours !== null) !== d.refMatch || d.error), []);
  assert.ok(score.total.rmsAgree / score.total.bothMatched >= 0.99);
});

test('why no match: the stage agrees with pymatgen step by step on the stratified dev subset (match_stages.dev.json)', () => {
  // fixture: bench/reference/match_stage.py asks pymatgen 2022.11's own routines (reduction, species mask,
  // _get_lattices, get_rms_dist) where the search ends for each dev pair
  const stages = (JSON.parse(readFileSync(STAGES, 'utf8')) as { stages: Record<string, NoMatchStage | null> }).stages;
  const all = loadReferencePairs(PAIRS);
  const perCat = new Map<string, number>();
  const seen = new Set<NoMatchStage | null>();
  let compared = 0;
  for (const p of all) {
    const key = `${p.source}/${p.category}`;
    const c = perCat.get(key) ?? 0;
    perCat.set(key, c + 1);
    if (c >= 16 || !(p.id in stages)) continue;
    const m = matchStructures(readCifForMatching(p.cifA), readCifForMatching(p.cifB));
    assert.equal(m.failure, stages[p.id], `${p.id} (${key})`);
    assert.equal(m.match, stages[p.id] === null);
    seen.add(m.failure);
    compared++;
  }
  assert.ok(compared >= 290);
  // the subset exercises every stage
  assert.deepEqual([...seen].sort(), [null, 'composition', 'lattice', 'site_count', 'sites'].sort());
});

test('why no match on hand-made pairs: strained cell = lattice, displaced atoms = sites, halved period = site_count', () => {
  const gt: Structure = { lattice: [4, 0, 0, 0, 4.2, 0, 0, 0, 4.4], species: ['Sr', 'Ti', 'O', 'O', 'O'], frac: Float64Array.from([0, 0, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0.5]) };
  assert.equal(matchStructures(gt, gt).failure, null);
  // a 60 % longer a axis at the same volume (scale = true) is outside ltol 0.3
  const strained: Structure = { ...gt, lattice: [6.4, 0, 0, 0, 4.2 / Math.sqrt(1.6), 0, 0, 0, 4.4 / Math.sqrt(1.6)] };
  assert.equal(matchStructures(strained, gt).failure, 'lattice');
  // same cell, Ti moved next to Sr: the lattices map, the sites do not
  const moved: Structure = { ...gt, frac: Float64Array.from([0, 0, 0, 0.1, 0.05, 0, 0.5, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0.5]) };
  assert.equal(matchStructures(moved, gt).failure, 'sites');
  // a doubled cell whose two halves are identical reduces to 5 sites; a doubled cell with one
  // displaced Ti stays at 10: different primitive cells
  const doubled = (dx: number): Structure => ({
    lattice: [8, 0, 0, 0, 4.2, 0, 0, 0, 4.4],
    species: [...gt.species, ...gt.species],
    frac: Float64Array.from([...gt.frac].map((v, i) => (i % 3 === 0 ? v / 2 : v)).concat([...gt.frac].map((v, i) => (i % 3 === 0 ? v / 2 + 0.5 + (i === 3 ? dx : 0) : v)))),
  });
  assert.equal(matchStructures(doubled(0), gt).failure, null);
  assert.equal(matchStructures(doubled(0.1), gt).failure, 'site_count');
  // another element
  assert.equal(matchStructures({ ...gt, species: ['Ba', 'Ti', 'O', 'O', 'O'] }, gt).failure, 'composition');
});
