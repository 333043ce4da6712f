import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wrappedNormalG } from './wrappedNormal.js';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

test('G reproduces the §14.2 table', () => {
  const rows: [number, number, number, number][] = [
    [1.0, 0.0, 1.0, 0.999991],
    [3.0, 0.0, 1.0, 1.17045289],
    [-3.0, 2.5, 0.5, 3.13274123],
    [3.0, -3.0, 0.8, -0.44247704],
    [0.5, 0.0, 2.0, 0.10574019],
    [0.1, 0.0, 0.05, 40.0],
  ];
  for (const [r, mu, s, expected] of rows) {
    assert.ok(rel(wrappedNormalG(r, mu, s), expected) < 1e-6, `G(${r};${mu},${s})=${wrappedNormalG(r, mu, s)} vs ${expected}`);
  }
  // r = π, μ = 0: symmetric images cancel (table: ≈ 0, 6e−17)
  assert.ok(Math.abs(wrappedNormalG(Math.PI, 0, 1.5)) < 1e-12);
});

test('G is −d/dr log WN, by finite differences of an independent density sum', () => {
  const logWN = (r: number, mu: number, s: number) => {
    let sum = 0;
    for (let k = -13; k <= 13; k++) sum += Math.exp(-((r - mu + 2 * Math.PI * k) ** 2) / (2 * s * s));
    return Math.log(sum);
  };
  for (const [r, mu, s] of [[0.3, -1.2, 0.7], [2.9, 0.4, 1.3], [-1.0, 1.0, 2.5]] as const) {
    const h = 1e-5;
    const dMu = (logWN(r, mu + h, s) - logWN(r, mu - h, s)) / (2 * h);
    const dR = (logWN(r + h, mu, s) - logWN(r - h, mu, s)) / (2 * h);
    assert.ok(Math.abs(wrappedNormalG(r, mu, s) - dMu) < 1e-7);
    assert.ok(Math.abs(wrappedNormalG(r, mu, s) + dR) < 1e-7);
  }
});

test('G is finite and equals the Gaussian score for tiny σ (max-subtracted softmax)', () => {
  const s = 1e-3;
  assert.ok(rel(wrappedNormalG(0.002, 0, s), 0.002 / (s * s)) < 1e-12);
  // far from the mean every image is exp(−huge): still finite, nearest image wins
  const g = wrappedNormalG(3.0, 0, s);
  assert.ok(Number.isFinite(g));
  assert.ok(rel(g, 3.0 / (s * s)) < 1e-12);
});
