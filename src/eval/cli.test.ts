import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { main } from '../cli/main.js';
import { loadReferencePairs } from './pairScoring.js';
import { randomSubset } from '../predict/sampleSplit.js';

const pairs = loadReferencePairs(fileURLToPath(new URL('./fixtures/matcher_pairs.dev.jsonl.gz', import.meta.url))).filter((p) => p.source === 'perov_5' && p.category === 'species_swap').slice(0, 12);

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test('kldm match: one pair and --pairs (input order, bad lines reported inline)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-match-'));
  writeFileSync(join(dir, 'a.cif'), pairs[0]!.cifA);
  writeFileSync(join(dir, 'b.cif'), pairs[0]!.cifB);
  const one = await capture(['match', join(dir, 'a.cif'), join(dir, 'b.cif')]);
  assert.equal(one.code, 0);
  const r = JSON.parse(one.out) as { match: boolean; rms: number | null; failure: string | null };
  assert.equal(r.match, pairs[0]!.match);
  assert.equal(r.failure === null, r.match, 'a failure stage exactly when there is no match');
  const lines = pairs.map((p) => JSON.stringify({ id: p.id, cif_a: p.cifA, cif_b: p.cifB }));
  lines.splice(3, 0, '{broken');
  writeFileSync(join(dir, 'pairs.jsonl'), lines.join('\n') + '\n');
  const many = await capture(['match', '--pairs', join(dir, 'pairs.jsonl')]);
  assert.equal(many.code, 0);
  const rows = many.out.trim().split('\n').map((l) => JSON.parse(l) as { id: string | null; match: boolean; rms: number | null; error?: string });
  assert.equal(rows.length, pairs.length + 1);
  assert.ok(rows[3]!.error);
  const good = rows.filter((x) => !x.error);
  good.forEach((row, i) => {
    assert.equal(row.id, pairs[i]!.id);
    assert.equal(row.match, pairs[i]!.match);
    assert.equal((row as { failure?: string | null }).failure === null, row.match);
  });
  const missing = await capture(['match', join(dir, 'a.cif'), join(dir, 'nope.cif')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /does not exist/);
});

test('kldm evaluate csp: metrics, counts and JSON report on a small split', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-eval-'));
  mkdirSync(join(dir, 'perov_5'));
  const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;
  const csv = [',material_id,cif', ...pairs.map((p, i) => `${i},${p.id},${quote(p.cifB)}`)].join('\n') + '\n';
  writeFileSync(join(dir, 'perov_5', 'test.csv.gz'), gzipSync(csv));
  const preds = pairs.slice(0, 10).map((p) => JSON.stringify({ material_id: p.id, sample: 0, cif: p.cifA }));
  preds.push('not json');
  preds.push(JSON.stringify({ material_id: pairs[10]!.id, sample: 0, cif: 'data_x\n' }));
  writeFileSync(join(dir, 'preds.jsonl'), preds.join('\n') + '\n');
  const old = process.env['KLDM_DATA_DIR'];
  process.env['KLDM_DATA_DIR'] = dir;
  try {
    const res = await capture(['evaluate', 'csp', '--dataset', 'perov_5', '--split', 'test', '--predictions', join(dir, 'preds.jsonl'), '--json', join(dir, 'out.json'), '--quiet']);
    assert.equal(res.code, 0, res.err);
    const report = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as { mr_at_1: number; n_materials: number; unreadable_lines: number; counts: Record<string, number>; per_material: unknown[] };
    assert.equal(report.n_materials, pairs.length);
    const expected = pairs.slice(0, 10).filter((p) => p.match).length; // species swaps: all structurally valid
    assert.equal(report.mr_at_1, expected / pairs.length);
    assert.equal(report.unreadable_lines, 1);
    assert.equal(report.counts['malformed'], 1);
    assert.equal(report.counts['missing_at_1'], 1);
    assert.equal(report.per_material.length, pairs.length);
    assert.match(res.out, /MR@1/);
    // every material of the split is matched at sample 0 or has one cause; the printed line names the counts
    const causes = (report as unknown as { unmatched_at_1: Record<string, number> }).unmatched_at_1;
    assert.equal(Object.values(causes).reduce((a, b) => a + b, 0), pairs.length - expected);
    assert.equal(causes['missing'], pairs.length - 11); // 10 predictions + one malformed
    assert.equal(causes['malformed'], 1);
    assert.match(res.out, new RegExp(`why sample 0 did not match: .*missing ${pairs.length - 11} \\(no prediction\\)`));
    // --subset scores exactly the materials `kldm sample --subset` would pick, with them as the denominator.
    const picked = randomSubset(pairs, 5, 3);
    const sub = await capture(['evaluate', 'csp', '--dataset', 'perov_5', '--split', 'test', '--predictions', join(dir, 'preds.jsonl'), '--subset', '5', '--subset-seed', '3', '--json', join(dir, 'sub.json'), '--quiet']);
    assert.equal(sub.code, 0, sub.err);
    const subReport = JSON.parse(readFileSync(join(dir, 'sub.json'), 'utf8')) as { mr_at_1: number; n_materials: number; subset: { n: number; seed: number; of: number } };
    // the 10 predictions of the file outside the picked 5 are set aside, not counted as unknown ids
    const outside = pairs.slice(0, 11).filter((p) => !picked.some((q) => q.id === p.id)).length;
    assert.deepEqual(subReport.subset, { n: 5, seed: 3, of: pairs.length, predictions_outside: outside });
    assert.match(sub.out, new RegExp(`unknown ids 0,.*outside the subset \\(ignored\\) ${outside}`));
    assert.equal(subReport.n_materials, 5);
    const predicted = new Set(pairs.slice(0, 10).map((p) => p.id));
    assert.equal(subReport.mr_at_1, picked.filter((p) => predicted.has(p.id) && p.match).length / 5);
    assert.match(sub.out, /fixed random subset: --subset 5 --subset-seed 3 of 12/);
    // --limit scores the first n materials, as `kldm sample --limit n` sampled them: a partial file of a full split
    // run is scored over what it covers, not the whole split.
    const lim = await capture(['evaluate', 'csp', '--dataset', 'perov_5', '--split', 'test', '--predictions', join(dir, 'preds.jsonl'), '--limit', '4', '--json', join(dir, 'lim.json'), '--quiet']);
    assert.equal(lim.code, 0, lim.err);
    const limReport = JSON.parse(readFileSync(join(dir, 'lim.json'), 'utf8')) as { mr_at_1: number; n_materials: number; limit: unknown; subset: unknown };
    assert.equal(limReport.n_materials, 4);
    assert.equal(limReport.mr_at_1, pairs.slice(0, 4).filter((p) => p.match).length / 4);
    // predictions 5..11 of the file (the malformed one included) lie beyond the limit
    assert.deepEqual(limReport.limit, { n: 4, of: pairs.length, predictions_outside: 7 });
    assert.equal(limReport.subset, null);
    assert.match(lim.out, /the first 4 of 12: --limit 4/);
    assert.match(lim.out, /outside the limit \(ignored\) 7/);
    // --limit then --subset, in sample's order: the subset is drawn from the first n
    const limSub = await capture(['evaluate', 'csp', '--dataset', 'perov_5', '--split', 'test', '--predictions', join(dir, 'preds.jsonl'), '--limit', '8', '--subset', '3', '--subset-seed', '1', '--json', join(dir, 'limsub.json'), '--quiet']);
    assert.equal(limSub.code, 0, limSub.err);
    const limSubReport = JSON.parse(readFileSync(join(dir, 'limsub.json'), 'utf8')) as { per_material: { material_id: string }[] };
    assert.deepEqual(limSubReport.per_material.map((m) => m.material_id), randomSubset(pairs.slice(0, 8), 3, 1).map((p) => p.id));
    const badLimit = await capture(['evaluate', 'csp', '--dataset', 'perov_5', '--predictions', join(dir, 'preds.jsonl'), '--limit', '0']);
    assert.equal(badLimit.code, 2);
    assert.match(badLimit.err, /--limit/);
    const bad = await capture(['evaluate', 'csp', '--dataset', 'perov_5', '--predictions', join(dir, 'preds.jsonl'), '--protocol', 'x']);
    assert.equal(bad.code, 2);
    // The same ground truth as a user's own CSV (plain, anywhere): the same metrics.
    writeFileSync(join(dir, 'mine.csv'), csv);
    const own = await capture(['evaluate', 'csp', '--dataset-csv', join(dir, 'mine.csv'), '--predictions', join(dir, 'preds.jsonl'), '--json', join(dir, 'own.json'), '--quiet']);
    assert.equal(own.code, 0, own.err);
    const ownReport = JSON.parse(readFileSync(join(dir, 'own.json'), 'utf8')) as { mr_at_1: number; n_materials: number; dataset_csv: string; dataset: null };
    assert.equal(ownReport.mr_at_1, report.mr_at_1);
    assert.equal(ownReport.n_materials, pairs.length);
    assert.equal(ownReport.dataset_csv, join(dir, 'mine.csv'));
    assert.equal(ownReport.dataset, null);
    assert.match(own.out, new RegExp(`CSP evaluation: ${join(dir, 'mine.csv').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, protocol kldm`));
    const both = await capture(['evaluate', 'csp', '--dataset', 'perov_5', '--dataset-csv', join(dir, 'mine.csv'), '--predictions', join(dir, 'preds.jsonl')]);
    assert.equal(both.code, 2);
    assert.match(both.err, /give exactly one of --dataset <name> or --dataset-csv <file>/);
    writeFileSync(join(dir, 'dup.csv'), csv + `99,${pairs[0]!.id},${quote(pairs[0]!.cifB)}\n`);
    const dup = await capture(['evaluate', 'csp', '--dataset-csv', join(dir, 'dup.csv'), '--predictions', join(dir, 'preds.jsonl')]);
    assert.equal(dup.code, 2);
    assert.match(dup.err, /rows 1 and 13: material_id ".*" appears twice/);
  } finally {
    if (old === undefined) delete process.env['KLDM_DATA_DIR'];
    else process.env['KLDM_DATA_DIR'] = old;
  }
});
