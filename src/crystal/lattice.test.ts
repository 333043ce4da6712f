import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cartToFrac, distanceMatrix, fracToCart, fromParameters, inverse, minInteratomicDistance, minimumImageDistance,
  multiply, reciprocal, shortestLatticeVector, toParameters, validateParameters, volume, volumeFromParameters, wrap01,
} from './lattice.js';
import type { LatticeParams, Matrix3 } from './types.js';
import { Rng } from '../util/rng.js';

function close(a: number, b: number, tol = 1e-9, msg = ''): void {
  assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b}`);
}
function closeArr(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-9): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) close(a[i]!, b[i]!, tol, `[${i}]`);
}

test('fromParameters: cubic cell is diagonal', () => {
  closeArr(fromParameters({ a: 4, b: 4, c: 4, alpha: 90, beta: 90, gamma: 90 }), [4, 0, 0, 0, 4, 0, 0, 0, 4], 1e-12);
});

test('fromParameters: hexagonal cell by hand (spec §1.2 step 3)', () => {
  // α = β = 90°, γ = 120°: cosγ* = 0.5, γ* = 60°, a = (3,0,0), b = (−1.5, 3·sin60°, 0), c = (0,0,5)
  const m = fromParameters({ a: 3, b: 3, c: 5, alpha: 90, beta: 90, gamma: 120 });
  closeArr(m, [3, 0, 0, -1.5, 3 * Math.sqrt(3) / 2, 0, 0, 0, 5], 1e-12);
  close(volume(m), 9 * 5 * Math.sqrt(3) / 2, 1e-10);
});

test('fromParameters: monoclinic by hand (β ≠ 90°)', () => {
  // α = γ = 90°, β = 100°: a = (a sinβ, 0, a cosβ), cosγ* = 0 → b = (0, b, 0), c = (0, 0, c)
  const b = 100 * Math.PI / 180;
  const m = fromParameters({ a: 5, b: 6, c: 7, alpha: 90, beta: 100, gamma: 90 });
  closeArr(m, [5 * Math.sin(b), 0, 5 * Math.cos(b), 0, 6, 0, 0, 0, 7], 1e-12);
});

test('toParameters inverts fromParameters; volume formulas agree (random triclinic cells)', () => {
  const rng = new Rng(7);
  for (let t = 0; t < 200; t++) {
    const p: LatticeParams = {
      a: 2 + 10 * rng.uniform(), b: 2 + 10 * rng.uniform(), c: 2 + 10 * rng.uniform(),
      alpha: 60 + 60 * rng.uniform(), beta: 60 + 60 * rng.uniform(), gamma: 60 + 60 * rng.uniform(),
    };
    if (!(volumeFromParameters(p) > 0.1)) continue;
    const q = toParameters(fromParameters(p));
    for (const k of ['a', 'b', 'c', 'alpha', 'beta', 'gamma'] as const) close(q[k], p[k], 1e-9, k);
    close(volume(fromParameters(p)), volumeFromParameters(p), 1e-8);
  }
});

test('reciprocal: a_i · b*_j = δ_ij, and 2π convention', () => {
  const m = fromParameters({ a: 3.1, b: 4.2, c: 5.3, alpha: 80, beta: 95, gamma: 110 });
  closeArr(multiply(m, [...reciprocal(m)].map((_, i, r) => r[(i % 3) * 3 + Math.floor(i / 3)]!) as Matrix3), [1, 0, 0, 0, 1, 0, 0, 0, 1], 1e-12);
  closeArr(reciprocal(m, true), reciprocal(m).map((v) => v * 2 * Math.PI), 1e-12);
  closeArr(multiply(m, inverse(m)), [1, 0, 0, 0, 1, 0, 0, 0, 1], 1e-12);
});

test('frac <-> cart round trip and a hand case', () => {
  const m = fromParameters({ a: 3, b: 3, c: 5, alpha: 90, beta: 90, gamma: 120 });
  closeArr(fracToCart(m, [0.5, 0.5, 0.5]), [0.75, 3 * Math.sqrt(3) / 4, 2.5], 1e-12);
  const f = [0.1, 0.2, 0.3, -0.4, 1.5, 0.25];
  closeArr(cartToFrac(m, fracToCart(m, f)), f, 1e-12);
});

test('minimum image: cubic hand case across the boundary', () => {
  const m: Matrix3 = [4, 0, 0, 0, 4, 0, 0, 0, 4];
  close(minimumImageDistance(m, [0.1, 0, 0], [0.9, 0, 0]), 0.8, 1e-12);
  close(minimumImageDistance(m, [0.1, 0.1, 0.1], [0.9, 0.9, 0.9]), Math.sqrt(3 * 0.64), 1e-12);
  close(minimumImageDistance(m, [0.25, 0, 0], [0.25, 0, 7.0]), 0, 1e-12);
});

test('minimum image: strongly skewed cell needs images beyond the wrapped difference', () => {
  // a = (1,0,0), b = (4.5,1,0), c = (0,0,1). f2 − f1 = (0, 0.5, 0) → cart (2.25, 0.5, 0) (2.305 Å),
  // but subtracting 2a gives (0.25, 0.5, 0): sqrt(0.0625 + 0.25) = 0.5590 Å.
  const m: Matrix3 = [1, 0, 0, 4.5, 1, 0, 0, 0, 1];
  close(minimumImageDistance(m, [0, 0, 0], [0, 0.5, 0]), Math.sqrt(0.3125), 1e-12);
  close(shortestLatticeVector(m), 1, 1e-12);
  // b − 4a = (0.5, 1, 0) and b − 5a = (−0.5, 1, 0) are shorter than b but longer than a
  close(shortestLatticeVector([3, 0, 0, 4.5, 1, 0, 0, 0, 5]), Math.sqrt(1.5 * 1.5 + 1), 1e-12);
});

test('minimum image agrees with brute force over ±6 images on random skewed cells', () => {
  const rng = new Rng(11);
  for (let t = 0; t < 60; t++) {
    const m = Array.from({ length: 9 }, () => 6 * (rng.uniform() - 0.5)) as Matrix3;
    m[0] += 3; m[4] += 3; m[8] += 3;
    if (volume(m) < 2) continue;
    const p = [rng.uniform(), rng.uniform(), rng.uniform()];
    const q = [rng.uniform() * 3 - 1, rng.uniform(), rng.uniform()];
    let best = Infinity;
    for (let i = -6; i <= 6; i++) for (let j = -6; j <= 6; j++) for (let k = -6; k <= 6; k++) {
      const c = fracToCart(m, [q[0]! - p[0]! + i, q[1]! - p[1]! + j, q[2]! - p[2]! + k]);
      best = Math.min(best, Math.hypot(c[0]!, c[1]!, c[2]!));
    }
    close(minimumImageDistance(m, p, q), best, 1e-9);
  }
});

test('distance matrix and min interatomic distance (NaCl rock salt)', () => {
  const m: Matrix3 = [5.64, 0, 0, 0, 5.64, 0, 0, 0, 5.64];
  const frac = [0, 0, 0, 0.5, 0.5, 0, 0.5, 0, 0, 0, 0.5, 0];
  const d = distanceMatrix(m, frac);
  close(d[0 * 4 + 1]!, 5.64 / Math.SQRT2, 1e-12);
  close(d[0 * 4 + 2]!, 2.82, 1e-12);
  close(d[1 * 4 + 0]!, d[0 * 4 + 1]!, 0);
  close(d[0]!, 0, 0);
  close(minInteratomicDistance(m, frac), 2.82, 1e-12);
  assert.equal(minInteratomicDistance(m, [0.1, 0.2, 0.3]), Infinity);
});

test('wrap01 and parameter validation', () => {
  close(wrap01(-0.25), 0.75, 1e-15);
  close(wrap01(1.25), 0.25, 1e-15);
  assert.equal(wrap01(-1e-18), 0);
  assert.throws(() => validateParameters({ a: -1, b: 1, c: 1, alpha: 90, beta: 90, gamma: 90 }), /positive/);
  assert.throws(() => validateParameters({ a: 1, b: 1, c: 1, alpha: 90, beta: 90, gamma: 180 }), /\(0, 180\)/);
  assert.throws(() => validateParameters({ a: 1, b: 1, c: 1, alpha: 120, beta: 120, gamma: 120 }), /degenerate/);
});
