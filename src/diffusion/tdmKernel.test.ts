import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tdmCoefficients,
  muU,
  unconditionalDisplacementVariance,
  displacementVelocityCovariance,
  sigmaU,
  kappa,
  sigmaR,
} from './tdmKernel.js';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

test('kernel coefficients reproduce the §14.1 table', () => {
  const rows = [
    // t, e^{-s}, σ_u, κ, σ_r
    [0.001, 0.998002, 0.06319027, 0.00099999967, 0.00100066644],
    [0.1, 0.8187308, 0.5741785, 0.09966799, 0.03645575],
    [0.25, 0.6065307, 0.79506073, 0.24491866, 0.14257051],
    [0.5, 0.3678794, 0.92987403, 0.46211716, 0.38927159],
    [0.75, 0.2231302, 0.97478917, 0.63514895, 0.67779436],
    [1.0, 0.1353353, 0.99080036, 0.76159416, 0.97653693],
  ];
  for (const [t, e, su, k, sr] of rows) {
    const c = tdmCoefficients(t!);
    assert.equal(c.s, 2 * t!);
    assert.ok(rel(c.muU, e!) < 1e-6, `μ_u(${t})`);
    assert.ok(rel(c.sigmaU, su!) < 1e-6, `σ_u(${t})`);
    assert.ok(rel(c.kappa, k!) < 1e-6, `κ(${t})`);
    assert.ok(rel(c.sigmaR, sr!) < 1e-6, `σ_r(${t}) = ${c.sigmaR}`);
  }
  assert.ok(rel(unconditionalDisplacementVariance(1), 0.33618248) < 1e-6);
  assert.ok(rel(unconditionalDisplacementVariance(2), 1.52302549) < 1e-6);
});

test('σ_r² and κ are the Schur complement / regression of the joint Gaussian (r_s, u_s) (§3.2 check)', () => {
  for (const s of [0.05, 0.3, 1, 1.7, 2]) {
    const varR = unconditionalDisplacementVariance(s);
    const varU = 1 - Math.exp(-2 * s);
    const cov = displacementVelocityCovariance(s);
    assert.ok(Math.abs(kappa(s) - cov / varU) < 1e-12);
    assert.ok(Math.abs(sigmaR(s) ** 2 - 1e-6 - (varR - (cov * cov) / varU)) < 1e-12);
    assert.ok(Math.abs(sigmaU(s) ** 2 - 1e-6 - varU) < 1e-15);
    assert.equal(muU(s), Math.exp(-s));
  }
});
