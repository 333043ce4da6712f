/**
 * `kldm evaluate dng` end to end on Perov-5: 12 test structures written back as CIF (two of them twice)
 * plus one line without a CIF, against the full test split (COV with the published cut-offs) and the
 * training split (novelty). Expectations that follow from the construction: every readable structure is a
 * test structure, so COV-P counts all 14 covered structures over 15 generated, uniqueness finds the 2
 * repeats, nothing is in the training split. Slow: fingerprints the 3,785 reference structures once
 * (then cached) and prepares the training split on first use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import { readSplitSource } from '../../data/source.js';
import { MAGPIE_SKIP_MESSAGE, testMagpieDir } from './testAssets.js';

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    return { code: await main(argv), out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test('kldm evaluate dng on Perov-5 test structures', async (t) => {
  const magpie = testMagpieDir();
  if (magpie === null) {
    t.skip(MAGPIE_SKIP_MESSAGE);
    return;
  }
  const src = readSplitSource('perov_5', 'test');
  const dir = mkdtempSync(join(tmpdir(), 'kldm-dng-'));
  const lines = src.cifs.slice(0, 12).map((cif, i) => JSON.stringify({ id: src.materialIds[i], cif }));
  lines.push(JSON.stringify({ id: 'again-0', cif: src.cifs[0] }), JSON.stringify({ id: 'again-5', cif: src.cifs[5] }), JSON.stringify({ id: 'empty' }));
  writeFileSync(join(dir, 'gen.jsonl'), lines.join('\n') + '\n');
  const r = await capture(['evaluate', 'dng', '--dataset', 'perov_5', '--generated', join(dir, 'gen.jsonl'), '--magpie', magpie, '--samples', '5', '--json', join(dir, 'r.json'), '--quiet']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /15 generated structures vs perov_5\/test \(3785 reference structures\)/);
  const rep = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
  assert.equal(rep.structures.length, 15);
  assert.equal(rep.counts.constructed, 14);
  assert.equal(rep.structures[14].reason.includes('"cif" missing'), true);
  // every readable structure is a reference structure: nearest distances 0, covered
  for (const s of rep.structures.slice(0, 14)) assert.ok(s.nearestStructDist < 1e-9 && s.nearestCompDist < 1e-9, s.id);
  const covered = rep.structures.slice(0, 14).filter((s: { nearestStructDist: number }) => s.nearestStructDist !== null).length;
  assert.equal(rep.coverage.covPrecision, covered / 15);
  assert.equal(rep.coverage.covRecall > 0 && rep.coverage.covRecall <= 1, true);
  // the two repeats are duplicates of lines 0 and 5 (when valid)
  const byId = new Map(rep.structures.map((s: { id: string }) => [s.id, s]));
  for (const [again, first] of [['again-0', 0], ['again-5', 5]] as const) {
    const s = byId.get(again) as { valid: boolean; duplicateOf: number | null };
    if (s.valid) assert.equal(s.duplicateOf, first);
  }
  assert.equal(rep.uniqueness.uniqueValid, rep.counts.valid - rep.structures.slice(12, 14).filter((s: { valid: boolean }) => s.valid).length);
  // test structures are not in the training split
  assert.equal(rep.novelty.novelValid, rep.counts.valid);
  assert.equal(rep.wasserstein.sampled.n, 5);
});

test('kldm evaluate dng: clear errors for bad arguments', async () => {
  const missing = await capture(['evaluate', 'dng', '--dataset', 'perov_5']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /--generated is required/);
  const cut = await capture(['evaluate', 'dng', '--dataset', 'perov_5', '--generated', 'x.jsonl', '--magpie', '.', '--cov-cutoffs', '0.4']);
  assert.equal(cut.code, 2);
  assert.match(cut.err, /--cov-cutoffs/);
  const noTables = await capture(['evaluate', 'dng', '--dataset', 'perov_5', '--generated', 'x.jsonl', '--magpie', '/nonexistent']);
  assert.equal(noTables.code, 2);
  assert.match(noTables.err, /magpie table/);
});
