/**
 * Training curves as a self-contained SVG (hand-written, no dependencies): from a run's
 * log.jsonl, (1) the joint loss (train running mean and validation) against the optimiser step on
 * a log scale, (2) its velocity and lattice parts (and the type part of DNG runs), (3) the validation
 * match rate, or for DNG runs the structural and composition validity of the generated batch.
 * Records replayed after a resume (same step logged twice) keep the latest value.
 */
import { readJsonl } from '../util/jsonl.js';

export interface CurvePoint {
  step: number;
  value: number;
}

export interface Series {
  label: string;
  color: string;
  points: CurvePoint[];
  dashed?: boolean;
}

export interface RunCurves {
  trainLoss: CurvePoint[];
  trainV: CurvePoint[];
  trainL: CurvePoint[];
  valLoss: CurvePoint[];
  valV: CurvePoint[];
  valL: CurvePoint[];
  /** percent */
  valMatch: CurvePoint[];
  /** DNG runs (spec §5): type loss and the generated batch's validity (percent); empty for CSP */
  trainH: CurvePoint[];
  valH: CurvePoint[];
  valStructValidity: CurvePoint[];
  valCompValidity: CurvePoint[];
  title: string;
}

interface LogRecord {
  type?: string;
  step?: number;
  loss?: number;
  lossV?: number;
  lossL?: number;
  matchRate?: number | null;
  lossH?: number;
  structValidity?: number;
  compValidity?: number;
  dataset?: string;
  config?: string;
  initFrom?: { source?: string; epochs?: number; steps?: number };
}

/**
 * A warm-started run (train --init-from) logs its own steps from 0; the title says so, so a reader
 * does not take the curves for the whole training.
 */
function warmStartNote(init: LogRecord['initFrom']): string {
  if (!init || typeof init !== 'object') return '';
  const earlier = typeof init.epochs === 'number' && typeof init.steps === 'number'
    ? ` after ${init.epochs} epochs, ${init.steps.toLocaleString('en-US')} steps`
    : '';
  return `; continues ${init.source ?? 'earlier weights'}${earlier} (steps are this run's)`;
}

/**
 * Reads the curves of a log.jsonl (malformed lines are skipped). With maxStep, records after that
 * optimiser step are left out (a model exported from a checkpoint older than the log's end).
 */
export function readRunCurves(logPath: string, maxStep = Infinity): RunCurves {
  const byKey = new Map<string, Map<number, LogRecord>>();
  let title = logPath;
  for (const entry of readJsonl(logPath)) {
    const r = entry.value as LogRecord | undefined;
    if (!r || typeof r !== 'object') continue;
    if (r.type === 'start' && r.dataset) title = `${r.dataset}, config ${r.config ?? '?'}${warmStartNote(r.initFrom)}`;
    if ((r.type === 'train' || r.type === 'val') && typeof r.step === 'number' && r.step <= maxStep) {
      if (!byKey.has(r.type)) byKey.set(r.type, new Map());
      byKey.get(r.type)!.set(r.step, r);
    }
  }
  const series = (type: string, pick: (r: LogRecord) => number | null | undefined): CurvePoint[] => {
    const m = byKey.get(type);
    if (!m) return [];
    const out: CurvePoint[] = [];
    for (const [step, r] of [...m.entries()].sort((a, b) => a[0] - b[0])) {
      const v = pick(r);
      if (typeof v === 'number' && Number.isFinite(v)) out.push({ step, value: v });
    }
    return out;
  };
  return {
    title,
    trainLoss: series('train', (r) => r.loss),
    trainV: series('train', (r) => r.lossV),
    trainL: series('train', (r) => r.lossL),
    valLoss: series('val', (r) => r.loss),
    valV: series('val', (r) => r.lossV),
    valL: series('val', (r) => r.lossL),
    valMatch: series('val', (r) => (r.matchRate === null || r.matchRate === undefined ? null : 100 * r.matchRate)),
    trainH: series('train', (r) => r.lossH),
    valH: series('val', (r) => r.lossH),
    valStructValidity: series('val', (r) => (r.structValidity === undefined ? null : 100 * r.structValidity)),
    valCompValidity: series('val', (r) => (r.compValidity === undefined ? null : 100 * r.compValidity)),
  };
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12 * step; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

/**
 * Ticks for a log10 axis spanning [lo, hi] (in log10 units): 1-2-5 per decade, thinned to the powers of ten if
 * many; when the axis spans less than a decade and 1-2-5 gives fewer than three ticks, every mantissa 1..9 (a loss
 * between 0.2 and 0.45 would otherwise get the single tick 0.2).
 */
export function logTicks(lo: number, hi: number): number[] {
  const within = (mantissas: number[]): number[] => {
    const out: number[] = [];
    for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
      for (const m of mantissas) {
        const v = Number((m * 10 ** e).toPrecision(12));
        if (Math.log10(v) >= lo && Math.log10(v) <= hi) out.push(v);
      }
    }
    return out;
  };
  const coarse = within([1, 2, 5]);
  if (coarse.length > 8) return coarse.filter((v) => Number.isInteger(Math.log10(v)));
  if (coarse.length >= 3) return coarse;
  const fine = within([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  return fine.length > coarse.length ? fine : coarse;
}

interface PanelOptions {
  logY: boolean;
  yLabel: string;
  /** shared x range across panels */
  xRange: [number, number];
  /** fixed y range (linear axes only) */
  yRange?: [number, number];
}

/** One panel: series against the step, linear or log10 y axis; legend in the top-right corner. */
function panel(x0: number, y0: number, w: number, h: number, title: string, series: Series[], o: PanelOptions): string {
  const { logY, yLabel } = o;
  const all = series.flatMap((s) => s.points).filter((p) => !logY || p.value > 0);
  const parts: string[] = [`<g font-family="sans-serif" font-size="11">`, `<text x="${x0 + w / 2}" y="${y0 - 8}" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`];
  parts.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#888"/>`);
  if (all.length === 0) {
    parts.push(`<text x="${x0 + w / 2}" y="${y0 + h / 2}" text-anchor="middle" fill="#888">no data yet</text></g>`);
    return parts.join('\n');
  }
  const [xmin, xmax] = o.xRange;
  const tv = (v: number): number => (logY ? Math.log10(v) : v);
  let ymin: number;
  let ymax: number;
  if (o.yRange && !logY) {
    [ymin, ymax] = o.yRange;
  } else {
    ymin = Math.min(...all.map((p) => tv(p.value)));
    ymax = Math.max(...all.map((p) => tv(p.value)));
    if (!(ymax > ymin)) {
      ymin -= 0.5;
      ymax += 0.5;
    }
    const pad = 0.05 * (ymax - ymin);
    ymin -= pad;
    ymax += pad;
  }
  const X = (s: number): number => x0 + ((s - xmin) / (xmax - xmin)) * w;
  const Y = (v: number): number => y0 + h - ((tv(v) - ymin) / (ymax - ymin)) * h;
  for (const t of niceTicks(xmin, xmax)) {
    parts.push(`<line x1="${X(t)}" y1="${y0 + h}" x2="${X(t)}" y2="${y0 + h + 4}" stroke="#888"/><text x="${X(t)}" y="${y0 + h + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  const yt = logY ? logTicks(ymin, ymax) : niceTicks(ymin, ymax);
  for (const t of yt) {
    const y = Y(t);
    parts.push(`<line x1="${x0}" y1="${y}" x2="${x0 + w}" y2="${y}" stroke="#eee"/><text x="${x0 - 5}" y="${y + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  parts.push(`<text x="${x0 + w / 2}" y="${y0 + h + 32}" text-anchor="middle">optimiser step</text>`);
  parts.push(`<text transform="translate(${x0 - 45},${y0 + h / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => !logY || p.value > 0);
    if (pts.length === 0) return;
    const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${X(p.step).toFixed(1)},${Y(p.value).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`);
    if (pts.length <= 60) for (const p of pts) parts.push(`<circle cx="${X(p.step).toFixed(1)}" cy="${Y(p.value).toFixed(1)}" r="2.2" fill="${s.color}"/>`);
    const lx = x0 + w - 150;
    parts.push(`<line x1="${lx}" y1="${y0 + 14 + 15 * i}" x2="${lx + 20}" y2="${y0 + 14 + 15 * i}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/><text x="${lx + 25}" y="${y0 + 18 + 15 * i}">${esc(s.label)}</text>`);
  });
  parts.push('</g>');
  return parts.join('\n');
}

/** The three-panel SVG of a run's curves. */
export function curvesSvg(c: RunCurves): string {
  const steps = [c.trainLoss, c.valLoss, c.valMatch, c.valStructValidity].flatMap((pts) => pts.map((p) => p.step));
  const dng = c.trainH.length > 0 || c.valH.length > 0 || c.valStructValidity.length > 0;
  const xlo = steps.length ? Math.min(...steps) : 0;
  const xhi = steps.length && Math.max(...steps) > xlo ? Math.max(...steps) : xlo + 1;
  const xRange: [number, number] = [xlo, xhi];
  const W = 1200;
  const H = 420;
  const pw = 320;
  const ph = 280;
  const top = 70;
  const body = [
    panel(80, top, pw, ph, 'joint loss (spec §6)', [
      { label: 'train (running mean)', color: '#1f77b4', points: c.trainLoss },
      { label: 'validation', color: '#d62728', points: c.valLoss },
    ], { logY: true, yLabel: 'loss (log scale)', xRange }),
    panel(480, top, pw, ph, 'loss parts', [
      { label: 'train velocity L_v', color: '#2ca02c', points: c.trainV },
      { label: 'train lattice L_l', color: '#9467bd', points: c.trainL },
      { label: 'val velocity L_v', color: '#2ca02c', points: c.valV, dashed: true },
      { label: 'val lattice L_l', color: '#9467bd', points: c.valL, dashed: true },
      ...(dng
        ? [
            { label: 'train types L_h', color: '#8c564b', points: c.trainH },
            { label: 'val types L_h', color: '#8c564b', points: c.valH, dashed: true },
          ]
        : []),
    ], { logY: true, yLabel: 'loss (log scale)', xRange }),
    dng
      ? panel(880, top, pw, ph, 'validation: generated structures', [
          { label: 'structural validity', color: '#ff7f0e', points: c.valStructValidity },
          { label: 'composition validity', color: '#17becf', points: c.valCompValidity },
        ], { logY: false, yLabel: 'percent', xRange, yRange: [0, 100] })
      : panel(880, top, pw, ph, 'validation match rate', [{ label: 'match rate (EM sampler)', color: '#ff7f0e', points: c.valMatch }], {
          logY: false, yLabel: 'percent', xRange, yRange: [0, 100],
        }),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-family="sans-serif" font-size="16">kldm training: ${esc(c.title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * Two runs on one chart (kldm plot A --compare B): joint loss (train running mean, validation),
 * validation loss parts and match rate of both, against the step on a shared axis, e.g. the same
 * run in f32 and bf16 (same seed: same batches and noise, so the curves differ by precision only).
 */
export function compareCurvesSvg(a: RunCurves, aLabel: string, b: RunCurves, bLabel: string): string {
  const steps = [a, b].flatMap((c) => [c.trainLoss, c.valLoss, c.valMatch].flatMap((pts) => pts.map((p) => p.step)));
  const xlo = steps.length ? Math.min(...steps) : 0;
  const xhi = steps.length && Math.max(...steps) > xlo ? Math.max(...steps) : xlo + 1;
  const xRange: [number, number] = [xlo, xhi];
  const W = 1200;
  const H = 420;
  const pw = 320;
  const ph = 280;
  const top = 70;
  const body = [
    panel(80, top, pw, ph, 'joint loss (spec §6)', [
      { label: `${aLabel} train`, color: '#1f77b4', points: a.trainLoss },
      { label: `${bLabel} train`, color: '#ff7f0e', points: b.trainLoss, dashed: true },
      { label: `${aLabel} validation`, color: '#2ca02c', points: a.valLoss },
      { label: `${bLabel} validation`, color: '#d62728', points: b.valLoss, dashed: true },
    ], { logY: true, yLabel: 'loss (log scale)', xRange }),
    panel(480, top, pw, ph, 'validation loss parts', [
      { label: `${aLabel} L_v`, color: '#2ca02c', points: a.valV },
      { label: `${bLabel} L_v`, color: '#d62728', points: b.valV, dashed: true },
      { label: `${aLabel} L_l`, color: '#9467bd', points: a.valL },
      { label: `${bLabel} L_l`, color: '#8c564b', points: b.valL, dashed: true },
    ], { logY: true, yLabel: 'loss (log scale)', xRange }),
    panel(880, top, pw, ph, 'validation match rate', [
      { label: aLabel, color: '#1f77b4', points: a.valMatch },
      { label: bLabel, color: '#ff7f0e', points: b.valMatch, dashed: true },
    ], { logY: false, yLabel: 'percent', xRange, yRange: [0, 100] }),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-family="sans-serif" font-size="16">kldm training: ${esc(aLabel)} (${esc(a.title)}) vs ${esc(bLabel)} (${esc(b.title)})</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
