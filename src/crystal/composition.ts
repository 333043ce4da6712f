/**
 * Chemical formulas: parsing, validation and expansion into the ordered site
 * list (atomic numbers) that CSP sampling starts from.
 *
 * Accepted syntax (whitespace between tokens is ignored):
 *   formula  := group+ multiple?
 *   group    := Element count? | "(" group+ ")" count? | "[" group+ "]" count?
 *   count    := positive integer
 *   multiple := ("x" | "*" | "×") positive integer      e.g. "Fe2O3x2" = Fe4O6
 * Examples: SrTiO3, Li3Co3O6, Ca(OH)2, K4[Fe(CN)6], "Sr Ti O3", Fe2O3x2.
 *
 * Browser-safe (no Node imports): the web page bundles this module.
 */
import { InputError } from '../util/errors.js';
import { atomicNumber, elementBySymbol, isElementSymbol } from './elements.js';

export const DEFAULT_MAX_ATOMS = 100;
/** brackets nested deeper than this are refused (the parser recurses per level; found by fuzzing: a stack overflow) */
export const MAX_NESTING = 32;

export interface ParseFormulaOptions {
  /** upper bound on the total number of atoms (after the multiple); default 100 */
  maxAtoms?: number;
}

/** Element counts, elements in order of first appearance in the formula. */
export interface Composition {
  elements: string[];
  counts: number[];
}

class FormulaParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  private fail(msg: string): never {
    throw new InputError(`formula "${this.text}": ${msg} at position ${this.pos + 1}`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private peek(): string | undefined {
    this.skipSpace();
    return this.text[this.pos];
  }

  /** A count after an element or group: positive integer, default 1. */
  private count(): number {
    this.skipSpace();
    const rest = this.text.slice(this.pos);
    const m = /^([+-]?\d*\.?\d+(?:[eE][+-]?\d+)?)/.exec(rest);
    if (!m) return 1;
    const raw = m[1]!;
    const value = Number(raw);
    if (!/^\d+$/.test(raw)) {
      if (value <= 0 || raw.startsWith('-')) this.fail(`count "${raw}" must be a positive integer`);
      this.fail(`count "${raw}" is not an integer (fractional occupancies are not supported)`);
    }
    if (value === 0) this.fail('count 0 is not allowed');
    this.pos += raw.length;
    return value;
  }

  private group(into: Map<string, number>, closer: string | null, depth = 0): void {
    if (depth > MAX_NESTING) this.fail(`brackets nested more than ${MAX_NESTING} deep`);
    for (;;) {
      const c = this.peek();
      if (c === undefined) {
        if (closer) this.fail(`missing "${closer}"`);
        return;
      }
      if (c === ')' || c === ']') {
        if (c !== closer) this.fail(`unexpected "${c}"`);
        return;
      }
      if (c === '(' || c === '[') {
        this.pos++;
        const inner = new Map<string, number>();
        const close = c === '(' ? ')' : ']';
        this.group(inner, close, depth + 1);
        if (inner.size === 0) this.fail('empty parentheses');
        this.pos++; // the closer
        const k = this.count();
        for (const [el, n] of inner) into.set(el, (into.get(el) ?? 0) + n * k);
        continue;
      }
      if (/[A-Z]/.test(c)) {
        // longest element symbol: one capital + up to two lower-case letters (known symbols only)
        let sym = c;
        const n1 = this.text[this.pos + 1];
        if (n1 !== undefined && /[a-z]/.test(n1) && isElementSymbol(c + n1)) sym = c + n1;
        if (sym.length === 1 && n1 !== undefined && /[a-z]/.test(n1) && n1 !== 'x') {
          // a lower-case letter that does not form a known symbol with the capital
          elementBySymbol(c + n1, `formula "${this.text}"`);
        }
        // not an element: quote the two-letter spelling when a lower-case letter follows ("Xx2O" names
        // "Xx", not "X" followed by the x-multiplier)
        if (!isElementSymbol(sym)) elementBySymbol(n1 !== undefined && /[a-z]/.test(n1) ? c + n1 : sym, `formula "${this.text}"`);
        this.pos += sym.length;
        const k = this.count();
        into.set(sym, (into.get(sym) ?? 0) + k);
        continue;
      }
      if ((c === 'x' || c === '*' || c === '×') && closer === null) return;
      if (/[a-z]/.test(c)) {
        const m = /^[a-z]+/.exec(this.text.slice(this.pos))![0];
        const caseFix = m.charAt(0).toUpperCase() + m.slice(1, 2);
        if (isElementSymbol(caseFix)) this.fail(`element symbols start with a capital letter ("${caseFix}", not "${m.slice(0, 2)}")`);
        this.fail(`unexpected "${c}"`);
      }
      if (c === '-' || c === '+') this.fail(`unexpected "${c}" (counts must be positive integers)`);
      this.fail(`unexpected "${c}"`);
    }
  }

  parse(): { counts: Map<string, number>; multiple: number } {
    const counts = new Map<string, number>();
    this.group(counts, null);
    let multiple = 1;
    const c = this.peek();
    if (c === 'x' || c === '*' || c === '×') {
      this.pos++;
      this.skipSpace();
      if (!/^[+-]?\d/.test(this.text.slice(this.pos)) && !/^\.\d/.test(this.text.slice(this.pos))) this.fail(`"${c}" must be followed by a positive integer multiple`);
      multiple = this.count();
      if (this.peek() !== undefined) this.fail(`unexpected "${this.peek()}" after the multiple`);
    }
    return { counts, multiple };
  }
}

/** Parses and validates a formula; InputError for unknown elements, empty input, bad counts, or too many atoms. */
export function parseFormula(formula: string, options: ParseFormulaOptions = {}): Composition {
  const maxAtoms = options.maxAtoms ?? DEFAULT_MAX_ATOMS;
  if (formula.trim() === '') throw new InputError('empty formula');
  const { counts, multiple } = new FormulaParser(formula).parse();
  if (counts.size === 0) throw new InputError(`formula "${formula}" contains no elements`);
  const elements = [...counts.keys()];
  const values = elements.map((e) => counts.get(e)! * multiple);
  const total = values.reduce((s, v) => s + v, 0);
  if (total > maxAtoms) {
    throw new InputError(`formula "${formula}" has ${total} atoms, more than the limit of ${maxAtoms} per cell`);
  }
  return { elements, counts: values };
}

export function totalAtoms(c: Composition): number {
  return c.counts.reduce((s, v) => s + v, 0);
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Number of formula units: gcd of the counts (Li3Co3O6 -> 3). */
export function formulaUnits(c: Composition): number {
  return c.counts.reduce((g, v) => gcd(g, v), 0);
}

/** The composition divided by its number of formula units (element order kept). */
export function reducedComposition(c: Composition): Composition {
  const g = formulaUnits(c);
  return { elements: [...c.elements], counts: c.counts.map((v) => v / g) };
}

/** Formula text in the composition's element order, counts of 1 omitted: {Sr:1,Ti:1,O:3} -> "SrTiO3". */
export function formatFormula(c: Composition): string {
  return c.elements.map((e, i) => (c.counts[i] === 1 ? e : `${e}${c.counts[i]}`)).join('');
}

/** Reduced formula, element order kept: Li3Co3O6 -> "LiCoO2". */
export function reducedFormula(c: Composition): string {
  return formatFormula(reducedComposition(c));
}

/** Composition of a list of element symbols (order of first appearance). */
export function compositionOf(species: readonly string[]): Composition {
  const counts = new Map<string, number>();
  for (const s of species) counts.set(s, (counts.get(s) ?? 0) + 1);
  return { elements: [...counts.keys()], counts: [...counts.values()] };
}

/**
 * The ordered site list of a composition as atomic numbers: each element's
 * sites contiguous, elements in formula order (SrTiO3 -> [38, 22, 8, 8, 8]).
 */
export function expandSites(c: Composition): number[] {
  const out: number[] = [];
  for (let i = 0; i < c.elements.length; i++) {
    const z = atomicNumber(c.elements[i]!);
    for (let k = 0; k < c.counts[i]!; k++) out.push(z);
  }
  return out;
}
