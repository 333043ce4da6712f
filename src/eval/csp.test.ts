import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { aggregateCsp, evaluateCsp, groupAtomCounts, metricsByAtomCount } from './csp.js';
import { loadReferencePairs } from './pairScoring.js';
import { readCifForMatching } from './cifReader.js';
import { checkValidity } from './validity.js';

const M = (rms: number) => ({ status: 'matched' as const, rms });
const U = { status: 'unmatched' as const, rms: null };
const I = { status: 'invalid' as const, rms: null };

test('@1 / @k aggregation on hand-made outcomes (spec §9)', () => {
  // 4 materials, k = 3; material d has no predictions at all
  const ids = ['a', 'b', 'c', 'd'];
  const outcomes = [
    [M(0.2), M(0.1), U], // matched @1 (0.2), best 0.1
    [U, M(0.3), I], // unmatched @1, matched @k (0.3)
    [I, undefined, U], // never matched, sample 1 missing
    [],
  ];
  const r = aggregateCsp(ids, 3, outcomes, 'kldm', null);
  assert.equal(r.mr_at_1, 1 / 4); // denominator = all materials
  assert.equal(r.rmse_at_1, 0.2);
  assert.equal(r.mr_at_k, 2 / 4);
  assert.ok(Math.abs(r.rmse_at_k! - (0.1 + 0.3) / 2) < 1e-15); // mean of per-material minima
  assert.deepEqual(
    r.runs.map((x) => x.match_rate),
    [1 / 4, 2 / 4, 0],
  );
  assert.equal(r.runs[2]!.rmse, null);
  assert.deepEqual(r.runs.map((x) => x.valid_rate), [2 / 4, 2 / 4, 2 / 4]);
  assert.ok(Math.abs(r.mr_at_1_mean - 0.25) < 1e-15);
  assert.ok(Math.abs(r.mr_at_1_std - Math.sqrt(((0.25 - 0.25) ** 2 + (0.5 - 0.25) ** 2 + 0.25 ** 2) / 3)) < 1e-15);
  assert.equal(r.per_material[0]!.best_sample, 1);
  assert.equal(r.per_material[2]!.samples[1]!.status, 'missing');
  assert.equal(r.per_material[3]!.match_at_k, false);
});

test('metrics by atom count: each size group is the §9 metrics of its materials; ranges recompute from counts', () => {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const outcomes = [[M(0.2), U], [U, M(0.4)], [I, U], [M(0.1), M(0.05)], [M(0.3), U]];
  const r = aggregateCsp(ids, 2, outcomes, 'kldm', null);
  // sizes: a, b, c have 4 atoms; d has 10; e's ground truth was unreadable (left out)
  const byN = metricsByAtomCount(r.per_material, [4, 4, 4, 10, null]);
  assert.deepEqual(Object.keys(byN), ['4', '10']);
  const none = { lattice: 0, sites: 0, site_count: 0, composition: 0, invalid: 0, malformed: 0, missing: 0, gt_invalid: 0 };
  // b's sample 0 is unmatched without a stage (counted as 'sites'), c's is invalid
  assert.deepEqual(byN['4'], { n_materials: 3, mr_at_1: 1 / 3, rmse_at_1: 0.2, mr_at_k: 2 / 3, rmse_at_k: (0.2 + 0.4) / 2, unmatched_at_1: { ...none, sites: 1, invalid: 1 } });
  assert.deepEqual(byN['10'], { n_materials: 1, mr_at_1: 1, rmse_at_1: 0.1, mr_at_k: 1, rmse_at_k: 0.05, unmatched_at_1: none });
  const [g] = groupAtomCounts(byN, [[1, 20]]);
  // the whole group = the same metrics over a, b, c, d computed directly
  assert.equal(g!.n_materials, 4);
  assert.ok(Math.abs(g!.mr_at_1 - 2 / 4) < 1e-15);
  assert.ok(Math.abs(g!.rmse_at_1! - (0.2 + 0.1) / 2) < 1e-15);
  assert.ok(Math.abs(g!.mr_at_k - 3 / 4) < 1e-15);
  assert.ok(Math.abs(g!.rmse_at_k! - (0.2 + 0.4 + 0.05) / 3) < 1e-15);
  assert.deepEqual(g!.unmatched_at_1, { ...none, sites: 1, invalid: 1 }, 'causes add up over the range');
  assert.deepEqual(groupAtomCounts(byN, [[5, 8]]), [], 'empty ranges are left out');
});

test('DiffCSP protocol: invalid ground truth voids @1 but not @k', () => {
  const r = aggregateCsp(['a', 'b'], 2, [[M(0.1), U], [M(0.2), M(0.05)]], 'diffcsp', [false, true]);
  assert.equal(r.mr_at_1, 1 / 2); // only b counts in single-sample mode
  assert.equal(r.rmse_at_1, 0.2);
  assert.equal(r.mr_at_k, 1); // @k uses prediction validity only
  assert.ok(Math.abs(r.rmse_at_k! - (0.1 + 0.05) / 2) < 1e-15);
});

test('evaluateCsp end to end on reference pairs: missing, malformed, unknown ids, duplicates; inline = workers', async () => {
  const pairs = loadReferencePairs(fileURLToPath(new URL('./fixtures/matcher_pairs.dev.jsonl.gz', import.meta.url)))
    .filter((p) => p.source === 'perov_5' && (p.category === 'small' || p.category === 'edge_coords'))
    .slice(0, 40);
  const gts = pairs.map((p) => ({ materialId: p.id, cif: p.cifB }));
  const preds = pairs.map((p) => ({ materialId: p.id, sample: 0, cif: p.cifA }));
  preds.push({ materialId: pairs[0]!.id, sample: 1, cif: 'data_broken\n_cell_length_a 3\n' });
  preds.push({ materialId: 'nope', sample: 0, cif: pairs[0]!.cifA });
  preds.push({ materialId: pairs[1]!.id, sample: 0, cif: pairs[1]!.cifA });
  const dropped = preds.splice(5, 1)[0]!; // material 5 has no prediction
  const r = await evaluateCsp(gts, preds, { workers: 0 });
  // a prediction too close to its neighbours is invalid (KLDM protocol) and so unmatched
  const validPred: boolean[] = [];
  for (const p of pairs) validPred.push(checkValidity(readCifForMatching(p.cifA), 'kldm').valid);
  assert.ok(validPred.some((v) => !v));
  const expected = pairs.filter((p, i) => i !== 5 && p.match && validPred[i]).length;
  assert.equal(r.k, 2);
  assert.equal(r.mr_at_1, expected / pairs.length);
  assert.equal(r.counts.malformed, 1);
  assert.equal(r.counts.unknown_material, 1);
  assert.equal(r.counts.duplicate, 1);
  assert.equal(r.counts.missing_at_1, 1);
  // every ground truth read, so the size groups partition the materials and add up to MR@1
  const groups = Object.entries(r.by_atom_count);
  assert.equal(groups.reduce((a, [, g]) => a + g.n_materials, 0), pairs.length);
  assert.ok(Math.abs(groups.reduce((a, [, g]) => a + g.mr_at_1 * g.n_materials, 0) / pairs.length - r.mr_at_1) < 1e-12);
  for (const [atoms, g] of groups) assert.equal(g.n_materials, gts.filter((x) => readCifForMatching(x.cif).species.length === Number(atoms)).length);
  assert.equal(r.per_material[5]!.material_id, dropped.materialId);
  assert.equal(r.per_material[5]!.samples[0]!.status, 'missing');
  // every material is matched at sample 0 or has exactly one cause; the causes agree with the per-sample outcomes
  const causes = Object.values(r.unmatched_at_1).reduce((a, b) => a + b, 0);
  assert.equal(causes + r.per_material.filter((m) => m.match_at_1).length, pairs.length);
  assert.equal(r.unmatched_at_1.missing, 1);
  assert.equal(r.unmatched_at_1.invalid, r.per_material.filter((m) => m.samples[0]!.status === 'invalid').length);
  for (const m of r.per_material) if (m.samples[0]!.status === 'unmatched') assert.ok(m.samples[0]!.stage !== undefined, m.material_id);
  assert.ok(r.unmatched_at_1.lattice + r.unmatched_at_1.sites > 0);
  for (let i = 0; i < pairs.length; i++) {
    if (i === 5) continue;
    const ref = pairs[i]!;
    const got = r.per_material[i]!;
    assert.equal(got.match_at_1, ref.match && validPred[i], ref.id);
    if (!validPred[i]) assert.equal(got.samples[0]!.status, 'invalid');
    if (got.match_at_1) assert.ok(Math.abs(got.rms_at_1! - ref.rms!) < 1e-4, ref.id);
  }
  // the same with worker threads (more jobs than the inline threshold)
  const many = [...preds];
  for (let s = 2; s < 4; s++) for (const p of pairs) many.push({ materialId: p.id, sample: s, cif: p.cifA });
  const inline = await evaluateCsp(gts, many, { workers: 0 });
  const threaded = await evaluateCsp(gts, many, { workers: 2 });
  assert.deepEqual(threaded.per_material, inline.per_material);
  assert.equal(threaded.mr_at_k, inline.mr_at_k);
});
