import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expFrechetSymmetric, expSymmetric, logSymmetric, symmetricEigen } from './symmetric3.js';
import { Rng } from '../util/rng.js';

function randomSymmetric(rng: Rng, scale: number): number[] {
  const m = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++)
    for (let j = i; j < 3; j++) {
      const v = scale * rng.normal();
      m[3 * i + j] = v;
      m[3 * j + i] = v;
    }
  return m;
}

/** exp by its Taylor series (independent of the eigen route): fine for the small norms used here */
function expTaylor(a: number[]): number[] {
  let term = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const sum = [...term];
  for (let k = 1; k < 40; k++) {
    const next = new Array<number>(9).fill(0);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let l = 0; l < 3; l++) next[3 * i + j]! += (term[3 * i + l]! * a[3 * l + j]!) / k;
    term = next;
    for (let i = 0; i < 9; i++) sum[i]! += term[i]!;
  }
  return sum;
}

const close = (a: number[], b: number[], tol: number, what: string): void => {
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

test('symmetric eigen-decomposition reconstructs the matrix with orthonormal vectors, also for repeated eigenvalues', () => {
  const rng = new Rng(3);
  for (const m of [randomSymmetric(rng, 1), randomSymmetric(rng, 1e-3), [2, 0, 0, 0, 2, 0, 0, 0, 5], [1, 0, 0, 0, 1, 0, 0, 0, 1]]) {
    const { values, q } = symmetricEigen(m);
    const back = new Array<number>(9).fill(0);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) back[3 * i + j]! += q[3 * i + k]! * values[k]! * q[3 * j + k]!;
    close(back, m, 1e-13, 'Q Λ Qᵀ');
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
      let dot = 0;
      for (let k = 0; k < 3; k++) dot += q[3 * k + a]! * q[3 * k + b]!;
      assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-13);
    }
  }
});

test('exp matches its Taylor series and log inverts it', () => {
  const rng = new Rng(5);
  for (let t = 0; t < 20; t++) {
    const u = randomSymmetric(rng, 0.3);
    const e = expSymmetric(u);
    close(e, expTaylor(u), 1e-13, 'exp');
    close(logSymmetric(e), u, 1e-12, 'log(exp(U))');
  }
  assert.throws(() => logSymmetric([1, 0, 0, 0, -1, 0, 0, 0, 1]), /not positive definite/);
});

test('the Fréchet derivative of exp equals central finite differences, for distinct and equal eigenvalues', () => {
  const rng = new Rng(7);
  const cases = [randomSymmetric(rng, 0.4), randomSymmetric(rng, 0.4), [0.1, 0, 0, 0, 0.1, 0, 0, 0, -0.2], [0, 0, 0, 0, 0, 0, 0, 0, 0]];
  for (const u of cases) {
    const dir = Array.from({ length: 9 }, () => rng.normal()); // a general (non-symmetric) direction
    const h = 1e-5;
    const plus = expTaylor(u.map((x, i) => x + h * dir[i]!));
    const minus = expTaylor(u.map((x, i) => x - h * dir[i]!));
    const fd = plus.map((p, i) => (p - minus[i]!) / (2 * h));
    close(expFrechetSymmetric(u, dir), fd, 1e-8, 'L(U,E)');
  }
});
