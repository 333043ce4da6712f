import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { formatPairScore, loadReferencePairs, scorePairs } from './pairScoring.js';
import { readCifForMatching } from './cifReader.js';
import { matchStructures } from './match.js';

test('pymatgen agreement on all 1,935 dev pairs: ≥ 99.5 % match agreement per category, rms within 1e-4 on ≥ 99 %', () => {
  const pairs = loadReferencePairs(fileURLToPath(new URL('./fixtures/matcher_pairs.dev.jsonl.gz', import.meta.url)));
  assert.equal(pairs.length, 1935);
  const score = scorePairs(pairs, (a, b) => matchStructures(readCifForMatching(a), readCifForMatching(b)).rms);
  console.log(formatPairScore(score, 'kldm'));
  for (const c of score.categories) assert.ok(c.agree / c.pairs >= 0.995, `${c.category}: ${c.agree}/${c.pairs}`);
  assert.equal(score.total.errors, 0);
  assert.ok(score.total.rmsAgree / score.total.bothMatched >= 0.99);
});
