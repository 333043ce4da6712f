#!/usr/bin/env node
// Validation curves of training runs side by side at equal epochs (issue #13 ablations): for every epoch
// validated in all runs, the EMA validation loss (velocity / lattice) and the validation match rate, then each
// run's median seconds per step (the `train` records) and its epochs per hour at that rate.
//   Usage: node bench/ablation/curves.mjs runs/a/log.jsonl runs/b/log.jsonl [...]
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (files.length < 1) {
  console.error('usage: node bench/ablation/curves.mjs run1/log.jsonl [run2/log.jsonl ...]');
  process.exit(2);
}

function readRun(file) {
  const val = new Map();
  const stepSeconds = [];
  let stepsPerEpoch = null;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let r;
    try {
      r = JSON.parse(line);
    } catch {
      continue; // a torn last line of a killed run
    }
    if (r.type === 'val') val.set(r.epoch, r); // a resumed run may validate an epoch again: the last one counts
    if (r.type === 'train' && typeof r.stepSeconds === 'number') stepSeconds.push(r.stepSeconds);
    if (r.type === 'start' && typeof r.batchesPerEpoch === 'number') stepsPerEpoch = r.batchesPerEpoch;
  }
  stepSeconds.sort((a, b) => a - b);
  const median = stepSeconds.length ? stepSeconds[Math.floor(stepSeconds.length / 2)] : null;
  return { file, val, median, stepsPerEpoch };
}

const runs = files.map(readRun);
const epochs = [...runs[0].val.keys()].filter((e) => runs.every((r) => r.val.has(e))).sort((a, b) => a - b);
const fmt = (x, d = 3) => (typeof x === 'number' ? x.toFixed(d) : '-');
console.log(`| epoch | ${runs.map((r) => `${r.file}: val v / l, MR`).join(' | ')} |`);
console.log(`|---|${runs.map(() => '---').join('|')}|`);
for (const e of epochs) {
  console.log(`| ${e} | ${runs.map((r) => { const v = r.val.get(e); return `${fmt(v.lossV)} / ${fmt(v.lossL)}, ${fmt(100 * v.matchRate, 1)} %`; }).join(' | ')} |`);
}
for (const r of runs) {
  const perEpoch = r.median !== null && r.stepsPerEpoch !== null ? r.median * r.stepsPerEpoch : null;
  console.log(`${r.file}: median ${fmt(r.median)} s/step${perEpoch ? `, ${fmt(3600 / perEpoch, 1)} epochs/h` : ''}, last validated epoch ${Math.max(...r.val.keys())}`);
}
