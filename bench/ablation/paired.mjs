#!/usr/bin/env node
// Paired comparison of two `kldm evaluate csp --json` reports over the same materials (issue #13
// ablations): match rates @1, the materials matched by only one of the two, and the two-sided exact
// sign-test (McNemar) p-value of that split. Small subsets make small differences noise; this says
// how much.   Usage: node bench/ablation/paired.mjs base.report.json other.report.json [...]
import { readFileSync } from 'node:fs';

const read = (f) => {
  const r = JSON.parse(readFileSync(f, 'utf8'));
  return { file: f, mr: r.mr_at_1, match: new Map(r.per_material.map((m) => [m.material_id, m.match_at_1 === true])) };
};

/** two-sided exact binomial test of k successes in n trials at p = 1/2 */
function signTestP(k, n) {
  if (n === 0) return 1;
  const logC = (a, b) => { let s = 0; for (let i = 1; i <= b; i++) s += Math.log(a - b + i) - Math.log(i); return s; };
  const tail = (m) => { let p = 0; for (let i = 0; i <= m; i++) p += Math.exp(logC(n, i) - n * Math.LN2); return p; };
  return Math.min(1, 2 * tail(Math.min(k, n - k)));
}

const [baseFile, ...others] = process.argv.slice(2);
if (!baseFile || others.length === 0) {
  console.error('usage: node bench/ablation/paired.mjs base.report.json other.report.json [...]');
  process.exit(2);
}
const base = read(baseFile);
console.log(`base ${baseFile}: MR@1 ${(100 * base.mr).toFixed(2)} % over ${base.match.size} materials`);
console.log('other\tMR@1 %\tonly other\tonly base\tsign-test p');
for (const f of others) {
  const o = read(f);
  let onlyO = 0, onlyB = 0;
  for (const [id, b] of base.match) {
    if (!o.match.has(id)) throw new Error(`${f} has no result for ${id}: not the same materials`);
    const m = o.match.get(id);
    if (m && !b) onlyO++;
    if (b && !m) onlyB++;
  }
  console.log([f, (100 * o.mr).toFixed(2), onlyO, onlyB, signTestP(onlyO, onlyO + onlyB).toFixed(3)].join('\t'));
}
