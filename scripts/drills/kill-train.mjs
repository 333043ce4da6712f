#!/usr/bin/env node
// Kill drill for `kldm train` (docs/training.md "Kill drills"): trains the tiny preset on Perov-5
// once without interruption, then again while SIGKILLing it at >= 20 seeded random moments and
// resuming (--resume) after each kill, and checks that the final checkpoint's tensors (weights,
// EMA, optimiser moments) and training state equal the uninterrupted run's bit for bit, and that
// every line of log.jsonl parses. Needs the built CLI (npm run build).
//
//   node scripts/drills/kill-train.mjs [--kills 20] [--seed 1] [--steps 400] [--dir /tmp/kldm-drill-train]
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { flag, runKldm, seededRandom } from './common.mjs';
import { decodeTensors } from '../../dist/network/checkpoint.js';

const kills = Number(flag('--kills', '20'));
const seed = Number(flag('--seed', '1'));
const steps = Number(flag('--steps', '400'));
const root = flag('--dir', '/tmp/kldm-drill-train');
const random = seededRandom(seed);
rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });

const trainArgs = (dir, resume = false) => ['train', '--dataset', 'perov_5', '--config', 'tiny', '--run-dir', dir, '--max-steps', String(steps), '--no-match', '--quiet',
  '--set', 'checkpoint.everySeconds=1', ...(resume ? ['--resume'] : ['--seed', '7'])];

const t0 = Date.now();
const ref = join(root, 'straight');
const straight = await runKldm(trainArgs(ref));
if (straight.code !== 0) throw new Error(`uninterrupted run failed (exit ${straight.code}): ${straight.stderr}`);
console.log(`uninterrupted run: ${steps} steps in ${(straight.ms / 1000).toFixed(1)} s`);

let killsDone = 0;
let sittings = 0;
let freshStarts = 0;
let runs = 0;
const problems = [];
let bytes = 0;
let tensorsCompared = 0;
let logLinesChecked = 0;
const a = decodeTensors(readFileSync(join(ref, 'last.ckpt')), 'uninterrupted last.ckpt');

/** Compares a finished killed-and-resumed run with the uninterrupted one. */
function compare(dir) {
  const b = decodeTensors(readFileSync(join(dir, 'last.ckpt')), `${dir}/last.ckpt`);
  const names = Object.keys(a.tensors).sort();
  if (JSON.stringify(names) !== JSON.stringify(Object.keys(b.tensors).sort())) problems.push(`${dir}: different tensor names`);
  for (const n of names) {
    const x = Buffer.from(a.tensors[n].data.buffer, a.tensors[n].data.byteOffset, a.tensors[n].data.byteLength);
    const y = b.tensors[n] ? Buffer.from(b.tensors[n].data.buffer, b.tensors[n].data.byteOffset, b.tensors[n].data.byteLength) : Buffer.alloc(0);
    if (!x.equals(y)) problems.push(`${dir}: tensor ${n} differs`);
    bytes += x.length;
    tensorsCompared++;
  }
  // the training state (wall-clock fields such as lastValidation.seconds naturally differ)
  const state = (v) => JSON.stringify(v, (k, x) => (k === 'seconds' ? undefined : x));
  for (const key of ['step', 'epochsCompleted', 'emaUpdates', 'batcher', 'noiseRng', 'lastValidatedEpoch', 'lastValidation', 'best', 'lastEpochLoss']) {
    if (state(a.metadata[key]) !== state(b.metadata[key])) problems.push(`${dir}: checkpoint ${key} differs: ${JSON.stringify(a.metadata[key])} vs ${JSON.stringify(b.metadata[key])}`);
  }
  const logLines = readFileSync(join(dir, 'log.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const badLines = logLines.filter((l) => {
    try {
      JSON.parse(l);
      return false;
    } catch {
      return true;
    }
  });
  logLinesChecked += logLines.length;
  if (badLines.length > 0) problems.push(`${dir}: ${badLines.length} of ${logLines.length} log.jsonl lines do not parse (first: ${JSON.stringify(badLines[0].slice(0, 120))})`);
}

// killed runs, each SIGKILLed at random moments and resumed until a sitting finishes, until `kills` kills have landed
while (killsDone < kills) {
  const dir = join(root, `killed-${runs++}`);
  for (;;) {
    const resume = existsSync(join(dir, 'last.ckpt'));
    if (!resume) {
      // killed before the first checkpoint: nothing to resume, start the run again
      if (existsSync(dir)) freshStarts++;
      rmSync(dir, { recursive: true, force: true });
    }
    // a moment anywhere in a sitting (start-up, data loading, steps, checkpoint writes); once all kills have landed, run to the end
    const killAt = killsDone < kills ? Math.round(150 + random() * straight.ms) : undefined;
    const r = await runKldm(trainArgs(dir, resume), killAt);
    sittings++;
    if (r.killed) {
      killsDone++;
      continue;
    }
    if (r.code !== 0) throw new Error(`sitting ${sittings} failed (exit ${r.code}, signal ${r.signal}): ${r.stderr}`);
    break;
  }
  compare(dir);
}

const seconds = (Date.now() - t0) / 1000;
console.log(`kill drill (train, tiny, Perov-5, ${steps} steps, seed ${seed}): ${killsDone} SIGKILLs, ${sittings} sittings (${freshStarts} fresh starts before a first checkpoint), ` +
  `${runs} killed runs compared with the uninterrupted one (${tensorsCompared} tensors, ${bytes} bytes; ${logLinesChecked} log lines parsed), ${seconds.toFixed(0)} s`);
if (problems.length > 0) {
  console.log(`FAILED:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('every final checkpoint equals the uninterrupted run bit for bit: OK');
rmSync(root, { recursive: true, force: true });
