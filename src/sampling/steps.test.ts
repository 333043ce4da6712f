import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLayout } from '../network/types.js';
import { Rng } from '../util/rng.js';
import { velocityScore, fromNetworkScale } from '../diffusion/tdm.js';
import { tdmEmStep, tdmPredictorStep, tdmCorrectorStep, correctorStepSizes, atomGroupOffsets, langevinCorrectorStep, crystalGroupOffsets } from './steps.js';

function assertClose(actual: ArrayLike<number>, expected: number[], tol: number, what: string) {
  for (let j = 0; j < expected.length; j++) {
    assert.ok(Math.abs(actual[j]! - expected[j]!) <= tol, `${what}[${j}] = ${actual[j]} vs ${expected[j]}`);
  }
}
const TWO_PI = 2 * Math.PI;
const toNet = (a: Float64Array) => Array.from(a, (v) => v / TWO_PI);

// §14.5 state
const layout = makeLayout([2]);
const p = [0.1, 0.2, 0.3, -0.4, 0.45, 0.0];
const v = [0.15, -0.1, 0.05, -0.15, 0.1, -0.05];
const o = [0.3, -0.1, 0.2, -0.3, 0.1, -0.2];
const t = 0.5;
const dt = -0.000999;
const s = 2 * t;
const h = 2 * Math.abs(dt);
const zero = new Float64Array(6);

function setup() {
  const st = fromNetworkScale(p, v);
  const score = velocityScore(new Float64Array(6), o, st.u, t);
  return { ...st, score };
}

test('EM step reproduces §14.5 (noise 0)', () => {
  const { x, u, score } = setup();
  assert.ok(Math.abs(Math.exp(h) - 1.0019999973) < 1e-10);
  assert.ok(Math.abs(2 * Math.expm1(h) - 0.0039999947) < 1e-10);
  assert.ok(Math.abs(Math.sqrt(Math.expm1(2 * h)) - 0.0632771258) < 1e-10);
  tdmEmStep(x, u, score, zero, h);
  const vNew = toNet(u);
  assertClose(vNew, [0.149833, -0.099813, 0.05002, -0.149833, 0.099813, -0.05002], 1e-7, 'v');
  assertClose(toNet(x), [0.0997006, 0.2001994, 0.2999001, -0.3997006, 0.4498006, 0.0000999], 1e-7, 'p');
});

test('predictor reproduces §14.5', () => {
  const { x, u, score } = setup();
  tdmPredictorStep(x, u, score, s, h);
  assertClose(toNet(u), [0.1500665, -0.1000065, 0.05006, -0.1500665, 0.1000065, -0.05006], 1e-7, 'v');
  assertClose(toNet(x), [0.0997002, 0.2001998, 0.2999, -0.3997002, 0.4498002, 0.0001], 1e-7, 'p');
});

test('corrector reproduces §14.5 (τ = 0.25, correct_pos)', () => {
  const { x, u, score } = setup();
  const delta = tdmCorrectorStep(x, u, score, zero, layout, 0.25, h, true);
  assert.ok(Math.abs(delta[0]! - 0.81214854) < 1e-7);
  assertClose(toNet(u), [0.0551768, -0.0214291, 0.0337477, -0.0551768, 0.0214291, -0.0337477], 1e-7, 'v');
  assertClose(toNet(x), [0.0998898, 0.2000428, 0.2999326, -0.3998898, 0.4499572, 0.0000674], 1e-7, 'p');
  // without correct_pos the positions stay
  const st = setup();
  tdmCorrectorStep(st.x, st.u, st.score, zero, layout, 0.25, h, false);
  assertClose(toNet(st.x), p, 1e-12, 'p unchanged');
});

test('corrector noise enters as sqrt(2δ)·ξ and a zero score gives δ = 0', () => {
  const { x, u, score } = setup();
  const u0 = Float64Array.from(u);
  const xi = [1, 0, 0, -1, 0, 0];
  const delta = tdmCorrectorStep(x, u, score, xi, layout, 0.25, h, false);
  assert.ok(Math.abs(u[0]! - (u0[0]! + delta[0]! * score[0]! + Math.sqrt(2 * delta[0]!))) < 1e-12);
  const d = correctorStepSizes(new Float64Array(9), atomGroupOffsets(makeLayout([1, 2]), 3), 0.25);
  assert.deepEqual(Array.from(d), [0, 0]);
});

test('corrector on exact N(0, V) samples in k dims inflates the variance by 1 − 2τ + (2τ + τ²)·k/(k − 2) (closed form)', () => {
  // δ = τV/q with q = |l|²/(kV) ~ χ²_k/k, so E|l′|²/(kV) = E[(1 − τ/q)² q] + 2τE[1/q], E[1/q] = k/(k − 2)
  const rng = new Rng(8);
  const V = 0.09;
  for (const [k, tau] of [[6, 0.25], [6, 0.05], [30, 0.25]] as const) {
    const G = 40000;
    const l = new Float64Array(G * k);
    rng.fillNormal(l);
    for (let j = 0; j < l.length; j++) l[j]! *= Math.sqrt(V);
    const score = l.map((x) => -x / V);
    const z = new Float64Array(G * k);
    rng.fillNormal(z);
    langevinCorrectorStep(l, score, z, crystalGroupOffsets(G, k), tau);
    let m2 = 0;
    for (const x of l) m2 += x * x;
    const ratio = m2 / l.length / V;
    const expected = 1 - 2 * tau + (2 * tau + tau * tau) * (k / (k - 2));
    assert.ok(Math.abs(ratio - expected) < 0.02, `k=${k} τ=${tau}: ${ratio} vs ${expected}`);
  }
});
