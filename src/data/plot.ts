/**
 * A small hand-written SVG figure for `kldm data stats`: atom-count histogram,
 * element counts and histograms of the lattice lengths and angles.
 */
import type { PreparedSplit } from './types.js';
import type { SplitSummary } from './stats.js';

interface Bar {
  label: string;
  value: number;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function barPanel(x0: number, y0: number, w: number, h: number, title: string, bars: Bar[], color: string, labelEvery = 1): string {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const bw = w / Math.max(1, bars.length);
  const parts = [`<text x="${x0}" y="${y0 - 8}" font-size="13" font-weight="bold">${esc(title)}</text>`];
  parts.push(`<line x1="${x0}" y1="${y0 + h}" x2="${x0 + w}" y2="${y0 + h}" stroke="#444"/>`);
  parts.push(`<text x="${x0 - 4}" y="${y0 + 4}" font-size="10" text-anchor="end">${max}</text>`);
  parts.push(`<text x="${x0 - 4}" y="${y0 + h}" font-size="10" text-anchor="end">0</text>`);
  bars.forEach((b, i) => {
    const bh = (b.value / max) * h;
    const x = x0 + i * bw;
    parts.push(`<rect x="${(x + 0.1 * bw).toFixed(2)}" y="${(y0 + h - bh).toFixed(2)}" width="${(0.8 * bw).toFixed(2)}" height="${bh.toFixed(2)}" fill="${color}"><title>${esc(b.label)}: ${b.value}</title></rect>`);
    if (i % labelEvery === 0) parts.push(`<text x="${(x + bw / 2).toFixed(2)}" y="${y0 + h + 12}" font-size="9" text-anchor="middle">${esc(b.label)}</text>`);
  });
  return parts.join('\n');
}

function histogram(values: ArrayLike<number>, bins: number, lo: number, hi: number): Bar[] {
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const k = Math.min(bins - 1, Math.max(0, Math.floor(((values[i]! - lo) / (hi - lo)) * bins)));
    counts[k]!++;
  }
  return counts.map((v, k) => ({ label: (lo + ((k + 0.5) * (hi - lo)) / bins).toFixed(0), value: v }));
}

export function statsSvg(summary: SplitSummary, split: PreparedSplit): string {
  const W = 900;
  const panels: string[] = [];
  const ns = Object.keys(summary.atomCountHistogram).map(Number).sort((a, b) => a - b);
  const nMax = ns[ns.length - 1] ?? 1;
  const atomBars: Bar[] = [];
  for (let n = 1; n <= nMax; n++) atomBars.push({ label: String(n), value: summary.atomCountHistogram[n] ?? 0 });
  panels.push(barPanel(60, 50, W - 100, 150, `Atoms per cell (${summary.structures} structures)`, atomBars, '#3b6ea5', nMax > 30 ? 4 : 1));
  const els = summary.elements.slice(0, 40).map((e) => ({ label: e.symbol, value: e.atoms }));
  panels.push(barPanel(60, 270, W - 100, 150, `Atoms per element (top ${els.length} of ${summary.elements.length})`, els, '#a5563b'));
  const M = split.materialIds.length;
  const pick = (k: number, src: Float32Array) => {
    const out = new Float64Array(M);
    for (let g = 0; g < M; g++) out[g] = src[3 * g + k]!;
    return out;
  };
  const lenAll = Float64Array.from([...pick(0, split.lengths), ...pick(1, split.lengths), ...pick(2, split.lengths)]);
  const lmax = Math.ceil(summary.lattice.c.max > summary.lattice.b.max ? summary.lattice.c.max : summary.lattice.b.max);
  panels.push(barPanel(60, 490, (W - 140) / 2, 130, 'Lattice lengths a, b, c (Å)', histogram(lenAll, 30, 0, Math.max(lmax, 1)), '#4b8b3b', 5));
  const angAll = Float64Array.from([...pick(0, split.angles), ...pick(1, split.angles), ...pick(2, split.angles)]);
  panels.push(barPanel(60 + (W - 140) / 2 + 40, 490, (W - 140) / 2, 130, 'Lattice angles α, β, γ (°)', histogram(angAll, 36, 0, 180), '#7b4b9b', 6));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="660" viewBox="0 0 ${W} 660" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W / 2}" y="22" font-size="16" text-anchor="middle">${esc(`${summary.dataset} / ${summary.split}`)}</text>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}
