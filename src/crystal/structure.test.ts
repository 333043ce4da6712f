import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atomicNumbers, makeStructure, niggliReduce, preprocessStructure, structureFromNumbers, wrapToUnitCell } from './structure.js';
import { cartToFrac, fracToCart, fromParameters, minimumImageDistance, toParameters, volume } from './lattice.js';
import type { Matrix3 } from './types.js';
import { InputError } from '../util/errors.js';

test('makeStructure validates species, sizes and lattice', () => {
  const L: Matrix3 = [4, 0, 0, 0, 4, 0, 0, 0, 4];
  assert.equal(makeStructure(L, ['Sr', 'Ti'], [0, 0, 0, 0.5, 0.5, 0.5]).species.length, 2);
  assert.throws(() => makeStructure(L, ['Sr', 'Xx'], [0, 0, 0, 0.5, 0.5, 0.5]), (e: unknown) => e instanceof InputError && /site 2: unknown element symbol "Xx"/.test(e.message));
  assert.throws(() => makeStructure(L, ['Sr'], [0, 0, 0, 1]), /1 species but 1.333/);
  assert.throws(() => makeStructure([1, 0, 0, 2, 0, 0, 0, 0, 1], ['Sr'], [0, 0, 0]), /degenerate/);
  assert.throws(() => makeStructure(L, ['Sr'], [0, NaN, 0]), /non-finite/);
  assert.deepEqual([...atomicNumbers(structureFromNumbers(L, [38, 22, 8], [0, 0, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0]))], [38, 22, 8]);
  assert.throws(() => structureFromNumbers(L, [0], [0, 0, 0]), /outside 1..100/);
});

test('wrapToUnitCell maps coordinates into [0,1)', () => {
  const s = wrapToUnitCell(makeStructure([4, 0, 0, 0, 4, 0, 0, 0, 4], ['C'], [-0.25, 1.5, 2]));
  assert.deepEqual([...s.frac], [0.75, 0.5, 0]);
});

test('Niggli reduction of a sheared cell keeps site order, species and Cartesian positions (mod lattice)', () => {
  // cubic a = 3 in the basis a, a+b, a+b+c; sites given in that basis
  const L: Matrix3 = [3, 0, 0, 3, 3, 0, 3, 3, 3];
  const s = makeStructure(L, ['Sr', 'Ti', 'O', 'O', 'O'], [0.1, 0.2, 0.3, 0.6, 0.1, 0.9, 0.0, 0.5, 0.5, 0.3, 0.3, 0.3, 0.95, 0.05, 0.5]);
  const r = niggliReduce(s);
  assert.deepEqual(r.structure.species, s.species);
  const p = toParameters(r.structure.lattice);
  for (const v of [p.a, p.b, p.c]) assert.ok(Math.abs(v - 3) < 1e-12);
  assert.ok(Math.abs(volume(r.structure.lattice) - volume(L)) < 1e-9);
  const oldCart = fracToCart(s.lattice, s.frac);
  const newCart = fracToCart(r.structure.lattice, r.structure.frac);
  for (let i = 0; i < 5; i++) {
    const a = cartToFrac(s.lattice, oldCart.slice(3 * i, 3 * i + 3));
    const b = cartToFrac(s.lattice, newCart.slice(3 * i, 3 * i + 3));
    assert.ok(minimumImageDistance(s.lattice, a, b) < 1e-9, `site ${i}`);
    for (let k = 0; k < 3; k++) assert.ok(r.structure.frac[3 * i + k]! >= 0 && r.structure.frac[3 * i + k]! < 1);
  }
});

test('already-reduced cell: coordinates untouched; preprocess = standard orientation (spec §1.2)', () => {
  const L: Matrix3 = [0, 0, 4, 4, 0, 0, 0, 4.5, 0]; // reduced (4, 4, 4.5, 90°) but not in the standard orientation
  const s = makeStructure(L, ['Na', 'Cl'], [-0.1, 0.2, 0.3, 0.5, 0.5, 0.5]);
  const r = niggliReduce(s);
  assert.deepEqual([...r.transform], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.deepEqual([...r.structure.frac], [-0.1, 0.2, 0.3, 0.5, 0.5, 0.5]);
  const p = preprocessStructure(s);
  const expected = fromParameters({ a: 4, b: 4, c: 4.5, alpha: 90, beta: 90, gamma: 90 });
  p.lattice.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-12));
  assert.deepEqual([...p.frac], [...s.frac]);
});
