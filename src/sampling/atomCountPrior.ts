/**
 * Number of atoms per generated crystal (spec §5.4): drawn from the training split's empirical
 * distribution over atom counts (seeded), or fixed, or uniform over a range chosen by the user.
 * Only counts the model's lattice statistics know can be decoded (§13.13), so every prior is
 * checked against them up front.
 */
import type { LatticeStats, PreparedSplit } from '../data/types.js';
import { InputError } from '../util/errors.js';

/** count of training crystals per atom count N (keys are N as strings, JSON-friendly) */
export type AtomCountHistogram = Record<string, number>;

export type AtomCountPrior =
  | { kind: 'empirical'; histogram: AtomCountHistogram }
  | { kind: 'fixed'; count: number }
  /** uniform over lo..hi inclusive */
  | { kind: 'range'; lo: number; hi: number };

/** The split's atom-count histogram (what §5.4's empirical distribution is made of). */
export function atomCountHistogram(split: PreparedSplit): AtomCountHistogram {
  const h: AtomCountHistogram = {};
  for (let k = 0; k < split.materialIds.length; k++) {
    const n = split.atomOffsets[k + 1]! - split.atomOffsets[k]!;
    h[n] = (h[n] ?? 0) + 1;
  }
  return h;
}

/** Parses "--atoms N" / "--atoms-range a-b" into a prior (positive integers, a <= b). */
export function parseAtomCountPrior(atoms: string | undefined, range: string | undefined): AtomCountPrior | null {
  if (atoms !== undefined && range !== undefined) throw new InputError('give at most one of --atoms N and --atoms-range a-b');
  const int = (flag: string, v: string): number => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isInteger(n) || n < 1) throw new InputError(`${flag}: expected a positive integer, got "${v}"`);
    return n;
  };
  if (atoms !== undefined) return { kind: 'fixed', count: int('--atoms', atoms) };
  if (range !== undefined) {
    const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(range);
    if (!m) throw new InputError(`--atoms-range: expected a-b (e.g. 4-12), got "${range}"`);
    const lo = int('--atoms-range', m[1]!);
    const hi = int('--atoms-range', m[2]!);
    if (lo > hi) throw new InputError(`--atoms-range: ${lo} > ${hi}`);
    return { kind: 'range', lo, hi };
  }
  return null;
}

/** The atom counts a prior can produce, ascending. */
export function priorSupport(prior: AtomCountPrior): number[] {
  if (prior.kind === 'fixed') return [prior.count];
  if (prior.kind === 'range') return Array.from({ length: prior.hi - prior.lo + 1 }, (_, i) => prior.lo + i);
  return Object.keys(prior.histogram).map(Number).filter((n) => (prior.histogram[n] ?? 0) > 0).sort((a, b) => a - b);
}

/** Throws an InputError when the prior can produce a count the lattice statistics cannot decode (§13.13). */
export function checkPriorAgainstStats(prior: AtomCountPrior, stats: LatticeStats, modelName = 'the model'): void {
  const support = priorSupport(prior);
  if (support.length === 0) throw new InputError('the atom-count distribution is empty');
  const missing = support.filter((n) => stats.byAtomCount[n] === undefined);
  if (missing.length > 0) {
    const known = Object.keys(stats.byAtomCount).join(', ');
    throw new InputError(`${modelName} cannot generate cells of ${missing.join(', ')} atoms (its lattice statistics know N = ${known})`);
  }
}

/** Draws `n` atom counts from the prior with `rng` (one uniform per draw, inverse CDF for the empirical one). */
export function drawAtomCounts(prior: AtomCountPrior, n: number, rng: { uniform(): number }): Int32Array {
  const out = new Int32Array(n);
  if (prior.kind === 'fixed') return out.fill(prior.count);
  if (prior.kind === 'range') {
    const width = prior.hi - prior.lo + 1;
    for (let i = 0; i < n; i++) out[i] = prior.lo + Math.min(width - 1, Math.floor(rng.uniform() * width));
    return out;
  }
  const support = priorSupport(prior);
  const cdf = new Float64Array(support.length);
  let total = 0;
  for (let j = 0; j < support.length; j++) {
    total += prior.histogram[support[j]!]!;
    cdf[j] = total;
  }
  for (let i = 0; i < n; i++) {
    const u = rng.uniform() * total;
    let j = 0;
    while (j < support.length - 1 && u >= cdf[j]!) j++;
    out[i] = support[j]!;
  }
  return out;
}
