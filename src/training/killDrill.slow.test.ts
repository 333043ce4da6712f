/**
 * A 3-kill slice of the kill drills (scripts/drills: `npm run drill:train` / `drill:sample` run
 * 20 kills each): SIGKILL `kldm train` and `kldm sample` at seeded random moments, resume, and
 * check bit-exact final checkpoints / complete, parseable sample output. Runs the built CLI (dist/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

for (const [drill, extra] of [['kill-train.mjs', ['--steps', '150', '--dir', '/tmp/kldm-drill-train-ci']], ['kill-sample.mjs', ['--materials', '16', '--dir', '/tmp/kldm-drill-sample-ci']]] as const) {
  test(`kill drill slice: ${drill} with 3 SIGKILLs`, { timeout: 120_000 }, () => {
    const r = spawnSync(process.execPath, [`scripts/drills/${drill}`, '--kills', '3', '--seed', '7', ...extra], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /3 SIGKILLs/);
    assert.match(r.stdout, /OK$/m);
  });
}
