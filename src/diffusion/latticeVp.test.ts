import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { vpAlpha, vpBeta, vpForward, vpIntegratedBeta, vpScore, vpSigma, vpTarget } from './latticeVp.js';
import { vpEmStep, vpPredictorStep, correctorStepSizes, crystalGroupOffsets, langevinCorrectorStep } from '../sampling/steps.js';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
function assertClose(actual: ArrayLike<number>, expected: number[], tol: number, what: string) {
  assert.equal(actual.length, expected.length);
  for (let j = 0; j < expected.length; j++) {
    assert.ok(Math.abs(actual[j]! - expected[j]!) <= tol, `${what}[${j}] = ${actual[j]} vs ${expected[j]}`);
  }
}

test('α, σ, β reproduce §14.6', () => {
  const rows = [
    [0.001, 0.99994503, 0.01048542],
    [0.1, 0.9467218, 0.32205254],
    [0.5, 0.28118288, 0.9596542],
    [1.0, 0.00657159, 0.99997841],
  ];
  for (const [t, a, s] of rows) {
    assert.ok(rel(vpAlpha(t!), a!) < 1e-6, `α(${t})`);
    assert.ok(rel(vpSigma(t!), s!) < 1e-6, `σ(${t})`);
    assert.ok(Math.abs(vpAlpha(t!) ** 2 + vpSigma(t!) ** 2 - 1) < 1e-14);
  }
  assert.ok(Math.abs(vpBeta(0.5) - 10.05) < 1e-12);
  // B is the integral of β (closed form vs midpoint rule)
  let integral = 0;
  for (let i = 0; i < 10000; i++) integral += vpBeta((i + 0.5) / 10000 * 0.7) * (0.7 / 10000);
  assert.ok(rel(vpIntegratedBeta(0.7), integral) < 1e-9);
});

const l = [0.3, -0.2, 0.1, 0.0, 0.5, -0.5];
const x0hat = [0.25, -0.1, 0.0, 0.1, 0.4, -0.4];
const score = [-0.2494248, 0.186638, -0.1085852, 0.0305323, -0.4207966, 0.4207966];

test('x0 score, EM step, predictor and corrector size reproduce §14.6', () => {
  const s = vpScore(new Float64Array(6), x0hat, l, 0.5, 'x0');
  assertClose(s, score, 1e-6, 'score');
  const em = Float64Array.from(l);
  vpEmStep(em, s, new Float64Array(6), 0.5, -0.000999);
  assertClose(em, [0.2990018, -0.1991302, 0.0994118, 0.0003065, 0.4982852, -0.4982852], 1e-6, 'EM');
  const pr = Float64Array.from(l);
  vpPredictorStep(pr, s, 0.5, -0.000999);
  assertClose(pr, [0.300254, -0.200067, 0.0999567, 0.0001535, 0.5003977, -0.5003977], 1e-6, 'predictor');
  assert.ok(rel(vpAlpha(0.5 - 0.000999) / vpAlpha(0.5), 1.00502761) < 1e-7);
  const delta = correctorStepSizes(s, crystalGroupOffsets(1, 6), 0.25);
  assert.ok(rel(delta[0]!, 3.23339255) < 1e-6);
  const co = Float64Array.from(l);
  langevinCorrectorStep(co, s, new Float64Array(6), crystalGroupOffsets(1, 6), 0.25);
  assertClose(co, l.map((v, j) => v + delta[0]! * s[j]!), 1e-12, 'corrector');
});

test('eps parameterisation: score −ε̂/σ; with the true ε both parameterisations give the same score', () => {
  const rng = new Rng(9);
  const l0 = Array.from({ length: 12 }, () => rng.normal());
  const eps = Array.from({ length: 12 }, () => rng.normal());
  const t = 0.37;
  const lt = vpForward(l0, eps, [t, t], 6);
  for (let j = 0; j < 12; j++) assert.ok(Math.abs(lt[j]! - (vpAlpha(t) * l0[j]! + vpSigma(t) * eps[j]!)) < 1e-15);
  const sx0 = vpScore(new Float64Array(12), vpTarget(l0, eps, 'x0'), lt, t, 'x0');
  const seps = vpScore(new Float64Array(12), vpTarget(l0, eps, 'eps'), lt, t, 'eps');
  for (let j = 0; j < 12; j++) assert.ok(Math.abs(sx0[j]! - seps[j]!) < 1e-12);
});

test('forward draws have mean α l_0 and variance σ² (statistical)', () => {
  const rng = new Rng(21);
  const t = 0.3;
  const M = 20000;
  const l0 = new Float64Array(M * 6).fill(1.5);
  const eps = new Float64Array(M * 6);
  rng.fillNormal(eps);
  const lt = vpForward(l0, eps, new Float64Array(M).fill(t), 6);
  let m = 0, m2 = 0;
  for (const v of lt) { m += v; m2 += v * v; }
  m /= lt.length;
  const variance = m2 / lt.length - m * m;
  assert.ok(Math.abs(m - 1.5 * vpAlpha(t)) < 0.01);
  assert.ok(rel(variance, vpSigma(t) ** 2) < 0.02);
});
