import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { editCard, modelCardMarkdown, readEvalReport, storedCard, type CardEvaluation, type CspReportSummary } from './modelCard.js';
import type { ModelEntry } from './registry.js';

const report = (mr: number, n = 100): CspReportSummary => ({ protocol: 'kldm', k: 1, n_materials: n, mr_at_1: mr, rmse_at_1: 0.1, mr_at_k: mr, rmse_at_k: 0.1, counts: { invalid: 0, missing: 0 } });
const row = (label: string, mr: number, commands: string[] = []): CardEvaluation => ({ label, report: report(mr), commands });

test('editCard replaces a row in place (keeping its commands unless new ones are given), appends new rows, drops rows, keeps notes', () => {
  const card = { evaluations: [row('EM, full test', 0.2, ['kldm sample em']), row('PC, subset', 0.3, ['kldm sample pc --subset'])], notes: 'old notes' };
  const edited = editCard(card, {
    set: [row('EM, full test', 0.25), row('PC, full test', 0.33)],
    commands: new Map([['PC, full test', ['kldm sample pc']]]),
    drop: ['PC, subset'],
  });
  assert.deepEqual(edited.evaluations.map((e) => [e.label, e.report.mr_at_1, e.commands]), [
    ['EM, full test', 0.25, ['kldm sample em']],
    ['PC, full test', 0.33, ['kldm sample pc']],
  ]);
  assert.equal(edited.notes, 'old notes');
  assert.equal(card.evaluations.length, 2, 'the input card is not modified');
  assert.equal(editCard(card, { notes: 'new' }).notes, 'new');
});

test('editCard names unknown labels instead of ignoring them', () => {
  const card = { evaluations: [row('EM, full test', 0.2)], notes: '' };
  assert.throws(() => editCard(card, { drop: ['EM full test'] }), /--drop "EM full test": the card has no such row \(rows: EM, full test\)/);
  assert.throws(() => editCard(card, { commands: new Map([['PC', ['x']]]) }), /--command "PC=\.\.\.": the card has no row with that label/);
});

test('storedCard reads the stored rows, or an older manifest\'s metrics without commands', () => {
  const base = { manifest: { metrics: { 'EM, full test': report(0.2) } }, dir: '/x' } as unknown as ModelEntry;
  assert.deepEqual(storedCard(base), { evaluations: [{ label: 'EM, full test', commands: [], report: report(0.2) }], notes: '' });
  const withCard = { manifest: { metrics: {}, card: { evaluations: [row('PC', 0.3, ['c'])], notes: 'n' } }, dir: '/x' } as unknown as ModelEntry;
  assert.deepEqual(storedCard(withCard), { evaluations: [row('PC', 0.3, ['c'])], notes: 'n' });
});

test('a DNG model card names its type diffusion and the generated validity, without the CSP paper row', () => {
  const entry = {
    dir: '/nonexistent',
    manifest: {
      name: 'p5-dng', dataset: 'perov_5', task: 'dng', description: '', typeDiffusion: { kind: 'masking', maskSchedule: 'linear', simpleLoss: false },
      netConfig: { hidden: 16, timeDim: 8, layers: 2, freqs: 4, numTypes: 101, layerNorm: true, zeroCog: true, smoothTypes: false, typeOutputs: 100 },
      trainConfig: null, ema: true, trainingRange: { elements: [8, 22], minAtoms: 5, maxAtoms: 5 },
      training: { epochs: 3, steps: 9, wallClockHours: 0.1, cpuCores: 2, seed: 42, finalTrainLoss: null,
        finalValidation: { loss: 0.9, lossV: 0.3, lossL: 0.3, lossH: 2.1, matchRate: null, epoch: 3, structValidity: 0.85, compValidity: 0.98, generated: 128 } },
      metrics: {},
    },
  } as unknown as ModelEntry;
  const md = modelCardMarkdown(entry, []);
  assert.match(md, /## Generated structures: spec §10\.1 proxy metrics \(measured\)\n\nNot evaluated yet\./);
  assert.doesNotMatch(md, /## CSP metrics/);
  assert.match(md, /\| task \| DNG .*types: masking \(linear schedule\)/);
  assert.match(md, /types 2\.1000\); 128 generated \(validation sampler\): structural validity 85\.00 %, composition 98\.00 %/);
  assert.doesNotMatch(md, /Paper \(spec §11/);
});

test('a kldm evaluate dng --json report becomes a proxy-metric row and a stability row beside DiffCSP\'s figures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-card-'));
  const full = {
    task: 'dng', dataset: 'perov_5', generated_file: 'g.jsonl',
    counts: { generated: 1000, constructed: 1000, valid: 972, reference: 3785, referenceFailures: 0 },
    validity: { struct: 0.988, comp: 0.983, overall: 0.972 },
    coverage: { cutoffs: { struct: 0.2, comp: 4 }, validOnly: false, covRecall: 0.875, covPrecision: 0.934 },
    wasserstein: { sampled: null, allValid: { n: 972, density: 0.047, nElements: 0.0548 } },
    uniqueness: { uniqueValid: 952, rate: 0.9794 }, novelty: { novelValid: 465, rate: 0.4784, uniqueNovelValid: 454, uniqueNovelRate: 0.4671 },
    seconds: 8.2, structures: [{ id: 'a' }],
    stability: { label: 'M3GNet-MP-2021.2.8 relaxation + MP-20 DFT hull (MP2020)', generated: 1000, relaxed: 988, converged: 950, rmsdMean: 0.2, unmatched: 100,
      eHullMean: 0.64, stablePercent: 5.3, stableAt0Percent: 0.7, sunPercent: 2.3, sunOver: 'all generated', perStructure: [{ index: 0 }] },
  };
  const path = join(dir, 'r.json');
  writeFileSync(path, JSON.stringify(full));
  const summary = readEvalReport(path);
  assert.ok(!('structures' in summary) && !('perStructure' in ((summary as { stability?: object }).stability ?? {})), 'per-structure lists are dropped');
  const entry = {
    dir,
    manifest: {
      name: 'p5-dng', dataset: 'perov_5', task: 'dng', description: '', typeDiffusion: { kind: 'masking', maskSchedule: 'linear', simpleLoss: false },
      netConfig: { hidden: 16, timeDim: 8, layers: 2, freqs: 4, numTypes: 101, layerNorm: true, zeroCog: true, smoothTypes: false, typeOutputs: 100 },
      trainConfig: null, ema: true, trainingRange: { elements: [8, 22], minAtoms: 5, maxAtoms: 5 },
      training: { epochs: 3, steps: 9, wallClockHours: 0.1, cpuCores: 2, seed: 42, finalTrainLoss: null, finalValidation: null },
      metrics: {},
    },
  } as unknown as ModelEntry;
  const md = modelCardMarkdown(entry, [{ label: 'EM, 1,000', report: summary, commands: ['kldm generate ...'] }]);
  assert.match(md, /\| EM, 1,000 \| 1000 \| 98\.80 \/ 98\.30 \/ 97\.20 \| 87\.50 \/ 93\.40 \| 0\.0470 \/ 0\.0548 \(all 972 valid\) \| 97\.94 \/ 47\.84 \| 8 s \|/);
  assert.match(md, /DiffCSP \(Jiao et al\. 2023.*validity 100 \/ 98\.85 %/);
  assert.match(md, /## Stability: spec §10\.2 columns, M3GNet-MP-2021\.2\.8 relaxation \+ MP-20 DFT hull \(MP2020\)/);
  assert.match(md, /\| EM, 1,000 \| 988 of 1000 \(950\) \| 0\.2000 \(100\) \| 0\.6400 \| 5\.30 \/ 0\.70 \| 2\.30 \(of all generated\) \|/);
  assert.doesNotMatch(md, /## CSP metrics/);

  writeFileSync(path, JSON.stringify({ task: 'dng', validity: {} }));
  assert.throws(() => readEvalReport(path), /not a complete kldm evaluate dng --json report/);
});

test('the card names the model\'s lattice parameterisation and compares with the paper rows of that variant (spec §11.1/§11.2)', () => {
  const cspEntry = (dataset: string, latticeParameterisation?: 'x0' | 'eps'): ModelEntry => ({
    dir: '/nonexistent',
    manifest: {
      name: 'm', dataset, task: 'csp', description: '', ...(latticeParameterisation ? { latticeParameterisation } : {}),
      netConfig: { hidden: 16, timeDim: 8, layers: 2, freqs: 4, numTypes: 101, layerNorm: true, zeroCog: true },
      trainConfig: null, ema: true, trainingRange: { elements: [8, 22], minAtoms: 5, maxAtoms: 5 },
      training: { epochs: 3, steps: 9, wallClockHours: 0.1, cpuCores: 2, seed: 42, finalTrainLoss: null, finalValidation: null },
      metrics: {},
    },
  }) as unknown as ModelEntry;
  const epsMp = modelCardMarkdown(cspEntry('mp_20', 'eps'), []);
  assert.match(epsMp, /\| lattice parameterisation \| eps \(spec §4; "KLDM-ε"\); TDM simplified target \(§3\.4\) \|/);
  assert.match(epsMp, /Paper \(spec §11, KLDM-ε, H=512 L=6 trained on a GPU\): EM @1 61\.72 % \/ 0\.0686, PC @1 65\.37 % \/ 0\.0455, EM @20 83\.68 % \/ 0\.0532, PC @20 81\.08 % \/ 0\.0440 \(MR \/ RMSE\)\./);
  assert.doesNotMatch(epsMp, /KLDM-x0/);
  const epsPerov = modelCardMarkdown(cspEntry('perov_5', 'eps'), []);
  assert.match(epsPerov, /KLDM-ε, H=512 L=6 trained on a GPU\): EM @1 53\.14 % \/ 0\.0758, PC @1 52\.72 % \/ 0\.0678, EM @20 99\.97 % \/ 0\.0152, PC @20 99\.94 % \/ 0\.0226/);
  // x0, and a manifest from before the field (no trainConfig either): the KLDM-x0 rows, digits as in the spec
  for (const p of ['x0', undefined] as const) {
    const x0Mp = modelCardMarkdown(cspEntry('mp_20', p), []);
    assert.match(x0Mp, /\| lattice parameterisation \| x0 \(spec §4; "KLDM-x0"\)/);
    assert.match(x0Mp, /Paper \(spec §11, KLDM-x0, H=512 L=6 trained on a GPU\): EM @1 62\.92 % \/ 0\.0833, PC @1 65\.83 % \/ 0\.0517, EM @20 82\.94 % \/ 0\.0575, PC @20 80\.18 % \/ 0\.0453/);
    assert.doesNotMatch(x0Mp, /KLDM-ε/);
  }
});

test('the card states the training CPU cost: measured CPU time where it covers every step, else the wall clock × cores bound beside the measured part', () => {
  const entry = (cpu?: { hours: number; steps: number }): ModelEntry => ({
    dir: '/nonexistent',
    manifest: {
      name: 'm', dataset: 'mp_20', task: 'csp', description: '',
      netConfig: { hidden: 16, timeDim: 8, layers: 2, freqs: 4, numTypes: 101, layerNorm: true, zeroCog: true },
      trainConfig: null, ema: true, trainingRange: { elements: [8, 22], minAtoms: 5, maxAtoms: 5 },
      training: { epochs: 3, steps: 9000, wallClockHours: 10, cpuCores: 2, seed: 42, finalTrainLoss: null, finalValidation: null, ...(cpu ? { cpu } : {}) },
      metrics: {},
    },
  }) as unknown as ModelEntry;
  assert.match(modelCardMarkdown(entry(), []), /\| training \| 3 epochs, 9000 steps, 10\.00 h wall clock on a 2-core machine, at most 20\.0 CPU-hours \(wall clock × cores\), seed 42 \|/);
  assert.match(modelCardMarkdown(entry({ hours: 11.04, steps: 9000 }), []), /10\.00 h wall clock on a 2-core machine, 11\.0 CPU-hours \(measured process CPU time\), seed 42 \|/);
  assert.match(modelCardMarkdown(entry({ hours: 3.26, steps: 2500 }), []), /at most 20\.0 CPU-hours \(wall clock × cores\); measured process CPU time of 2,500 of the steps 3\.3 CPU-hours, seed 42 \|/);
});
