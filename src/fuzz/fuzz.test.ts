/**
 * CI slice of the fuzzers (npm run fuzz runs >= 10,000 cases per target): every target, a fixed
 * seed, a few hundred cases each (a few seconds per target). A failure prints the fast-check
 * seed and path that replay it with `npm run fuzz -- --target <name> --seed <seed> --path <path>`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzTarget } from './harness.js';
import { FUZZ_TARGETS } from './targets/index.js';

const SEED = 20261206;
/** cases per target: slow targets (file writes, server round trips, checksum of 2.6 MB) get fewer */
const CASES: Record<string, number> = { weights: 60, 'weights-resigned': 60, checkpoint: 100, 'checkpoint-resigned': 100, http: 200, cif: 200, 'cif-eval': 200 };

for (const target of FUZZ_TARGETS) {
  test(`fuzz slice: ${target.name} (${target.description})`, { timeout: 60_000 }, async () => {
    const r = await fuzzTarget(target, { seed: SEED, numRuns: CASES[target.name] ?? 400 });
    assert.equal(r.failure, null, r.failure ? `${r.failure.message}\ninput: ${r.failure.input}\nreplay: npm run fuzz -- --target ${target.name} --seed ${SEED} --path ${r.failure.path}` : '');
    assert.equal(r.accepted + r.rejected, r.cases);
  });
}
