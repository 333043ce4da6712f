/**
 * Progress reporting for long jobs: done/total, rate, ETA. Writes a single
 * updating line on a TTY, and a plain line every `intervalMs` otherwise (logs, CI).
 */
export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  intervalMs?: number;
  stream?: NodeJS.WriteStream;
  /** suppress output entirely (library use, tests) */
  quiet?: boolean;
  /** work already done before this run (a resumed job): shown in done/total, left out of the rate and ETA */
  initial?: number;
  /** how amounts (done, total, rate) are printed, e.g. as bytes; default: the plain number */
  formatAmount?: (n: number) => string;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** Parses "90", "90s", "15m", "2h", "1h30m" into seconds. */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const re = /(\d+(?:\.\d+)?)\s*([hms])/g;
  let total = 0;
  let consumed = 0;
  for (const m of t.matchAll(re)) {
    const v = Number(m[1]);
    total += m[2] === 'h' ? v * 3600 : m[2] === 'm' ? v * 60 : v;
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== t.replace(/\s+/g, '').length) {
    throw new Error(`cannot parse duration "${text}" (use e.g. 90s, 15m, 2h, 1h30m)`);
  }
  return total;
}

export class Progress {
  private readonly start = Date.now();
  private last = 0;
  private done = 0;
  /** `done` when the last plain (non-TTY) line was written: finish() does not repeat an identical final line */
  private printedDone = -1;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  get elapsedSeconds(): number {
    return (Date.now() - this.start) / 1000;
  }

  update(done: number, extra = ''): void {
    this.done = done;
    const now = Date.now();
    const interval = this.opts.intervalMs ?? (this.tty ? 200 : 10_000);
    if (now - this.last < interval && done < this.opts.total) return;
    this.last = now;
    this.print(extra);
  }

  finish(extra = ''): void {
    if (!this.tty && this.printedDone === this.done && extra === '') return;
    this.print(extra);
    if (this.tty && !this.opts.quiet) this.stream.write('\n');
  }

  private print(extra: string): void {
    if (this.opts.quiet) return;
    const el = this.elapsedSeconds;
    const rate = el > 0 ? Math.max(0, this.done - (this.opts.initial ?? 0)) / el : 0;
    const eta = rate > 0 ? (this.opts.total - this.done) / rate : NaN;
    const pct = this.opts.total > 0 ? ((100 * this.done) / this.opts.total).toFixed(1) : '100';
    const unit = this.opts.unit ?? 'it';
    const f = this.opts.formatAmount;
    const amounts = f ? `${f(this.done)}/${f(this.opts.total)} (${pct}%) ${f(rate)}/s` : `${this.done}/${this.opts.total} (${pct}%) ${rate.toFixed(2)} ${unit}/s`;
    const line = `${this.opts.label}: ${amounts} elapsed ${formatDuration(el)} ETA ${formatDuration(eta)}${extra ? ' ' + extra : ''}`;
    if (this.tty) this.stream.write(`\r\x1b[K${line}`);
    else {
      this.stream.write(line + '\n');
      this.printedDone = this.done;
    }
  }
}

/** 1536 -> "1.5 KiB", 5530785 -> "5.3 MiB" */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[u]}`;
}
