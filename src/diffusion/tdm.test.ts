import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLayout } from '../network/types.js';
import { Rng } from '../util/rng.js';
import {
  drawTdmNoise,
  fromNetworkScale,
  tdmForward,
  tdmForwardDetailed,
  tdmPrior,
  toNetworkScale,
  velocityScore,
} from './tdm.js';
import { kappa, sigmaR, sigmaU, unconditionalDisplacementVariance } from './tdmKernel.js';
import { wrap2pi } from './wrap.js';

function assertClose(actual: ArrayLike<number>, expected: number[][], tol: number, what: string) {
  const flat = expected.flat();
  assert.equal(actual.length, flat.length, what);
  for (let j = 0; j < flat.length; j++) {
    assert.ok(Math.abs(actual[j]! - flat[j]!) <= tol, `${what}[${j}] = ${actual[j]} vs ${flat[j]}`);
  }
}

// §14.4 inputs
const layout1 = makeLayout([2]);
const frac = [0.1, 0.9, 0.5, 0.6, 0.25, 0.0];
const noise = {
  epsU: new Float64Array([0.5, -1.0, 0.2, -0.5, 1.0, -0.2]),
  epsR: new Float64Array([3.1, 0.3, -0.7, -3.1, -0.3, 0.7]),
};

test('training target reproduces §14.4 at t = 0.5', () => {
  const d = tdmForwardDetailed(frac, [0.5], layout1, noise, 'simplified');
  assertClose(d.r, [[1.4215973, -0.3129293, -0.186548], [-1.4215973, 0.3129293, 0.186548]], 1e-6, 'r');
  assertClose(d.muR, [[0.2148554, -0.4297107, 0.0859421], [-0.2148554, 0.4297107, -0.0859421]], 1e-6, 'μ̃_r');
  assertClose(d.g, [[7.9635917, 0.7706702, -1.7982304], [-7.9635917, -0.7706702, 1.7982304]], 1e-6, 'G');
  assertClose(d.target, [[3.0978147, 0.2997885, -0.6995065], [-3.0978147, -0.2997885, 0.6995065]], 1e-6, 'y');
  const s = tdmForward(frac, [0.5], layout1, noise);
  assertClose(s.pos, [[0.3262542, -0.1498042, 0.47031], [0.3737458, 0.2998042, 0.02969]], 1e-6, 'p');
  assertClose(s.vel, [[0.073997, -0.147994, 0.0295988], [-0.073997, 0.147994, -0.0295988]], 1e-6, 'v');
  const full = tdmForwardDetailed(frac, [0.5], layout1, noise, 'full');
  assertClose(full.target, [[3.1424051, 1.4315544, -1.046076], [-3.1424051, -1.4315544, 1.046076]], 1e-6, 'full y');
});

test('training target reproduces §14.4 at t = 1.0 (a displacement wraps)', () => {
  const d = tdmForwardDetailed(frac, [1.0], layout1, noise);
  assertClose(d.r, [[-2.8786269, -0.4616267, -0.5326583], [2.8786269, 0.4616267, 0.5326583]], 1e-6, 'r');
  assertClose(d.muR, [[0.3772939, -0.7545878, 0.1509176], [-0.3772939, 0.7545878, -0.1509176]], 1e-6, 'μ̃_r');
  assertClose(d.g, [[1.0653788, 0.307208, -0.7168182], [-1.0653788, -0.307208, 0.7168182]], 1e-6, 'G');
  assertClose(d.target, [[1.0625634, 0.3063962, -0.7149239], [-1.0625634, -0.3063962, 0.7149239]], 1e-6, 'y');
  const s = tdmForward(frac, [1.0], layout1, noise);
  assertClose(s.pos, [[-0.3581477, -0.1734702, 0.4152248], [0.0581477, 0.3234702, 0.0847752]], 1e-6, 'p');
});

test('forward kernel samples have the §3.2 moments (u_s, r_s, Cov, unconditional Var) and are mean-free', () => {
  // Many 2-atom... use 8-atom crystals; centring scales every (co)variance by (n−1)/n.
  const n = 8;
  const G = 64;
  const layout = makeLayout(new Array(G).fill(n));
  const rng = new Rng(11);
  const t = 0.25; // s = 0.5: sd(r_s) ≈ 0.29 rad, wrapping is negligible
  const s = 2 * t;
  const fracs = new Float64Array(layout.numAtoms * 3);
  rng.fillUniform(fracs);
  const ts = new Float64Array(G).fill(t);
  let su = 0, suu = 0, sr = 0, srr = 0, sru = 0, resid = 0, count = 0;
  for (let rep = 0; rep < 60; rep++) {
    const d = tdmForwardDetailed(fracs, ts, layout, drawTdmNoise(layout, rng));
    for (let c = 0; c < G; c++) {
      for (let dim = 0; dim < 3; dim++) {
        let sumU = 0;
        let sumG = 0;
        for (let i = c * n; i < (c + 1) * n; i++) {
          sumU += d.u[i * 3 + dim]!;
          sumG += d.g[i * 3 + dim]!;
        }
        assert.ok(Math.abs(sumU) < 1e-12 && Math.abs(sumG) < 1e-9, 'mean-free per crystal');
      }
    }
    for (let j = 0; j < d.u.length; j++) {
      const x0 = 2 * Math.PI * (fracs[j]! - Math.round(fracs[j]!));
      const r = wrap2pi(d.x[j]! - x0); // log-map displacement
      const u = d.u[j]!;
      su += u; suu += u * u; sr += r; srr += r * r; sru += r * u;
      resid += (r - kappa(s) * u) ** 2;
      count++;
    }
  }
  const f = (n - 1) / n;
  const rel = (a: number, b: number) => Math.abs(a - b) / b;
  // ~92k samples: sd of a variance estimate ≈ sqrt(2/92k) ≈ 0.5%
  assert.ok(Math.abs(su / count) < 0.01);
  assert.ok(Math.abs(sr / count) < 0.005);
  assert.ok(rel(suu / count, f * sigmaU(s) ** 2) < 0.02, `Var u ${suu / count}`);
  assert.ok(rel(srr / count, f * unconditionalDisplacementVariance(s)) < 0.02, `Var r ${srr / count}`);
  assert.ok(rel(sru / count, f * (1 - Math.exp(-s)) ** 2) < 0.02, `Cov ${sru / count}`);
  assert.ok(rel(resid / count, f * sigmaR(s) ** 2) < 0.02, `residual ${resid / count}`);
});

test('velocityScore: simplified = −u/σ_u² + κ√λ·o, full = o; mean-free input gives mean-free output', () => {
  const o = [0.3, -0.1, 0.2, -0.3, 0.1, -0.2];
  const v = [0.15, -0.1, 0.05, -0.15, 0.1, -0.05];
  const u = v.map((x) => 2 * Math.PI * x);
  const score = velocityScore(new Float64Array(6), o, u, 0.5);
  // §14.5
  assertClose(score, [[-0.7335998, 0.6078636, -0.1257362], [0.7335998, -0.6078636, 0.1257362]], 1e-6, 'ŝ_u');
  assert.deepEqual(Array.from(velocityScore(new Float64Array(6), o, u, 0.5, 'full')), o);
});

test('prior: positions uniform on (−π, π], velocities mean-free standard normal (§3.6)', () => {
  const layout = makeLayout(new Array(2000).fill(5));
  const rng = new Rng(5);
  const st = tdmPrior(layout, rng);
  const nBins = 10;
  const hist = new Array(nBins).fill(0);
  let m2 = 0;
  for (let j = 0; j < st.x.length; j++) {
    assert.ok(st.x[j]! > -Math.PI - 1e-12 && st.x[j]! <= Math.PI + 1e-12);
    hist[Math.min(nBins - 1, Math.floor(((st.x[j]! + Math.PI) / (2 * Math.PI)) * nBins))]++;
    m2 += st.u[j]! ** 2;
  }
  // chi-square with 9 dof: 99.9% quantile 27.9
  const expected = st.x.length / nBins;
  const chi2 = hist.reduce((acc, h) => acc + (h - expected) ** 2 / expected, 0);
  assert.ok(chi2 < 27.9, `chi2 ${chi2}`);
  assert.ok(Math.abs(m2 / st.u.length - 0.8) < 0.03, `E[u²] ${m2 / st.u.length}`); // (n−1)/n with n = 5, sd of estimate 0.0065
  for (let c = 0; c < 500; c++) {
    let s = 0;
    for (let i = 5 * c; i < 5 * c + 5; i++) s += st.u[i * 3]!;
    assert.ok(Math.abs(s) < 1e-12);
  }
  const pos = new Float32Array(st.x.length);
  const vel = new Float32Array(st.x.length);
  toNetworkScale(st, pos, vel);
  const back = fromNetworkScale(pos, vel);
  for (let j = 0; j < 30; j++) {
    assert.ok(Math.abs(wrap2pi(back.x[j]! - st.x[j]!)) < 1e-6);
    assert.ok(Math.abs(back.u[j]! - st.u[j]!) < 1e-5);
  }
});
