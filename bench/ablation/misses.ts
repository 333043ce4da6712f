/**
 * Where a CSP model's misses come from (issue #13): for each material whose sample 0 did not match,
 * the matcher's stage (cell shape / atoms / primitive size, see docs/evaluation.md), and whether the
 * miss is another known structure of the same composition, i.e. the prediction matches a structure of
 * the reference splits (default: train + val) with that reduced composition: the model picked a
 * polymorph it was trained on instead of the one in the test set. Such misses are ambiguity that a
 * single sample cannot resolve (MR@k can); the rest are plain errors.
 *
 *   npx tsx bench/ablation/misses.ts --dataset mp_20 --split test --predictions preds.jsonl \
 *       [--subset 256 --subset-seed 0] [--reference train,val] [--json out.json]
 *
 * Prints one table: per stage, misses, those whose composition occurs in the reference splits, and
 * those matching a reference structure; and the same for matched predictions (memorised structures).
 */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { loadCspGroundTruth, readPredictionsJsonl } from '../../src/eval/predictionsFile.js';
import { readCifForMatching } from '../../src/eval/cifReader.js';
import { matchStructures, type NoMatchStage } from '../../src/eval/match.js';
import { checkValidity } from '../../src/eval/validity.js';
import { randomSubset } from '../../src/predict/sampleSplit.js';
import type { Structure } from '../../src/crystal/types.js';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'mp_20' },
    split: { type: 'string', default: 'test' },
    predictions: { type: 'string' },
    subset: { type: 'string' },
    'subset-seed': { type: 'string', default: '0' },
    reference: { type: 'string', default: 'train,val' },
    json: { type: 'string' },
  },
});
if (!values.predictions) {
  console.error('usage: npx tsx bench/ablation/misses.ts --predictions preds.jsonl [--dataset mp_20 --split test --subset N --subset-seed S --reference train,val --json out.json]');
  process.exit(2);
}

/** Reduced composition as a key: elements sorted, counts divided by their gcd. */
function compositionKey(s: Structure): string {
  const counts = new Map<string, number>();
  for (const e of s.species) counts.set(e, (counts.get(e) ?? 0) + 1);
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = [...counts.values()].reduce(gcd);
  return [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([e, c]) => `${e}${c / g}`).join('');
}

const t0 = performance.now();
const reference = new Map<string, Structure[]>();
let referenceCount = 0;
for (const split of values.reference.split(',')) {
  for (const g of loadCspGroundTruth(values.dataset, split)) {
    const s = readCifForMatching(g.cif!, `${split} ${g.materialId}`);
    const key = compositionKey(s);
    if (!reference.has(key)) reference.set(key, []);
    reference.get(key)!.push(s);
    referenceCount++;
  }
}

let truths = loadCspGroundTruth(values.dataset, values.split);
if (values.subset !== undefined) truths = randomSubset(truths, Number(values.subset), Number(values['subset-seed']));
const predicted = new Map<string, string>();
for (const p of readPredictionsJsonl(values.predictions).predictions) if (p.sample === 0 && p.cif !== undefined) predicted.set(p.materialId, p.cif);

type Outcome = NoMatchStage | 'matched' | 'invalid' | 'missing';
interface Row { materials: number; compositionKnown: number; matchesReference: number; truthInReference: number }
const rows = new Map<Outcome, Row>();
const perMaterial: Array<{ material_id: string; atoms: number; outcome: Outcome; composition_known: boolean; matches_reference: boolean; truth_in_reference: boolean }> = [];
for (const g of truths) {
  const truth = readCifForMatching(g.cif!, g.materialId);
  const cif = predicted.get(g.materialId);
  let outcome: Outcome = 'missing';
  let pred: Structure | null = null;
  if (cif !== undefined) {
    try {
      pred = readCifForMatching(cif, g.materialId);
    } catch {
      pred = null;
    }
    if (pred === null || !checkValidity(pred, 'kldm').valid) outcome = 'invalid';
    else {
      const m = matchStructures(pred, truth);
      outcome = m.match ? 'matched' : m.failure!;
    }
  }
  const known = reference.get(compositionKey(truth)) ?? [];
  const matchesReference = pred !== null && outcome !== 'invalid' && known.some((r) => matchStructures(pred!, r).match);
  const truthInReference = known.some((r) => matchStructures(truth, r).match);
  const row = rows.get(outcome) ?? { materials: 0, compositionKnown: 0, matchesReference: 0, truthInReference: 0 };
  row.materials++;
  if (known.length > 0) row.compositionKnown++;
  if (matchesReference) row.matchesReference++;
  if (truthInReference) row.truthInReference++;
  rows.set(outcome, row);
  perMaterial.push({ material_id: g.materialId, atoms: truth.species.length, outcome, composition_known: known.length > 0, matches_reference: matchesReference, truth_in_reference: truthInReference });
}

const order: Outcome[] = ['matched', 'lattice', 'sites', 'site_count', 'composition', 'invalid', 'missing'];
console.log(`${values.dataset}/${values.split}: ${truths.length} materials${values.subset !== undefined ? ` (subset ${values.subset}, seed ${values['subset-seed']})` : ''}; reference ${values.reference}: ${referenceCount} structures, ${reference.size} compositions; ${((performance.now() - t0) / 1000).toFixed(0)} s`);
console.log('| sample 0 | materials | composition in reference | prediction matches a reference structure of it | truth itself in reference |');
console.log('|---|---:|---:|---:|---:|');
for (const o of order) {
  const r = rows.get(o);
  if (!r) continue;
  console.log(`| ${o} | ${r.materials} | ${r.compositionKnown} | ${r.matchesReference} | ${r.truthInReference} |`);
}
if (values.json) writeFileSync(values.json, JSON.stringify({ dataset: values.dataset, split: values.split, reference: values.reference, rows: Object.fromEntries(rows), per_material: perMaterial }, null, 1) + '\n');
