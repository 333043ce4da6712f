import { test } from 'node:test';
import assert from 'node:assert/strict';
import { niggliReduceLattice } from './niggli.js';
import { isNiggliReduced } from './structure.js';
import { determinant, fromParameters, multiply, toParameters, volume } from './lattice.js';
import type { LatticeParams, Matrix3 } from './types.js';
import { Rng } from '../util/rng.js';
import { ferrox } from './ferrox.js';
import { readSplitSource } from '../data/source.js';
import { readCif } from './io/cif.js';

function closeParams(p: LatticeParams, q: LatticeParams, tolLen: number, tolAng: number, msg = ''): void {
  for (const k of ['a', 'b', 'c'] as const) assert.ok(Math.abs(p[k] - q[k]) <= tolLen, `${msg} ${k}: ${p[k]} vs ${q[k]}`);
  for (const k of ['alpha', 'beta', 'gamma'] as const) assert.ok(Math.abs(p[k] - q[k]) <= tolAng, `${msg} ${k}: ${p[k]} vs ${q[k]}`);
}

test('a cubic lattice in a sheared basis reduces to the cube (hand case)', () => {
  const L: Matrix3 = [3, 0, 0, 3, 3, 0, 3, 3, 3];
  const r = niggliReduceLattice(L);
  closeParams(toParameters(r.lattice), { a: 3, b: 3, c: 3, alpha: 90, beta: 90, gamma: 90 }, 1e-12, 1e-9);
  assert.equal(determinant(r.transform), 1);
  assert.ok(r.transform.every((v) => Number.isInteger(v)));
  const check = multiply(r.transform, L);
  check.forEach((v, i) => assert.ok(Math.abs(v - r.lattice[i]!) < 1e-12));
});

test('fcc primitive cell (60°, type I) is already reduced: identity', () => {
  const h = 2;
  const L: Matrix3 = [0, h, h, h, 0, h, h, h, 0];
  const r = niggliReduceLattice(L);
  assert.deepEqual([...r.transform], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  closeParams(toParameters(r.lattice), { a: h * Math.SQRT2, b: h * Math.SQRT2, c: h * Math.SQRT2, alpha: 60, beta: 60, gamma: 60 }, 1e-12, 1e-9);
});

test('the Niggli cell is unique: random unimodular bases of one lattice reduce to the same parameters', () => {
  const rng = new Rng(3);
  for (let t = 0; t < 40; t++) {
    const L0 = fromParameters({ a: 3 + 4 * rng.uniform(), b: 3 + 4 * rng.uniform(), c: 3 + 4 * rng.uniform(), alpha: 70 + 40 * rng.uniform(), beta: 70 + 40 * rng.uniform(), gamma: 70 + 40 * rng.uniform() });
    const ref = niggliReduceLattice(L0);
    assert.ok(isNiggliReduced(ref.lattice));
    let U: Matrix3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    for (let k = 0; k < 6; k++) {
      const E: Matrix3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
      const i = rng.int(3);
      const j = (i + 1 + rng.int(2)) % 3;
      E[3 * i + j] = rng.int(5) - 2;
      U = multiply(E, U);
    }
    const r = niggliReduceLattice(multiply(U, L0));
    assert.ok(isNiggliReduced(r.lattice));
    closeParams(toParameters(r.lattice), toParameters(ref.lattice), 1e-8, 1e-6, `trial ${t}`);
    assert.ok(Math.abs(volume(r.lattice) - volume(L0)) < 1e-8 * volume(L0));
  }
});

test('isNiggliReduced: hand cases', () => {
  assert.equal(isNiggliReduced(fromParameters({ a: 1, b: 2, c: 3, alpha: 90, beta: 90, gamma: 90 })), true);
  assert.equal(isNiggliReduced(fromParameters({ a: 2, b: 1, c: 3, alpha: 90, beta: 90, gamma: 90 })), false); // a > b
  assert.equal(isNiggliReduced(fromParameters({ a: 1, b: 2, c: 3, alpha: 80, beta: 100, gamma: 90 })), false); // mixed signs
  assert.equal(isNiggliReduced([3, 0, 0, 3, 3, 0, 3, 3, 3]), false);
});

test('dataset cells: reduced per the Niggli conditions; lengths agree with ferrox on ≥ 99.5% (independent implementation)', () => {
  const f = ferrox();
  for (const [ds, split, n] of [['perov_5', 'test', 400], ['mp_20', 'val', 1500]] as const) {
    const src = readSplitSource(ds, split);
    let agree = 0;
    for (let i = 0; i < n; i++) {
      const s = readCif(src.cifs[i]!);
      const r = niggliReduceLattice(s.lattice);
      assert.ok(isNiggliReduced(r.lattice), `${ds} ${src.materialIds[i]}`);
      const L = s.lattice;
      const res = f.cell_niggli_reduce({ lattice: { matrix: [[L[0], L[1], L[2]], [L[3], L[4], L[5]], [L[6], L[7], L[8]]], pbc: [true, true, true] }, sites: [] } as never, 1e-5);
      assert.ok('ok' in res);
      const q = toParameters((JSON.parse(res.ok) as { lattice_matrix: number[][] }).lattice_matrix.flat() as Matrix3);
      const p = toParameters(r.lattice);
      if (Math.abs(p.a - q.a) < 1e-4 && Math.abs(p.b - q.b) < 1e-4 && Math.abs(p.c - q.c) < 1e-4) agree++;
    }
    assert.ok(agree >= 0.995 * n, `${ds}: ${agree}/${n}`);
  }
});
