/**
 * Uniqueness (no structure-matcher duplicate earlier in the generated set) and novelty (no match in the
 * training split) of generated crystals (spec §10.1 issue scope, §10.2 S.U.N. definitions).
 *
 * Speed: two structures can only match if their gcd-reduced compositions are equal, so every structure
 * is put in a bucket keyed by that composition and the (expensive) matcher only runs inside a bucket,
 * and only between structures whose primitive cells have the same number of sites (the matcher runs
 * without supercell attempts, like pymatgen's default). Primitive/Niggli reduction is done once per
 * structure. Uniqueness compares each structure with the first member of every earlier duplicate class
 * of its bucket.
 */
import type { Structure } from '../../crystal/types.js';
import { matchReduced, reduceForMatching, type MatcherOptions } from '../matcher/structureMatcher.js';

/** pymatgen StructureMatcher() defaults, the usual choice for uniqueness/novelty (MatterGen, CDVAE-style S.U.N.). */
export const DEFAULT_DUPLICATE_MATCHER: Required<MatcherOptions> = { ltol: 0.2, stol: 0.3, angleTol: 5, primitiveCell: true, scale: true };

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** "Fe:1,O:2"-style key of the gcd-reduced composition (element order canonical). */
export function reducedCompositionKey(species: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const s of species) counts.set(s, (counts.get(s) ?? 0) + 1);
  const g = [...counts.values()].reduce(gcd);
  return [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([e, c]) => `${e}:${c / g}`).join(',');
}

interface Reduced {
  index: number;
  reduced: Structure | null;
}

function reduceOrNull(s: Structure): Structure | null {
  try {
    return reduceForMatching(s, true);
  } catch {
    return null; // a structure the reduction cannot handle matches nothing
  }
}

function matches(a: Structure, b: Structure, opt: Required<MatcherOptions>): boolean {
  if (a.species.length !== b.species.length) return false;
  try {
    return matchReduced(a, b, opt) !== null;
  } catch {
    return false;
  }
}

export interface UniquenessResult {
  /** per input structure (null input = not considered): index of the earlier structure it duplicates, or -1 if unique */
  duplicateOf: Array<number | null>;
}

/** Uniqueness within a set; `structures[i] === null` means "not considered" (e.g. unreadable). */
export function findDuplicates(structures: ReadonlyArray<Structure | null>, options: Required<MatcherOptions> = DEFAULT_DUPLICATE_MATCHER): UniquenessResult {
  const duplicateOf: Array<number | null> = structures.map(() => null);
  const classes = new Map<string, Reduced[]>();
  for (let i = 0; i < structures.length; i++) {
    const s = structures[i];
    if (!s) continue;
    const key = reducedCompositionKey(s.species);
    const reps = classes.get(key) ?? [];
    const r = reduceOrNull(s);
    let dup = -1;
    if (r) {
      for (const rep of reps) {
        if (rep.reduced && matches(r, rep.reduced, options)) {
          dup = rep.index;
          break;
        }
      }
    }
    duplicateOf[i] = dup;
    if (dup === -1) {
      reps.push({ index: i, reduced: r });
      classes.set(key, reps);
    }
  }
  return { duplicateOf };
}

/** Training structures bucketed by reduced composition; reduced lazily, only for buckets that are queried. */
export class ReferenceIndex {
  private readonly buckets = new Map<string, Array<{ index: number; source: Structure; reduced?: Structure | null }>>();

  constructor(structures: Iterable<Structure>) {
    let i = 0;
    for (const s of structures) {
      const key = reducedCompositionKey(s.species);
      const list = this.buckets.get(key) ?? [];
      list.push({ index: i++, source: s });
      this.buckets.set(key, list);
    }
  }

  /** Index of a reference structure that matches `s`, or -1. */
  findMatch(s: Structure, options: Required<MatcherOptions> = DEFAULT_DUPLICATE_MATCHER): number {
    const list = this.buckets.get(reducedCompositionKey(s.species));
    if (!list) return -1;
    const r = reduceOrNull(s);
    if (!r) return -1;
    for (const entry of list) {
      if (entry.reduced === undefined) entry.reduced = reduceOrNull(entry.source);
      if (entry.reduced && matches(r, entry.reduced, options)) return entry.index;
    }
    return -1;
  }
}
