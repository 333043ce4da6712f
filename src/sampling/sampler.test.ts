import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLayout } from '../network/types.js';
import { Rng } from '../util/rng.js';
import { KldmError } from '../util/errors.js';
import { sigmaU } from '../diffusion/tdmKernel.js';
import { vpAlpha, vpSigma } from '../diffusion/latticeVp.js';
import { sampleCsp, sampleCspSync, timeGrid } from './sampler.js';
import { decodeSamplerResult } from './decode.js';
const TWO_PI = 2 * Math.PI;
import { GaussianLatticeNet, PointMassOracle, relativeErrors } from './analyticNetworks.js';
import { fromParameters } from '../crystal/lattice.js';
import { latticeToFeatures } from '../diffusion/latticeFeatures.js';

function moments(a: ArrayLike<number>): { mean: number; sd: number } {
  let m = 0;
  for (let j = 0; j < a.length; j++) m += a[j]!;
  m /= a.length;
  let v = 0;
  for (let j = 0; j < a.length; j++) v += (a[j]! - m) ** 2;
  return { mean: m, sd: Math.sqrt(v / a.length) };
}

test('time grid is linspace(1, t_f, n+1)', () => {
  const g = timeGrid(1000, 1e-3);
  assert.equal(g.length, 1001);
  assert.equal(g[0], 1);
  assert.equal(g[1000], 1e-3);
  assert.ok(Math.abs(g[500]! - 0.5005) < 1e-15);
  assert.ok(Math.abs(g[1]! - g[0]! + 0.000999) < 1e-15); // Δt of §14.5
  assert.equal(timeGrid(4, 0)[4], 0);
});

const samplerCases = [
  { name: 'em', options: { method: 'em' as const }, sdRange: [0.27, 0.33] },
  // the deterministic predictor alone (DDIM-like) transports the prior onto the target
  { name: 'pc without corrector', options: { method: 'pc' as const, correctorSteps: 0 }, sdRange: [0.27, 0.33] },
  // with the default τ = 0.25 the reference's corrector over-disperses an exact Gaussian target: its step
  // τ/mean(ŝ²) is computed from the state it moves, which inflates the variance by 1 + τ + 1.5τ² per step
  // for 6 components (closed form, tested in steps.test.ts; §13.9). Observed sd ≈ 0.39 for v = 0.3.
  { name: 'pc', options: { method: 'pc' as const }, sdRange: [0.3, 0.45] },
];

for (const c of samplerCases) {
  test(`${c.name}: with the exact Gaussian lattice score the samples centre on N(m, v²); velocities contract`, () => {
    const G = 300;
    const layout = makeLayout(Array.from({ length: G }, (_, g) => 2 + (g % 4)));
    const types = new Int32Array(layout.numAtoms).fill(8);
    const res = sampleCspSync(new GaussianLatticeNet(0.7, 0.3), { layout, types }, new Rng(17), {
      ...c.options,
      nSteps: 200,
      trajectoryEvery: 200,
    });
    const { mean, sd } = moments(res.lattice); // 1800 values: sd of the mean ≈ 0.007
    assert.ok(Math.abs(mean - 0.7) < 0.04, `mean ${mean}`);
    assert.ok(sd > c.sdRange[0]! && sd < c.sdRange[1]!, `sd ${sd}`);
    // zero velocity head: ŝ_u = −u/σ_u² is the exact velocity score of the u_0 = 0 forward marginal,
    // so the velocities contract from ≈ N(0, 1) towards N(0, σ_u(2 t_f)²) ≈ 0.063²; with 200 steps the
    // last EM step alone injects noise of sd sqrt(e^{2h} − 1) ≈ 0.14, which bounds what we can expect
    const last = res.trajectory[res.trajectory.length - 1]!;
    assert.equal(last.step, 200);
    const vSd = moments(Array.from(last.vel, (v) => 2 * Math.PI * v)).sd;
    assert.ok(vSd < 0.2, `final velocity sd ${vSd} (σ_u(t_f) = ${sigmaU(2e-3)})`);
    const first = res.trajectory[0]!;
    assert.ok(moments(Array.from(first.vel, (v) => 2 * Math.PI * v)).sd > 0.6);
    for (let j = 0; j < res.frac.length; j++) assert.ok(res.frac[j]! >= 0 && res.frac[j]! < 1);
    for (let j = 0; j < res.pos.length; j++) assert.ok(res.pos[j]! >= -0.5 && res.pos[j]! <= 0.5);
    const callsPerStep = c.options.method === 'em' ? 1 : 1 + (c.options.correctorSteps ?? 1);
    assert.equal(res.networkCalls, 200 * callsPerStep);
  });
}

test('eps lattice parameterisation (spec §4): an ε-head of the exact Gaussian score samples N(m, v²) with the eps score, not with the x0 one', () => {
  const G = 300;
  const layout = makeLayout(Array.from({ length: G }, () => 3));
  const types = new Int32Array(layout.numAtoms).fill(8);
  const net = new GaussianLatticeNet(0.7, 0.3, false, 'eps');
  for (const method of ['em', 'pc'] as const) {
    // the deterministic predictor alone for PC: the default corrector over-disperses (see samplerCases)
    const res = sampleCspSync(net, { layout, types }, new Rng(23), { method, correctorSteps: 0, nSteps: 200, latticeParameterisation: 'eps' });
    const { mean, sd } = moments(res.lattice);
    assert.ok(Math.abs(mean - 0.7) < 0.04, `${method}: mean ${mean}`);
    assert.ok(sd > 0.27 && sd < 0.33, `${method}: sd ${sd}`);
  }
  // the same head read as l̂_0 (the default x0 score) is the wrong score: far from N(0.7, 0.3²) (seen: mean −2.5, sd 1.8)
  const wrong = moments(sampleCspSync(net, { layout, types }, new Rng(23), { method: 'em', nSteps: 200 }).lattice);
  assert.ok(Math.abs(wrong.mean - 0.7) > 1 && wrong.sd > 1, `x0 reading: mean ${wrong.mean} sd ${wrong.sd}`);
});

test('network calls see the state at the grid times, mean-free velocities, the given types', () => {
  const layout = makeLayout([3, 2]);
  const types = new Int32Array([38, 22, 8, 1, 1]);
  const net = new GaussianLatticeNet(0, 1, true);
  sampleCspSync(net, { layout, types }, new Rng(1), { method: 'pc', nSteps: 5, tFinal: 0 });
  assert.equal(net.calls.length, 10);
  const grid = timeGrid(5, 0);
  for (let c = 0; c < 10; c++) {
    const inp = net.calls[c]!;
    assert.equal(inp.t[0], Math.fround(grid[Math.floor(c / 2)]!)); // corrector and predictor share t
    assert.deepEqual(inp.types, types);
    for (let g = 0; g < 2; g++)
      for (let d = 0; d < 3; d++) {
        let s = 0;
        for (let i = layout.atomOffsets[g]!; i < layout.atomOffsets[g + 1]!; i++) s += inp.vel[i * 3 + d]!;
        assert.ok(Math.abs(s) < 1e-6);
      }
    for (const p of inp.pos) assert.ok(p > -0.5 - 1e-6 && p <= 0.5 + 1e-6);
  }
});

test('oracle lattice (diagnostic): every network call sees α(t)·l_0 + σ(t)·ε with one ε per crystal; the positions are sampled as without it', () => {
  const layout = makeLayout([3, 2]);
  const types = new Int32Array([38, 22, 8, 1, 1]);
  const l0 = Float64Array.from([0.3, -0.2, 1.1, 0.05, -0.4, 0.7, -1.2, 0.9, 0.0, 0.2, 0.1, -0.3]);
  for (const method of ['em', 'pc'] as const) {
    // a lattice head far from the truth (N(3, 0.1²)): with the oracle its score cannot move the lattice
    const net = new GaussianLatticeNet(3, 0.1, true);
    const res = sampleCspSync(net, { layout, types, oracleLattice: l0 }, new Rng(9), { method, nSteps: 20 });
    // the first call's lattice recovers ε; every later call is on the same path
    const t0 = net.calls[0]!.t[0]!;
    const eps = Array.from(net.calls[0]!.lattice, (v, j) => (v - vpAlpha(t0) * l0[j]!) / vpSigma(t0));
    for (const call of net.calls) {
      const t = call.t[0]!;
      for (let j = 0; j < 12; j++) assert.ok(Math.abs(call.lattice[j]! - (vpAlpha(t) * l0[j]! + vpSigma(t) * eps[j]!)) < 1e-5, `${method} t ${t} j ${j}`);
    }
    // the end state is the truth up to σ(t_f)·ε (t_f = 1e-3: σ ≈ 0.0105)
    for (let j = 0; j < 12; j++) assert.ok(Math.abs(res.lattice[j]! - l0[j]!) <= vpSigma(1e-3) * Math.abs(eps[j]!) + 1e-4 * (1 + Math.abs(l0[j]!)));
    // the positions and velocities draw the same noise as a run without the oracle (the lattice noise draws are unchanged too)
    const plain = sampleCspSync(new GaussianLatticeNet(3, 0.1), { layout, types }, new Rng(9), { method, nSteps: 20 });
    assert.deepEqual(res.frac, plain.frac);
  }
  assert.throws(() => sampleCspSync(new GaussianLatticeNet(0, 1), { layout, types, oracleLattice: new Float64Array(6) }, new Rng(1)), /oracle lattice has 6 values for 2 crystals/);
});

test('same seed gives the same samples; progress is reported; trajectory frames every k steps', () => {
  const layout = makeLayout([2, 3]);
  const batch = { layout, types: new Int32Array(5).fill(8) };
  const steps: number[] = [];
  const a = sampleCspSync(new GaussianLatticeNet(0, 1), batch, new Rng(5), {
    method: 'em', nSteps: 25, trajectoryEvery: 10, onProgress: (s) => steps.push(s),
  });
  const b = sampleCspSync(new GaussianLatticeNet(0, 1), batch, new Rng(5), { method: 'em', nSteps: 25 });
  assert.deepEqual(a.frac, b.frac);
  assert.deepEqual(a.lattice, b.lattice);
  assert.equal(steps.length, 25);
  assert.equal(steps[24], 25);
  assert.deepEqual(a.trajectory.map((f) => f.step), [0, 10, 20, 25]);
  assert.deepEqual(a.trajectory.map((f) => f.t), [1, timeGrid(25, 1e-3)[10], timeGrid(25, 1e-3)[20], 1e-3]);
  assert.equal(b.trajectory.length, 0);
});

test('abort signal stops sync and async sampling with a KldmError', async () => {
  const layout = makeLayout([2]);
  const batch = { layout, types: new Int32Array([8, 8]) };
  const ac = new AbortController();
  assert.throws(
    () => sampleCspSync(new GaussianLatticeNet(0, 1), batch, new Rng(1), { nSteps: 50, signal: ac.signal, onProgress: (s) => s === 3 && ac.abort() }),
    (e: unknown) => e instanceof KldmError && /aborted at step 3\/50/.test((e as Error).message),
  );
  const ac2 = new AbortController();
  setTimeout(() => ac2.abort(), 5);
  await assert.rejects(
    sampleCsp(new GaussianLatticeNet(0, 1), batch, new Rng(1), { nSteps: 1_000_000, signal: ac2.signal }),
    (e: unknown) => e instanceof KldmError && /aborted/.test((e as Error).message),
  );
  const done = await sampleCsp(new GaussianLatticeNet(0, 1), batch, new Rng(1), { nSteps: 3, method: 'em' });
  assert.equal(done.networkCalls, 3);
});

test('bad options are KldmErrors', () => {
  const batch = { layout: makeLayout([2]), types: new Int32Array([8, 8]) };
  const net = new GaussianLatticeNet(0, 1);
  assert.throws(() => sampleCspSync(net, batch, new Rng(1), { nSteps: 0 }), KldmError);
  assert.throws(() => sampleCspSync(net, batch, new Rng(1), { tFinal: 1 }), KldmError);
  assert.throws(() => sampleCspSync(net, batch, new Rng(1), { method: 'xx' as 'em' }), KldmError);
  assert.throws(() => sampleCspSync(net, batch, new Rng(1), { latticeParameterisation: 'x1' as 'x0' }), /unknown lattice parameterisation 'x1'/);
  assert.throws(() => sampleCspSync(net, { ...batch, types: new Int32Array(3) }, new Rng(1)), KldmError);
});

test('decode: f = p mod 1, lattice from the inverse feature transforms and from_parameters (§7.3)', () => {
  const layout = makeLayout([2, 1]);
  const stats = { byAtomCount: { 1: { loc: [1.0, 1.1, 1.2] as [number, number, number], scale: [0.2, 0.2, 0.2] as [number, number, number] }, 2: { loc: [1.3, 1.4, 1.5] as [number, number, number], scale: [0.1, 0.3, 0.5] as [number, number, number] } } };
  const p1 = { a: 3.5, b: 4.2, c: 5.0, alpha: 80, beta: 100, gamma: 115 };
  const p2 = { a: 2.9, b: 3.0, c: 3.1, alpha: 90, beta: 90, gamma: 90 };
  const lattice = [...latticeToFeatures(p1, 2, stats), ...latticeToFeatures(p2, 1, stats)];
  const pos = [0.25, -0.25, 0.5, -0.1, 0.0, 0.4, 0.3, -0.5, 0.2];
  const out = decodeSamplerResult({ layout, types: new Int32Array([38, 8, 22]), pos, lattice }, stats);
  assert.equal(out.length, 2);
  assert.deepEqual(out[0]!.structure.species, ['Sr', 'O']);
  assert.deepEqual(out[1]!.structure.species, ['Ti']);
  const f = Array.from(out[0]!.structure.frac);
  const expected = [0.25, 0.75, 0.5, 0.9, 0, 0.4];
  for (let j = 0; j < 6; j++) assert.ok(Math.abs(f[j]! - expected[j]!) < 1e-12);
  const m = fromParameters(p1);
  for (let j = 0; j < 9; j++) assert.ok(Math.abs(out[0]!.structure.lattice[j] - m[j]) < 1e-9);
  assert.ok(out[0]!.finite && out[1]!.finite);
  const bad = decodeSamplerResult({ layout, types: new Int32Array([38, 8, 22]), pos: [NaN, ...pos.slice(1)], lattice }, stats);
  assert.equal(bad[0]!.finite, false);
  assert.equal(bad[1]!.finite, true);
  assert.throws(() => decodeSamplerResult({ layout: makeLayout([3]), types: new Int32Array([8, 8, 8]), pos: pos, lattice: lattice.slice(0, 6) }, stats), /3 atoms/);
});

for (const method of ['em', 'pc'] as const) {
  test(`${method}: with the exact point-mass velocity score the positions converge onto the target structure`, () => {
    const G = 30;
    const layout = makeLayout(Array.from({ length: G }, (_, g) => 2 + (g % 3)));
    const rng = new Rng(4);
    const x0 = new Float64Array(layout.numAtoms * 3);
    for (let j = 0; j < x0.length; j++) x0[j] = TWO_PI * (rng.uniform() - 0.5);
    const batch = { layout, types: new Int32Array(layout.numAtoms).fill(8) };
    const res = sampleCspSync(new PointMassOracle(x0), batch, new Rng(9), { method, nSteps: 200 });
    const errs = relativeErrors(layout, res.pos, x0);
    // observed max ≈ 0.005-0.008 rad; σ_r(t_f) ≈ 1e−3
    assert.ok(Math.max(...errs) < 0.05, `max error ${Math.max(...errs)}`);
    // negative control: without the wrapped-normal term the positions stay random
    const control = sampleCspSync(new PointMassOracle(x0, false), batch, new Rng(9), { method, nSteps: 200 });
    const controlErrs = relativeErrors(layout, control.pos, x0);
    assert.ok(controlErrs.filter((e) => e < 0.05).length <= 2);
  });
}
