/**
 * MODEL_CARD.md for a shipped model, generated from its model.json and the JSON reports of
 * `kldm evaluate csp --json` (one per sampler/protocol/split), with the paper's numbers
 * (spec §11, KLDM-x0, the lattice parameterisation we train) beside ours. The measured metrics are
 * also stored in model.json (`metrics`) so `kldm predict` can rank models.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { elementSymbol } from '../crystal/elements.js';
import { CURVES_FILE, type ModelEntry } from './registry.js';
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

export interface CardEvaluation {
  /** e.g. "PC, test (full)" */
  label: string;
  /** the command that produced the predictions and the report */
  commands: string[];
  report: CspReportSummary;
}

/** KLDM-x0 numbers of spec §11 (MR %, RMSE), for comparison. */
const PAPER_X0: Record<string, { em1: [number, number]; pc1: [number, number]; em20: [number, number]; pc20: [number, number] }> = {
  perov_5: { em1: [52.44, 0.0698], pc1: [52.14, 0.0647], em20: [99.89, 0.0186], pc20: [99.92, 0.0255] },
  mp_20: { em1: [62.92, 0.0833], pc1: [65.83, 0.0517], em20: [82.94, 0.0575], pc20: [80.18, 0.0453] },
};

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
    lines.push(`| task | DNG (atom types, positions, velocities and lattice diffused), spec §3-§7; types: ${td ? `${td.kind}${td.kind === 'masking' ? ` (${td.maskSchedule} schedule${td.simpleLoss ? ', simple loss' : ''})` : ''}` : '?'} (§5, docs/dng.md) |`);
  } else {
    lines.push(`| task | CSP (compositions given; positions, velocities and lattice diffused), spec §3-§7 |`);
  }
  lines.push(`| training data | ${m.dataset} train split (${m.trainingRange.minAtoms}-${m.trainingRange.maxAtoms} atoms per cell, ${m.trainingRange.elements.length} elements) |`);
  lines.push(`| network | CSPVNet H=${m.netConfig.hidden}, D_t=${m.netConfig.timeDim}, L=${m.netConfig.layers}, F=${m.netConfig.freqs}; ${countTrainableParams(m.netConfig).toLocaleString('en-US')} trainable parameters |`);
  if (cfg) {
    lines.push(`| config | \`${cfg.name}\`: AdamW lr ${cfg.optim.lr}, batch ${cfg.optim.batchSize}, wd ${cfg.optim.weightDecay}, AMSGrad ${cfg.optim.amsgrad}, EMA ${cfg.schedule.emaDecay} from epoch ${cfg.schedule.emaStartEpoch} |`);
  }
  lines.push(`| lattice parameterisation | x0 (spec §4; "KLDM-x0"); TDM simplified target (§3.4) |`);
  lines.push(`| weights | ${m.ema ? 'EMA' : 'raw (no EMA yet)'} |`);
  // CPU-hours = wall clock × cores of the machine: an upper bound (sittings that shared the cores count in full)
  lines.push(
    `| training | ${t.epochs} epochs, ${t.steps} steps, ${t.wallClockHours.toFixed(2)} h wall clock on ${t.cpuCores} CPU cores ` +
      `(at most ${(t.wallClockHours * t.cpuCores).toFixed(1)} CPU-hours), seed ${t.seed} |`,
  );
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
  lines.push(dng ? '## CSP metrics with fixed types (measured)' : '## CSP metrics (measured)', '');
  if (evaluations.length === 0) {
    lines.push('Not evaluated yet.', '');
  } else {
    lines.push('| evaluation | protocol | materials | k | MR@1 % | RMSE@1 | MR@k % | RMSE@k | invalid | missing |', '|---|---|---|---|---|---|---|---|---|---|');
    for (const e of evaluations) {
      const r = e.report;
      lines.push(
        `| ${e.label} | ${r.protocol} | ${r.n_materials} | ${r.k} | ${pct(r.mr_at_1)} | ${rms(r.rmse_at_1)} | ${r.k > 1 ? pct(r.mr_at_k) : '-'} | ${r.k > 1 ? rms(r.rmse_at_k) : '-'} | ${r.counts?.invalid ?? '?'} | ${r.counts?.missing ?? '?'} |`,
      );
    }
    lines.push('');
  }
  const paper = dng ? undefined : PAPER_X0[m.dataset];
  if (paper) {
    lines.push('Paper (spec §11, KLDM-x0, H=512 L=6 trained on a GPU): ' +
      `EM @1 ${paper.em1[0]} % / ${paper.em1[1]}, PC @1 ${paper.pc1[0]} % / ${paper.pc1[1]}, ` +
      `EM @20 ${paper.em20[0]} % / ${paper.em20[1]}, PC @20 ${paper.pc20[0]} % / ${paper.pc20[1]} (MR / RMSE).`, '');
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
  if (m.card) return { evaluations: m.card.evaluations.map((e) => ({ label: e.label, commands: [...e.commands], report: e.report as CspReportSummary })), notes: m.card.notes };
  return { evaluations: Object.entries(m.metrics).map(([label, report]) => ({ label, commands: [], report: report as CspReportSummary })), notes: '' };
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
