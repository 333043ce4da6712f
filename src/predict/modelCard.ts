/**
 * MODEL_CARD.md for a shipped model, generated from its model.json and the JSON reports of
 * `kldm evaluate csp --json` (one per sampler/protocol/split) and, for DNG models, of
 * `kldm evaluate dng --json` (spec §10.1 proxy metrics, and the §10.2 stability columns when the
 * report has them), with the published numbers (spec §11 KLDM-x0 or KLDM-ε, as the model's
 * lattice parameterisation; DiffCSP's DNG proxy metrics) beside ours. The measured metrics are also stored in model.json (`metrics`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { elementSymbol } from '../crystal/elements.js';
import { CURVES_FILE, modelLatticeParameterisation, type ModelEntry } from './registry.js';
import type { VpParameterisation } from '../diffusion/latticeVp.js';
import { countTrainableParams } from '../network/config.js';

/** The subset of a `kldm evaluate csp --json` report the card uses. */
export interface CspReportSummary {
  protocol: string;
  k: number;
  n_materials: number;
  mr_at_1: number;
  rmse_at_1: number | null;
  mr_at_k: number;
  rmse_at_k: number | null;
  counts?: { invalid?: number; missing?: number };
}

/** The subset of a `kldm evaluate dng --json` report the card uses (src/eval/dng/report.ts). */
export interface DngReportSummary {
  task: 'dng';
  dataset: string;
  counts: { generated: number; valid: number; reference: number };
  validity: { struct: number; comp: number; overall: number };
  coverage: { covRecall: number; covPrecision: number };
  wasserstein: {
    sampled: { n: number; density: number; nElements: number } | null;
    allValid: { n: number; density: number; nElements: number };
  };
  uniqueness: { rate: number };
  novelty: { rate: number; uniqueNovelRate: number };
  seconds: number;
  stability?: {
    label: string; generated: number; relaxed: number; converged: number; rmsdMean: number | null; unmatched: number;
    eHullMean: number; stablePercent: number; stableAt0Percent: number; sunPercent: number; sunOver: string;
  };
}

export type EvalReportSummary = CspReportSummary | DngReportSummary;

export function isDngReport(r: EvalReportSummary): r is DngReportSummary {
  return (r as DngReportSummary).task === 'dng';
}

export interface CardEvaluation {
  /** e.g. "PC, test (full)" */
  label: string;
  /** the command that produced the predictions and the report */
  commands: string[];
  report: EvalReportSummary;
}

/**
 * DiffCSP's published DNG proxy metrics (Jiao et al. 2023, arXiv:2309.04475, ab initio generation table,
 * 10,000 samples; transcribed). Only the datasets whose figures we transcribed are listed.
 */
const DIFFCSP_DNG: Record<string, { struct: number; comp: number; covR: number; covP: number; density: number; nElements: number }> = {
  perov_5: { struct: 100, comp: 98.85, covR: 99.74, covP: 98.27, density: 0.111, nElements: 0.0128 },
  // the paper's Table 4 ("Results on ab initio generation task"), MP-20 row
  mp_20: { struct: 100, comp: 83.25, covR: 99.71, covP: 99.76, density: 0.3502, nElements: 0.3398 },
};

/** Poster DNG table (spec §11.3, MP-20, MatterSim relaxation + Alex-MP-ICSD hull): RMSD, E_hull, stable %, S.U.N. %. */
const POSTER_DNG_MP20: Array<[string, number, number, number, number]> = [
  ['MatterGen-MP*', 0.147, 0.201, 47.05, 25.76],
  ['DiffCSP*', 0.413, 0.189, 41.25, 20.13],
  ['KLDM-x0 (C)', 0.371, 0.269, 38.62, 16.67],
  ['KLDM-x0 (C-AB)', 0.296, 0.187, 49.84, 17.91],
  ['KLDM-x0 (D)', 0.283, 0.155, 59.21, 18.52],
];

type PaperCspRows = Record<string, { em1: [number, number]; pc1: [number, number]; em20: [number, number]; pc20: [number, number] }>;

/** KLDM-x0 numbers of spec §11.1/§11.2 (MR %, RMSE), for comparison. */
const PAPER_X0: PaperCspRows = {
  perov_5: { em1: [52.44, 0.0698], pc1: [52.14, 0.0647], em20: [99.89, 0.0186], pc20: [99.92, 0.0255] },
  mp_20: { em1: [62.92, 0.0833], pc1: [65.83, 0.0517], em20: [82.94, 0.0575], pc20: [80.18, 0.0453] },
};

/** KLDM-ε numbers of spec §11.1/§11.2 (MR %, RMSE), for models with the eps lattice parameterisation. */
const PAPER_EPS: PaperCspRows = {
  perov_5: { em1: [53.14, 0.0758], pc1: [52.72, 0.0678], em20: [99.97, 0.0152], pc20: [99.94, 0.0226] },
  mp_20: { em1: [61.72, 0.0686], pc1: [65.37, 0.0455], em20: [83.68, 0.0532], pc20: [81.08, 0.044] },
};

/** "MR % / RMSE" with the spec's digits (RMSE to 4 places: 0.0440, not 0.044). */
function paperPair([mr, rmse]: [number, number]): string {
  return `${mr.toFixed(2)} % / ${rmse.toFixed(4)}`;
}

/** The paper's name of a lattice parameterisation (spec §11: "KLDM-ε" / "KLDM-x0"). */
function paperVariant(p: VpParameterisation): string {
  return p === 'eps' ? 'KLDM-ε' : 'KLDM-x0';
}

/** A `kldm evaluate csp --json` or `kldm evaluate dng --json` report, reduced to what the card shows. */
export function readEvalReport(path: string): EvalReportSummary {
  let r: unknown;
  try {
    r = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`${path}: cannot read evaluation report (${(err as Error).message})`);
  }
  if (r && typeof r === 'object' && (r as { task?: unknown }).task === 'dng') return dngSummary(path, r as DngReportSummary);
  return readCspReport(path);
}

function dngSummary(path: string, r: DngReportSummary): DngReportSummary {
  const num = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);
  if (!r.validity || !num(r.validity.overall) || !r.coverage || !r.counts || !num(r.counts.generated) || !r.wasserstein?.allValid || !r.uniqueness || !r.novelty) {
    throw new InputError(`${path}: not a complete kldm evaluate dng --json report`);
  }
  const st = r.stability;
  // keep the summary only (the per-structure lists are large)
  return {
    task: 'dng', dataset: r.dataset,
    counts: { generated: r.counts.generated, valid: r.counts.valid, reference: r.counts.reference },
    validity: { struct: r.validity.struct, comp: r.validity.comp, overall: r.validity.overall },
    coverage: { covRecall: r.coverage.covRecall, covPrecision: r.coverage.covPrecision },
    wasserstein: { sampled: r.wasserstein.sampled, allValid: r.wasserstein.allValid },
    uniqueness: { rate: r.uniqueness.rate },
    novelty: { rate: r.novelty.rate, uniqueNovelRate: r.novelty.uniqueNovelRate },
    seconds: r.seconds,
    ...(st ? {
      stability: {
        label: st.label, generated: st.generated, relaxed: st.relaxed, converged: st.converged, rmsdMean: st.rmsdMean, unmatched: st.unmatched,
        eHullMean: st.eHullMean, stablePercent: st.stablePercent, stableAt0Percent: st.stableAt0Percent, sunPercent: st.sunPercent, sunOver: st.sunOver,
      },
    } : {}),
  };
}

export function readCspReport(path: string): CspReportSummary {
  let r: CspReportSummary;
  try {
    r = JSON.parse(readFileSync(path, 'utf8')) as CspReportSummary;
  } catch (err) {
    throw new InputError(`${path}: cannot read evaluation report (${(err as Error).message})`);
  }
  if (typeof r.mr_at_1 !== 'number' || typeof r.n_materials !== 'number') throw new InputError(`${path}: not a kldm evaluate csp --json report`);
  // keep the summary only (the report's per-material list is large)
  return {
    protocol: r.protocol, k: r.k, n_materials: r.n_materials, mr_at_1: r.mr_at_1, rmse_at_1: r.rmse_at_1, mr_at_k: r.mr_at_k, rmse_at_k: r.rmse_at_k,
    counts: { invalid: r.counts?.invalid, missing: r.counts?.missing },
  };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}`;
}

function rms(x: number | null): string {
  return x === null ? 'n/a' : x.toFixed(4);
}

export function modelCardMarkdown(entry: ModelEntry, evaluations: CardEvaluation[], notes = ''): string {
  const m = entry.manifest;
  const t = m.training;
  const fv = t.finalValidation as {
    loss?: number; lossV?: number; lossL?: number; matchRate?: number | null; epoch?: number;
    lossH?: number; structValidity?: number; compValidity?: number; generated?: number;
  } | null;
  const dng = m.task === 'dng';
  const cfg = m.trainConfig;
  const lines: string[] = [];
  lines.push(`# ${m.name}`, '', m.description || `KLDM ${dng ? 'de-novo generation' : 'crystal-structure-prediction'} model trained on ${m.dataset}.`, '');
  lines.push('## Model', '');
  lines.push('| field | value |', '|---|---|');
  if (dng) {
    const td = m.typeDiffusion;
    lines.push(`| task | DNG (atom types, positions, velocities and lattice diffused), spec §3-§7; types: ${td ? `${td.kind}${td.kind === 'masking' ? ` (${td.maskSchedule} schedule${td.simpleLoss ? ', simple loss' : ''})` : ''}` : '?'} (§5, docs/dng.md)${td?.lossWeight !== undefined && td.lossWeight !== 1 ? `; type loss weight w_h = ${td.lossWeight} (spec §6: 1; a deviation, as DiffCSP's 20 for one-hot types)` : ''} |`);
  } else {
    lines.push(`| task | CSP (compositions given; positions, velocities and lattice diffused), spec §3-§7 |`);
  }
  lines.push(`| training data | ${m.dataset} train split (${m.trainingRange.minAtoms}-${m.trainingRange.maxAtoms} atoms per cell, ${m.trainingRange.elements.length} elements) |`);
  lines.push(`| network | CSPVNet H=${m.netConfig.hidden}, D_t=${m.netConfig.timeDim}, L=${m.netConfig.layers}, F=${m.netConfig.freqs}; ${countTrainableParams(m.netConfig).toLocaleString('en-US')} trainable parameters |`);
  if (cfg) {
    lines.push(`| config | \`${cfg.name}\`: AdamW lr ${cfg.optim.lr}, batch ${cfg.optim.batchSize}, wd ${cfg.optim.weightDecay}, AMSGrad ${cfg.optim.amsgrad}${(cfg.optim.decaySteps ?? 0) > 0 ? `, cosine lr decay over ${cfg.optim.decaySteps} steps to ${cfg.optim.minLrRatio}·lr (spec §8: constant)` : ''}, EMA ${cfg.schedule.emaDecay} from epoch ${cfg.schedule.emaStartEpoch} |`);
  }
  const lattice = modelLatticeParameterisation(m);
  lines.push(`| lattice parameterisation | ${lattice} (spec §4; "${paperVariant(lattice)}"); TDM simplified target (§3.4) |`);
  lines.push(`| weights | ${m.ema ? 'EMA' : 'raw (no EMA yet)'} |`);
  lines.push(`| training | ${t.epochs} epochs, ${t.steps} steps, ${t.wallClockHours.toFixed(2)} h wall clock on a ${t.cpuCores}-core machine, ${cpuText(t)}, seed ${t.seed} |`);
  const ws = t.warmStart;
  // run-relative epoch numbers of the last run, shown as totals over all the training
  const offset = ws?.epochs ?? 0;
  if (ws) {
    lines.push(
      `| warm start | the last run (${ws.runEpochs} epochs, ${ws.runSteps} steps, ${ws.runHours.toFixed(2)} h) started from the ${ws.ema ? 'EMA ' : ''}weights of ${ws.source} ` +
        `(${ws.epochs} epochs, ${ws.steps} steps, ${(ws.trainSeconds / 3600).toFixed(2)} h, ${ws.dataset}) with a fresh optimiser state${ws.freshTensors?.length ? `; that model was a ${ws.task?.toUpperCase() ?? 'different'} model: ${ws.freshTensors.join(', ')} started from the spec §2.5 initialisation (a deviation from the paper, which trains DNG from scratch)` : ''}; the totals above include both |`,
    );
  }
  if (fv && typeof fv.loss === 'number') {
    lines.push(
      `| last validation (epoch ${(fv.epoch ?? 0) + offset}) | loss ${fv.loss.toFixed(4)} (velocity ${fv.lossV?.toFixed(4)}, lattice ${fv.lossL?.toFixed(4)}` +
        `${typeof fv.lossH === 'number' ? `, types ${fv.lossH.toFixed(4)}` : ''})` +
        `${typeof fv.matchRate === 'number' ? `, EM match rate ${pct(fv.matchRate)} % on the validation subset` : ''}` +
        `${typeof fv.structValidity === 'number' ? `; ${fv.generated} generated (validation sampler): structural validity ${pct(fv.structValidity)} %, composition ${pct(fv.compValidity ?? 0)} %` : ''} |`,
    );
  }
  const ft = t.finalTrainLoss as { loss?: number; lossV?: number; lossL?: number; lossH?: number; epoch?: number } | null | undefined;
  if (ft && typeof ft.loss === 'number') {
    lines.push(
      `| last training epoch (${(ft.epoch ?? 0) + offset}) | mean loss ${ft.loss.toFixed(4)} (velocity ${ft.lossV?.toFixed(4)}, lattice ${ft.lossL?.toFixed(4)}` +
        `${typeof ft.lossH === 'number' ? `, types ${ft.lossH.toFixed(4)}` : ''}) |`,
    );
  }
  lines.push(`| elements seen | ${m.trainingRange.elements.map((z) => elementSymbol(z)).join(' ')} |`);
  lines.push('');
  if (existsSync(join(entry.dir, CURVES_FILE))) {
    lines.push(`Training and validation curves of the run (loss per part, ${dng ? 'validity of the generated validation batch' : 'validation match rate'}): [${CURVES_FILE}](${CURVES_FILE}).`, '');
  }
  const cspRows = evaluations.filter((e): e is CardEvaluation & { report: CspReportSummary } => !isDngReport(e.report));
  const dngRows = evaluations.filter((e): e is CardEvaluation & { report: DngReportSummary } => isDngReport(e.report));
  if (dng) lines.push(...dngSections(m.dataset, dngRows));
  // a DNG model without fixed-type CSP rows has nothing to say about CSP
  if (!dng || cspRows.length > 0) lines.push(dng ? '## CSP metrics with fixed types (measured)' : '## CSP metrics (measured)', '');
  if (cspRows.length === 0) {
    if (!dng) lines.push('Not evaluated yet.', '');
  } else {
    lines.push('| evaluation | protocol | materials | k | MR@1 % | RMSE@1 | MR@k % | RMSE@k | invalid | missing |', '|---|---|---|---|---|---|---|---|---|---|');
    for (const e of cspRows) {
      const r = e.report;
      lines.push(
        `| ${e.label} | ${r.protocol} | ${r.n_materials} | ${r.k} | ${pct(r.mr_at_1)} | ${rms(r.rmse_at_1)} | ${r.k > 1 ? pct(r.mr_at_k) : '-'} | ${r.k > 1 ? rms(r.rmse_at_k) : '-'} | ${r.counts?.invalid ?? '?'} | ${r.counts?.missing ?? '?'} |`,
      );
    }
    lines.push('');
  }
  const paper = dng ? undefined : (lattice === 'eps' ? PAPER_EPS : PAPER_X0)[m.dataset];
  if (paper) {
    lines.push(`Paper (spec §11, ${paperVariant(lattice)}, H=512 L=6 trained on a GPU): ` +
      `EM @1 ${paperPair(paper.em1)}, PC @1 ${paperPair(paper.pc1)}, EM @20 ${paperPair(paper.em20)}, PC @20 ${paperPair(paper.pc20)} (MR / RMSE).`, '');
  }
  if (evaluations.some((e) => e.commands.length > 0)) {
    lines.push('## Reproduce', '', '```bash');
    for (const e of evaluations) {
      lines.push(`# ${e.label}`);
      for (const c of e.commands) lines.push(c);
    }
    lines.push('```', '');
  }
  // the notes get their own heading unless they start with one (a notes file written as a section)
  const body = notes.trim();
  if (body) lines.push(...(body.startsWith('#') ? [body, ''] : ['## Notes', '', body, '']));
  return lines.join('\n');
}

/** The §10.1 proxy-metric table and the §10.2 stability table of a DNG model's card. */
function dngSections(dataset: string, rows: Array<CardEvaluation & { report: DngReportSummary }>): string[] {
  const lines: string[] = ['## Generated structures: spec §10.1 proxy metrics (measured)', ''];
  if (rows.length === 0) return [...lines, 'Not evaluated yet.', ''];
  lines.push(
    '| evaluation | generated | validity struct / comp / both % | COV-R / COV-P % | W1 density / W1 #elements | unique / novel % of valid | scoring time |',
    '|---|---|---|---|---|---|---|',
  );
  for (const e of rows) {
    const r = e.report;
    const w = r.wasserstein.sampled ?? r.wasserstein.allValid;
    const wNote = r.wasserstein.sampled ? `(${w.n} valid drawn, DiffCSP protocol)` : `(all ${w.n} valid)`;
    lines.push(
      `| ${e.label} | ${r.counts.generated} | ${pct(r.validity.struct)} / ${pct(r.validity.comp)} / ${pct(r.validity.overall)} | ` +
        `${pct(r.coverage.covRecall)} / ${pct(r.coverage.covPrecision)} | ${w.density.toFixed(4)} / ${w.nElements.toFixed(4)} ${wNote} | ` +
        `${pct(r.uniqueness.rate)} / ${pct(r.novelty.rate)} | ${r.seconds.toFixed(0)} s |`,
    );
  }
  const ref = DIFFCSP_DNG[dataset];
  lines.push('');
  if (ref) {
    lines.push(
      `DiffCSP (Jiao et al. 2023, arXiv:2309.04475, ab initio generation, ${dataset}, 10,000 samples; transcribed): validity ${ref.struct} / ${ref.comp} %, ` +
        `COV-R / COV-P ${ref.covR} / ${ref.covP} %, W1 density / #elements ${ref.density} / ${ref.nElements}.`,
      '',
    );
  }
  lines.push(
    'COV from CrystalNN "ops" and magpie fingerprints with the dataset\'s cut-offs against the test split; W1 against the test split; ' +
      'unique: no StructureMatcher (ltol 0.2, stol 0.3, angle 5°) duplicate among the generated; novel: no match in the training split (docs/dng.md).',
    '',
  );
  const st = rows.filter((e) => e.report.stability);
  if (st.length > 0) {
    const label = st[0]!.report.stability!.label;
    lines.push(
      `## Stability: spec §10.2 columns, ${label} (measured)`, '',
      'Not comparable to the poster\'s MatterSim / Alex-MP-ICSD numbers (spec §11.3); docs/stability.md.', '',
      '| evaluation | relaxed (converged) | RMSD Å (unmatched) | mean E_hull eV/atom | stable ≤ 0.1 / ≤ 0 eV/atom % | S.U.N. % |',
      '|---|---|---|---|---|---|',
    );
    for (const e of st) {
      const s = e.report.stability!;
      lines.push(
        `| ${e.label} | ${s.relaxed} of ${s.generated} (${s.converged}) | ${s.rmsdMean === null ? 'n/a' : s.rmsdMean.toFixed(4)} (${s.unmatched}) | ${s.eHullMean.toFixed(4)} | ` +
          `${s.stablePercent.toFixed(2)} / ${s.stableAt0Percent.toFixed(2)} | ${s.sunPercent.toFixed(2)} (of ${s.sunOver}) |`,
      );
    }
    lines.push('');
    if (dataset === 'mp_20') {
      lines.push('Poster, MP-20 (spec §11.3; MatterSim relaxation, Alex-MP-ICSD hull; * quoted from MatterGen): ' +
        POSTER_DNG_MP20.map(([n, rmsd, eh, stable, sun]) => `${n} ${rmsd} Å / ${eh} / ${stable} % / ${sun} %`).join('; ') + ' (RMSD / E_hull / stable / S.U.N.).', '');
    }
  }
  return lines;
}

/** Writes MODEL_CARD.md and stores the metrics, rows (with commands) and notes in model.json. */
export function writeModelCard(entry: ModelEntry, evaluations: CardEvaluation[], notes = ''): string {
  const path = join(entry.dir, 'MODEL_CARD.md');
  writeFileAtomic(path, modelCardMarkdown(entry, evaluations, notes));
  const manifest = { ...entry.manifest, metrics: Object.fromEntries(evaluations.map((e) => [e.label, e.report])), card: { evaluations, notes } };
  writeFileAtomic(join(entry.dir, 'model.json'), JSON.stringify(manifest, null, 2) + '\n');
  return path;
}

/** The card a model.json holds: its stored rows and notes, or (older manifests) its metrics without commands. */
export function storedCard(entry: ModelEntry): { evaluations: CardEvaluation[]; notes: string } {
  const m = entry.manifest;
  if (m.card) return { evaluations: m.card.evaluations.map((e) => ({ label: e.label, commands: [...e.commands], report: e.report as EvalReportSummary })), notes: m.card.notes };
  return { evaluations: Object.entries(m.metrics).map(([label, report]) => ({ label, commands: [], report: report as EvalReportSummary })), notes: '' };
}

export interface CardChanges {
  /** rows to add, or to replace in place when a row with the same label exists */
  set?: CardEvaluation[];
  /** commands by label: replace that row's commands (the row must exist after `set`) */
  commands?: Map<string, string[]>;
  /** labels of rows to remove */
  drop?: string[];
  /** new notes (undefined keeps the stored ones) */
  notes?: string;
}

/** Applies `kldm train card` edits to a stored card; unknown labels are errors (a typo must not pass silently). */
export function editCard(card: { evaluations: CardEvaluation[]; notes: string }, changes: CardChanges): { evaluations: CardEvaluation[]; notes: string } {
  const rows = card.evaluations.map((e) => ({ ...e, commands: [...e.commands] }));
  for (const label of changes.drop ?? []) {
    const i = rows.findIndex((e) => e.label === label);
    if (i < 0) throw new InputError(`--drop "${label}": the card has no such row (rows: ${rows.map((e) => e.label).join('; ') || 'none'})`);
    rows.splice(i, 1);
  }
  for (const e of changes.set ?? []) {
    const i = rows.findIndex((r) => r.label === e.label);
    if (i >= 0) rows[i] = { ...e, commands: e.commands.length > 0 ? e.commands : rows[i]!.commands };
    else rows.push(e);
  }
  for (const [label, commands] of changes.commands ?? []) {
    const row = rows.find((e) => e.label === label);
    if (!row) throw new InputError(`--command "${label}=...": the card has no row with that label`);
    row.commands = commands;
  }
  return { evaluations: rows, notes: changes.notes ?? card.notes };
}

/**
 * The training's CPU cost: the process CPU time the trainer measured (all threads) where it covers every
 * step; otherwise wall clock × cores, an upper bound (sittings that shared the cores or ran one thread count
 * in full), with the measured part beside it.
 */
function cpuText(t: ModelEntry['manifest']['training']): string {
  const bound = `at most ${(t.wallClockHours * t.cpuCores).toFixed(1)} CPU-hours (wall clock × cores)`;
  if (!t.cpu || t.cpu.steps <= 0) return bound;
  if (t.cpu.steps >= t.steps) return `${t.cpu.hours.toFixed(1)} CPU-hours (measured process CPU time)`;
  return `${bound}; measured process CPU time of ${t.cpu.steps.toLocaleString('en-US')} of the steps ${t.cpu.hours.toFixed(1)} CPU-hours`;
}
