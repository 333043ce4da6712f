import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ELEMENTS, MAX_Z, atomicNumber, elementBySymbol, elementByZ, elementSymbol, isElementSymbol } from './elements.js';
import { InputError } from '../util/errors.js';

test('table covers Z 1..100 with unique symbols in order', () => {
  assert.equal(ELEMENTS.length, MAX_Z);
  assert.equal(new Set(ELEMENTS.map((e) => e.symbol)).size, 100);
  ELEMENTS.forEach((e, i) => assert.equal(e.Z, i + 1));
  assert.equal(ELEMENTS[0]!.symbol, 'H');
  assert.equal(ELEMENTS[99]!.symbol, 'Fm');
});

test('known values (IUPAC masses, symbols, names)', () => {
  assert.equal(atomicNumber('Fe'), 26);
  assert.equal(elementSymbol(8), 'O');
  assert.equal(elementBySymbol('Sr').Z, 38);
  assert.equal(elementByZ(22).name, 'Titanium');
  assert.ok(Math.abs(elementBySymbol('Fe').mass - 55.845) < 1e-3);
  assert.ok(Math.abs(elementBySymbol('O').mass - 15.999) < 1e-3);
  assert.ok(Math.abs(elementBySymbol('U').mass - 238.02891) < 1e-3);
  // masses increase with Z except the known inversions (Ar/K, Co/Ni, Te/I, Th/Pa, U/Np, Pu/Am)
  let inversions = 0;
  for (let i = 1; i < ELEMENTS.length; i++) if (ELEMENTS[i]!.mass < ELEMENTS[i - 1]!.mass) inversions++;
  assert.ok(inversions <= 6, `inversions ${inversions}`);
  assert.ok(elementBySymbol('C').covalentRadius! > 0.7 && elementBySymbol('C').covalentRadius! < 0.8);
});

test('unknown symbols give clear errors', () => {
  assert.equal(isElementSymbol('Fe'), true);
  assert.equal(isElementSymbol('FE'), false);
  assert.equal(isElementSymbol('Md'), false); // Z = 101, outside the supported range
  assert.throws(() => elementBySymbol('Xx'), (e: unknown) => e instanceof InputError && /unknown element symbol "Xx"/.test(e.message));
  assert.throws(() => elementBySymbol('FE'), /did you mean "Fe"/);
  assert.throws(() => elementByZ(0), /outside 1..100/);
  assert.throws(() => elementByZ(101), /outside 1..100/);
});
