import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeScoreNormTable,
  roundHalfEven,
  scoreNormAt,
  scoreNormIndex,
  scoreNormTable,
  scoreNormGridTime,
  setScoreNormTable,
  wrappedNormalFisherInformation,
  SCORE_NORM_GRID,
} from './scoreNorm.js';
import { sigmaR } from './tdmKernel.js';
import { wrappedNormalG } from './wrappedNormal.js';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

test('λ table reproduces §14.3 (to the printed digits)', () => {
  const table = scoreNormTable();
  assert.equal(table.length, SCORE_NORM_GRID);
  const rows: [number, number, number][] = [
    [0, 0.001, 1.0e6],
    [1, 0.00100008, 999833.11],
    [100, 0.01295183, 5961.2518],
    [500, 0.14267576, 49.124666],
    [999, 0.38899718, 6.608564],
    [1500, 0.67824098, 2.1733364],
    [1999, 0.97653693, 1.0053062],
  ];
  for (const [k, sigma, lambda] of rows) {
    assert.ok(rel(sigmaR(scoreNormGridTime(k)), sigma) < 5e-6, `σ_${k} = ${sigmaR(scoreNormGridTime(k))}`);
    // 8 significant digits are printed: half a unit in the last place is ≤ 5e−8 relative
    assert.ok(rel(table[k]!, lambda) < 5e-8, `λ_${k} = ${table[k]} vs ${lambda}`);
  }
});

test('quadrature is converged: halving the step and widening the range changes nothing (<1e−12)', () => {
  for (const k of [0, 1, 300, 999, 1500, 1999]) {
    const sigma = sigmaR(scoreNormGridTime(k));
    const a = wrappedNormalFisherInformation(sigma);
    const b = wrappedNormalFisherInformation(sigma, 1 / 128, 20);
    assert.ok(rel(a, b) < 1e-12, `k=${k}: ${a} vs ${b}`);
  }
});

test('λ agrees with an independent integral over the circle ∫ WN(r) G(r)² dr', () => {
  for (const sigma of [0.4, 0.9765]) {
    // WN density on (−π, π] by the image sum, midpoint rule (periodic, smooth: spectrally accurate)
    const n = 4000;
    let integral = 0;
    for (let i = 0; i < n; i++) {
      const r = -Math.PI + ((i + 0.5) * 2 * Math.PI) / n;
      let dens = 0;
      for (let k = -13; k <= 13; k++) dens += Math.exp(-((r + 2 * Math.PI * k) ** 2) / (2 * sigma * sigma));
      dens /= sigma * Math.sqrt(2 * Math.PI);
      integral += dens * wrappedNormalG(r, 0, sigma) ** 2 * ((2 * Math.PI) / n);
    }
    assert.ok(rel(wrappedNormalFisherInformation(sigma), integral) < 1e-10);
  }
});

test('lookup index round(2000 t) − 1 with round-half-even (§3.3, §14.3)', () => {
  assert.equal(scoreNormIndex(0.5), 999);
  assert.equal(scoreNormIndex(1.0), 1999);
  assert.equal(scoreNormIndex(0.001), 1);
  assert.equal(scoreNormIndex(Math.fround(0.001)), 1);
  assert.equal(roundHalfEven(2.5), 2);
  assert.equal(roundHalfEven(3.5), 4);
  assert.equal(roundHalfEven(-2.5), -2);
  assert.equal(roundHalfEven(2.4999), 2);
  assert.equal(scoreNormIndex(0.00125), 1); // 2.5 -> 2 -> idx 1
  assert.equal(scoreNormIndex(0), 0); // clamped (reference would index −1)
  assert.ok(rel(scoreNormAt(0.5), 6.608564) < 5e-8);
});

test('setScoreNormTable installs a loaded table and null restores the quadrature', () => {
  const loaded = new Float64Array(SCORE_NORM_GRID).fill(2);
  setScoreNormTable(loaded);
  assert.equal(scoreNormAt(0.3), 2);
  setScoreNormTable(null);
  assert.ok(rel(scoreNormAt(0.5), 6.608564) < 5e-8);
  assert.throws(() => setScoreNormTable([1, 2, 3]), /2000 entries/);
  const bad = new Float64Array(SCORE_NORM_GRID).fill(1);
  bad[7] = NaN;
  assert.throws(() => setScoreNormTable(bad), /entry 7/);
  assert.equal(computeScoreNormTable().length, SCORE_NORM_GRID);
});
