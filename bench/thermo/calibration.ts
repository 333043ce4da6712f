/**
 * Calibration of the stability pipeline (issue #15): a fixed random subset of MP-20 test structures
 * (DFT-relaxed) relaxed again with M3GNet-MP-2021.2.8 + FIRE + cell filter, then
 *  - formation energy (potential + MP2020 corrections, elemental references from the potential) vs
 *    the dataset's DFT formation energy: MAE, mean signed error, worst chemistries;
 *  - energy above a train + val hull: the test structures are MP phases, mostly on or near MP's hull,
 *    so nearly all should be "stable"; the mean is the pipeline's bias.
 *
 *   npx tsx bench/thermo/calibration.ts [--n 200] [--seed 0] [--json out/bench/thermo-calibration.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { readSplitSource, readSplitColumns } from '../../src/data/source.js';
import { readCif } from '../../src/crystal/io/cif.js';
import { randomSubset } from '../../src/predict/sampleSplit.js';
import { m3gnetPotential } from '../../src/potential/shipped.js';
import { relaxStructures } from '../../src/relax/relax.js';
import { StabilityScorer } from '../../src/thermo/stability.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '200' }, seed: { type: 'string', default: '0' }, json: { type: 'string', default: 'out/bench/thermo-calibration.json' } } });
const src = readSplitSource('mp_20', 'test');
const cols = readSplitColumns('mp_20', 'test', ['formation_energy_per_atom', 'pretty_formula']);
const all = src.materialIds.map((id, k) => ({ id, k })).filter(({ k }) => src.cifs[k] && cols['formation_energy_per_atom']![k] !== '');
const pick = randomSubset(all, Number(values.n), Number(values.seed));
const potential = m3gnetPotential();
const t0 = performance.now();
const scorer = await StabilityScorer.create(potential, 'm3gnet-mp-2021.2.8', { hullSplits: ['train', 'val'], onProgress: (l) => console.error(l) });
const tRefs = (performance.now() - t0) / 1000;
const structures = pick.map(({ k }) => readCif(src.cifs[k]!));
const t1 = performance.now();
const relaxed = relaxStructures(structures, potential, { fmax: 0.05, maxSteps: 300, onStep: ({ step, relaxing }) => step % 20 === 0 && console.error(`step ${step}: ${relaxing} relaxing`) });
const tRelax = (performance.now() - t1) / 1000;
const rows = pick.map(({ id, k }, i) => {
  const r = relaxed[i]!;
  const st = scorer.score(r.final, r.energy);
  return { id, formula: cols['pretty_formula']![k]!, dft: Number(cols['formation_energy_per_atom']![k]), ef: st.formationEnergyPerAtom, ehull: st.eAboveHull, converged: r.converged, steps: r.steps };
});
const ok = rows.filter((r) => r.ef !== null);
const err = ok.map((r) => r.ef! - r.dft);
const mae = err.reduce((s, e) => s + Math.abs(e), 0) / err.length;
const mse = err.reduce((s, e) => s + e, 0) / err.length;
const ehull = ok.map((r) => r.ehull!);
const report = {
  label: 'M3GNet-MP-2021.2.8 relaxation + MP-20 DFT hull (MP2020); hull from MP-20 train + val',
  n: rows.length, scored: ok.length, converged: rows.filter((r) => r.converged).length,
  formationEnergy: { maeEvPerAtom: +mae.toFixed(4), meanSignedErrorEvPerAtom: +mse.toFixed(4) },
  eAboveHull: {
    mean: +(ehull.reduce((s, e) => s + e, 0) / ehull.length).toFixed(4),
    median: +[...ehull].sort((a, b) => a - b)[Math.floor(ehull.length / 2)]!.toFixed(4),
    stableAt0_1: +((100 * ehull.filter((e) => e <= 0.1).length) / ehull.length).toFixed(1),
    stableAt0: +((100 * ehull.filter((e) => e <= 0).length) / ehull.length).toFixed(1),
  },
  worst: [...ok].sort((a, b) => Math.abs(b.ef! - b.dft) - Math.abs(a.ef! - a.dft)).slice(0, 10).map((r) => ({ id: r.id, formula: r.formula, dft: +r.dft.toFixed(3), ours: +r.ef!.toFixed(3) })),
  seconds: { elementalReferences: +tRefs.toFixed(0), relaxation: +tRelax.toFixed(0) },
  relaxThroughput: { structuresPerSecond: +(rows.length / tRelax).toFixed(3), meanSteps: +(rows.reduce((s, r) => s + r.steps, 0) / rows.length).toFixed(1) },
};
console.log(JSON.stringify(report, null, 2));
mkdirSync(dirname(values.json!), { recursive: true });
writeFileSync(values.json!, JSON.stringify({ ...report, rows }, null, 1) + '\n');
