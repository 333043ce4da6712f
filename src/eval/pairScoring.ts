/**
 * Scores a matcher against reference answers of pymatgen on a pair file
 * (matcher_pairs.dev.jsonl.gz: {id, cif_a = prediction, cif_b = ground truth,
 * match, rms, category, source}), per category: match/no-match agreement and
 * the share of pairs matched by both whose rms agrees within a tolerance.
 */
import { readJsonl } from '../util/jsonl.js';
import { InputError } from '../util/errors.js';

export interface ReferencePair {
  id: string;
  cifA: string;
  cifB: string;
  match: boolean;
  rms: number | null;
  category: string;
  source: string;
}

/** Reads a reference pair file (.jsonl or .jsonl.gz). */
export function loadReferencePairs(path: string): ReferencePair[] {
  const out: ReferencePair[] = [];
  for (const row of readJsonl(path)) {
    if (row.error !== undefined) throw new InputError(`${path}:${row.line}: ${row.error}`);
    const v = row.value as Record<string, unknown>;
    if (typeof v.cif_a !== 'string' || typeof v.cif_b !== 'string' || typeof v.match !== 'boolean') {
      throw new InputError(`${path}:${row.line}: expected fields cif_a, cif_b (strings) and match (boolean)`);
    }
    out.push({
      id: String(v.id ?? row.line),
      cifA: v.cif_a,
      cifB: v.cif_b,
      match: v.match,
      rms: typeof v.rms === 'number' ? v.rms : null,
      category: String(v.category ?? 'all'),
      source: String(v.source ?? ''),
    });
  }
  return out;
}

/** A matcher under test: (prediction CIF, ground-truth CIF) -> rms or null (no match). Throws = counted as disagreement. */
export type PairMatcher = (cifA: string, cifB: string) => number | null;

export interface CategoryScore {
  category: string;
  pairs: number;
  agree: number;
  /** pairs both matchers matched */
  bothMatched: number;
  /** of those, |rms - reference rms| <= rmsTol */
  rmsAgree: number;
  errors: number;
}

export interface PairScore {
  categories: CategoryScore[];
  total: CategoryScore;
  /** ids of pairs that disagree (match flag or rms) with details */
  disagreements: Array<{ id: string; category: string; refMatch: boolean; refRms: number | null; ours: number | null; error?: string }>;
  seconds: number;
}

export function scorePairs(pairs: readonly ReferencePair[], matcher: PairMatcher, rmsTol = 1e-4): PairScore {
  const byCat = new Map<string, CategoryScore>();
  const total: CategoryScore = { category: 'all', pairs: 0, agree: 0, bothMatched: 0, rmsAgree: 0, errors: 0 };
  const disagreements: PairScore['disagreements'] = [];
  const t0 = performance.now();
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i]!;
    const key = `${p.source}/${p.category}`;
    let cat = byCat.get(key);
    if (!cat) {
      cat = { category: key, pairs: 0, agree: 0, bothMatched: 0, rmsAgree: 0, errors: 0 };
      byCat.set(key, cat);
    }
    let ours: number | null = null;
    let error: string | undefined;
    try {
      ours = matcher(p.cifA, p.cifB);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    for (const c of [cat, total]) {
      c.pairs++;
      if (error !== undefined) {
        c.errors++;
        continue;
      }
      if ((ours !== null) === p.match) c.agree++;
      if (ours !== null && p.match && p.rms !== null) {
        c.bothMatched++;
        if (Math.abs(ours - p.rms) <= rmsTol) c.rmsAgree++;
      }
    }
    const rmsBad = ours !== null && p.rms !== null && Math.abs(ours - p.rms) > rmsTol;
    if (error !== undefined || (ours !== null) !== p.match || rmsBad) {
      disagreements.push({ id: p.id, category: key, refMatch: p.match, refRms: p.rms, ours, ...(error !== undefined ? { error } : {}) });
    }
  }
  const categories = [...byCat.values()].sort((a, b) => a.category.localeCompare(b.category));
  return { categories, total, disagreements, seconds: (performance.now() - t0) / 1000 };
}

/** Markdown table of a score (agreement % per category, rms agreement % where both matched). */
export function formatPairScore(score: PairScore, title = 'matcher'): string {
  const pct = (a: number, b: number): string => (b === 0 ? '-' : ((100 * a) / b).toFixed(2));
  const lines = [`| category (${title}) | pairs | match agreement % | both matched | rms within 1e-4 % | errors |`, '|---|---:|---:|---:|---:|---:|'];
  for (const c of [...score.categories, score.total]) {
    lines.push(`| ${c.category} | ${c.pairs} | ${pct(c.agree, c.pairs)} | ${c.bothMatched} | ${pct(c.rmsAgree, c.bothMatched)} | ${c.errors} |`);
  }
  return lines.join('\n');
}
