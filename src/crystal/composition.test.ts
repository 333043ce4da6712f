import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandSites, formulaUnits, parseFormula, reducedFormula, totalAtoms, compositionOf, formatFormula } from './composition.js';
import { InputError } from '../util/errors.js';

test('simple formulas', () => {
  assert.deepEqual(parseFormula('SrTiO3'), { elements: ['Sr', 'Ti', 'O'], counts: [1, 1, 3] });
  assert.deepEqual(parseFormula('Li3Co3O6'), { elements: ['Li', 'Co', 'O'], counts: [3, 3, 6] });
  assert.deepEqual(parseFormula('CO'), { elements: ['C', 'O'], counts: [1, 1] });
  assert.deepEqual(parseFormula('Co'), { elements: ['Co'], counts: [1] });
  assert.deepEqual(parseFormula('C24'), { elements: ['C'], counts: [24] });
});

test('parentheses, nesting, repeats and whitespace', () => {
  assert.deepEqual(parseFormula('Ca(OH)2'), { elements: ['Ca', 'O', 'H'], counts: [1, 2, 2] });
  assert.deepEqual(parseFormula('K4[Fe(CN)6]'), { elements: ['K', 'Fe', 'C', 'N'], counts: [4, 1, 6, 6] });
  assert.deepEqual(parseFormula('Mg(Al(OH)2)2'), { elements: ['Mg', 'Al', 'O', 'H'], counts: [1, 2, 4, 4] });
  assert.deepEqual(parseFormula(' Sr Ti O3 '), { elements: ['Sr', 'Ti', 'O'], counts: [1, 1, 3] });
  assert.deepEqual(parseFormula('OHO'), { elements: ['O', 'H'], counts: [2, 1] });
});

test('explicit multiple of the formula unit', () => {
  assert.deepEqual(parseFormula('Fe2O3x2'), { elements: ['Fe', 'O'], counts: [4, 6] });
  assert.deepEqual(parseFormula('Fe2O3 x 2'), { elements: ['Fe', 'O'], counts: [4, 6] });
  assert.deepEqual(parseFormula('SrTiO3*3'), { elements: ['Sr', 'Ti', 'O'], counts: [3, 3, 9] });
  assert.deepEqual(parseFormula('Cx4'), { elements: ['C'], counts: [4] });
});

test('errors: unknown element, empty, zero/negative/non-integer counts, cap', () => {
  const bad = (f: string, re: RegExp, opts = {}) =>
    assert.throws(() => parseFormula(f, opts), (e: unknown) => e instanceof InputError && re.test(e.message), f);
  bad('', /empty formula/);
  bad('   ', /empty formula/);
  bad('Xy2', /unknown element symbol "Xy"/);
  bad('Q', /unknown element symbol "Q"/);
  bad('Xx2O', /unknown element symbol "Xx"/);
  bad('sr', /capital letter/);
  bad('Fe0', /count 0/);
  bad('Fe-1O', /positive integer/);
  bad('O2.5', /not an integer/);
  bad('Fe2O3x0', /count 0/);
  bad('Fe2O3x', /positive integer multiple/);
  bad('Ca(OH', /missing "\)"/);
  bad('CaOH)2', /unexpected "\)"/);
  bad('Ca()2', /empty parentheses/);
  bad('Fe2O3x2Fe', /after the multiple/);
  bad('C101', /101 atoms, more than the limit of 100/);
  bad('SrTiO3x5', /25 atoms, more than the limit of 12/, { maxAtoms: 12 });
  assert.equal(totalAtoms(parseFormula('C200', { maxAtoms: 200 })), 200);
});

test('reduced formula, formula units, site expansion', () => {
  const c = parseFormula('Li3Co3O6');
  assert.equal(formulaUnits(c), 3);
  assert.equal(reducedFormula(c), 'LiCoO2');
  assert.equal(formulaUnits(parseFormula('SrTiO3')), 1);
  assert.deepEqual(expandSites(parseFormula('SrTiO3')), [38, 22, 8, 8, 8]);
  assert.deepEqual(expandSites(parseFormula('Ca(OH)2')), [20, 8, 8, 1, 1]);
  assert.equal(formatFormula(compositionOf(['O', 'Ti', 'O', 'Sr', 'O'])), 'O3TiSr');
});
