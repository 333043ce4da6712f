#!/usr/bin/env node
// Kill drill for `kldm sample` (docs/training.md "Kill drills"): samples a slice of the Perov-5 test
// split with the shipped model, SIGKILLing the command at >= 20 seeded random moments and
// re-running it (it resumes from its own output) until it finishes, then checks that every output
// line parses, that every (material, sample) pair is there exactly once and that each pair's CIF is the
// uninterrupted run's (batches are planned over the whole run and seeded by their first pair, so a
// resumed run samples the same structures). Needs the built CLI.
//
//   node scripts/drills/kill-sample.mjs [--kills 20] [--seed 1] [--materials 48] [--dir /tmp/kldm-drill-sample]
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { flag, runKldm, seededRandom } from './common.mjs';

const kills = Number(flag('--kills', '20'));
const seed = Number(flag('--seed', '1'));
const materials = Number(flag('--materials', '48'));
const perMaterial = 2;
const root = flag('--dir', '/tmp/kldm-drill-sample');
const random = seededRandom(seed);
rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });

const args = (out) => ['sample', '--model', 'perov5-cpu-small', '--dataset', 'perov_5', '--split', 'test', '--limit', String(materials),
  '--samples-per-material', String(perMaterial), '--sampler', 'em', '--steps', '30', '--batch-size', '8', '--out', out, '--quiet'];

const t0 = Date.now();
const refOut = join(root, 'straight.jsonl');
const straight = await runKldm(args(refOut));
if (straight.code !== 0) throw new Error(`uninterrupted run failed (exit ${straight.code}): ${straight.stderr}`);
console.log(`uninterrupted run: ${materials} x ${perMaterial} samples in ${(straight.ms / 1000).toFixed(1)} s`);
/** pair key -> the uninterrupted run's CIF */
const expected = new Map(readFileSync(refOut, 'utf8').trim().split('\n').map((l) => {
  const v = JSON.parse(l);
  return [`${v.material_id}#${v.sample}`, v.cif];
}));
if (expected.size !== materials * perMaterial) throw new Error(`the uninterrupted run wrote ${expected.size} pairs, expected ${materials * perMaterial}`);

let killsDone = 0;
let sittings = 0;
let runs = 0;
let linesChecked = 0;
const problems = [];
while (killsDone < kills) {
  const out = join(root, `killed-${runs++}.jsonl`);
  for (;;) {
    const r = await runKldm(args(out), killsDone < kills ? Math.round(100 + random() * straight.ms) : undefined);
    sittings++;
    if (r.killed) {
      killsDone++;
      continue;
    }
    if (r.code !== 0) throw new Error(`sitting ${sittings} failed (exit ${r.code}, signal ${r.signal}): ${r.stderr}`);
    break;
  }
  const seen = new Map();
  const lines = readFileSync(out, 'utf8').split('\n');
  if (lines.pop() !== '') problems.push(`${out}: does not end with a newline`);
  lines.forEach((l, i) => {
    let v;
    try {
      v = JSON.parse(l);
    } catch {
      problems.push(`${out}:${i + 1}: does not parse: ${JSON.stringify(l.slice(0, 100))}`);
      return;
    }
    if (typeof v.cif !== 'string' || !v.cif.startsWith('#') && !v.cif.includes('data_')) problems.push(`${out}:${i + 1}: no CIF`);
    const key = `${v.material_id}#${v.sample}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (expected.has(key) && v.cif !== expected.get(key)) problems.push(`${out}:${i + 1}: pair ${key} differs from the uninterrupted run's`);
  });
  linesChecked += lines.length;
  for (const key of expected.keys()) if (!seen.has(key)) problems.push(`${out}: pair ${key} missing`);
  for (const [key, n] of seen) {
    if (n > 1) problems.push(`${out}: pair ${key} written ${n} times`);
    if (!expected.has(key)) problems.push(`${out}: unexpected pair ${key}`);
  }
}
const seconds = (Date.now() - t0) / 1000;
console.log(`kill drill (sample, perov5-cpu-small, ${materials} materials x ${perMaterial}, seed ${seed}): ${killsDone} SIGKILLs, ${sittings} sittings, ` +
  `${runs} killed runs checked (${linesChecked} lines parsed), ${seconds.toFixed(0)} s`);
if (problems.length > 0) {
  console.log(`FAILED:\n  ${problems.slice(0, 20).join('\n  ')}`);
  process.exit(1);
}
console.log('every line parses; every (material, sample) pair exactly once, as the uninterrupted run wrote it: OK');
rmSync(root, { recursive: true, force: true });
