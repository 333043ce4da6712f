/** Formulas (src/crystal/composition.ts parseFormula + expandSites): grammar-shaped, random and mutated real formulas. */
import fc from 'fast-check';
import { DEFAULT_MAX_ATOMS, expandSites, parseFormula, totalAtoms } from '../../crystal/composition.js';
import { readCif } from '../../crystal/io/cif.js';
import { reducedFormula, compositionOf } from '../../crystal/composition.js';
import { datasetCifs } from '../corpus.js';
import { FuzzViolation, type FuzzTarget } from '../harness.js';
import { mutatedText } from '../mutate.js';

const SYMBOLS = ['H', 'He', 'Li', 'O', 'Sr', 'Ti', 'Fe', 'C', 'N', 'Cl', 'Na', 'U', 'Og', 'Xx', 'X', 'x', 'Q', 'Uuo', 'fe', 'SR'];
const TOKENS = ['(', ')', '[', ']', 'x', '*', '×', ' ', '0', '-1', '1.5', '99999999999999999999', '1e3', '((((((', '))))', 'x2', '\u0000', '\t'];

/** formula-shaped strings: groups of symbols, counts and brackets, nested a few levels */
const groupText: fc.Arbitrary<string> = fc.letrec<{ group: string }>((tie) => ({
  group: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(fc.constantFrom(...SYMBOLS), fc.oneof(fc.constant(''), fc.nat({ max: 200 }).map(String), fc.constantFrom('0', '-2', '1.5', '1e2', '123456789012'))).map(([s, c]) => s + c),
    fc.tuple(fc.constantFrom('(', '['), fc.array(tie('group'), { minLength: 0, maxLength: 3 }), fc.constantFrom(')', ']', ''), fc.oneof(fc.constant(''), fc.nat({ max: 50 }).map(String)))
      .map(([o, inner, c, k]) => o + inner.join('') + c + k),
  ),
})).group;

const formulaText: fc.Arbitrary<string> = fc.tuple(fc.array(groupText, { minLength: 0, maxLength: 5 }), fc.oneof(fc.constant(''), fc.tuple(fc.constantFrom('x', '*', '×', ' x'), fc.constantFrom('2', '0', '', '-1', '99999999999', '1.5')).map(([a, b]) => a + b)))
  .map(([groups, mult]) => groups.join('') + mult);

let corpus: string[] = [];

export const formulaTarget: FuzzTarget<{ text: string; maxAtoms: number | undefined }> = {
  name: 'formula',
  description: 'parseFormula + expandSites on grammar-shaped, random and mutated real formulas',
  setup() {
    corpus = datasetCifs().slice(0, 100).map((r) => reducedFormula(compositionOf(readCif(r.cif).species)));
    corpus.push('SrTiO3', 'Ca(OH)2', 'K4[Fe(CN)6]', 'Fe2O3x2', 'Sr Ti O3');
  },
  arbitrary: () =>
    fc.record({
      text: fc.oneof(
        formulaText,
        mutatedText(corpus, TOKENS),
        fc.string({ maxLength: 40, unit: 'binary' }),
        fc.nat({ max: 5000 }).map((d) => '('.repeat(d) + 'H' + ')'.repeat(d)),
        fc.nat({ max: 5000 }).map((d) => 'H'.repeat(d)),
      ),
      maxAtoms: fc.option(fc.constantFrom(1, 20, 100, 1_000_000), { nil: undefined }),
    }),
  run({ text, maxAtoms }) {
    const c = parseFormula(text, maxAtoms === undefined ? {} : { maxAtoms });
    const total = totalAtoms(c);
    if (c.elements.length === 0 || !c.counts.every((n) => Number.isSafeInteger(n) && n > 0)) throw new FuzzViolation(`accepted counts ${JSON.stringify(c.counts)}`);
    if (total > (maxAtoms ?? DEFAULT_MAX_ATOMS)) throw new FuzzViolation(`accepted ${total} atoms over the cap`);
    if (expandSites(c).length !== total) throw new FuzzViolation('expandSites length differs from the total');
  },
};
