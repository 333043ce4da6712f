import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLayout, type NetInput, type NetOutput, type ScoreNetwork } from '../network/types.js';
import { Rng } from '../util/rng.js';
import { MASK_ID, NUM_TYPE_CLASSES, maskKeepProbability } from '../diffusion/masking.js';
import { encodeTypes, type TypeDiffusionKind } from '../diffusion/typeDiffusion.js';
import { vpAlpha, vpSigma } from '../diffusion/latticeVp.js';
import { sampleCspSync, type SamplerMethod } from './sampler.js';
import { TypeSampler, allowedClassesOf } from './typeSampler.js';

const K = NUM_TYPE_CLASSES;

/**
 * Velocity and lattice heads 0; the type head returns fixed per-class logits (masking) or, for the
 * continuous variants, the code of a fixed class: the exact x0 prediction of a point-mass type
 * distribution (every atom is `target`). Records the type inputs it was called with.
 */
class FixedTypeOracle implements ScoreNetwork {
  calls: Array<{ types: Int32Array; features: Float32Array | null }> = [];
  constructor(
    private readonly kind: TypeDiffusionKind,
    private readonly logits: Float32Array,
    private readonly target: number,
  ) {}
  predict(inp: NetInput): NetOutput {
    const N = inp.layout.numAtoms;
    this.calls.push({ types: Int32Array.from(inp.types), features: inp.typeFeatures ? Float32Array.from(inp.typeFeatures) : null });
    let h: Float32Array;
    if (this.kind === 'masking') {
      h = new Float32Array(N * K);
      for (let i = 0; i < N; i++) h.set(this.logits, i * K);
    } else {
      h = Float32Array.from(encodeTypes(this.kind, new Int32Array(N).fill(this.target)));
    }
    return { v: new Float32Array(N * 3), l: new Float32Array(inp.layout.numCrystals * 6), h };
  }
}

function logitsFavouring(z: number, others = 0): Float32Array {
  const l = new Float32Array(K).fill(others);
  l[z] = 8;
  return l;
}

test('masking reverse process: after steps 1 → t the masked fraction is (1 − α_m(t))/(1 − α_m(1)) (telescoping product of 1 − q)', () => {
  const N = 6000;
  const layout = makeLayout([N]);
  const ts = new TypeSampler(layout, { kind: 'masking' });
  const rng = new Rng(4);
  ts.prior(rng);
  assert.ok(ts.ids.every((z) => z === MASK_ID));
  const grid = Array.from({ length: 11 }, (_, i) => 1 - i * 0.05); // 1 → 0.5 in 10 steps
  const logits = new Float32Array(N * K);
  for (let i = 0; i < N; i++) logits[i * K + 26] = 5;
  for (let i = 0; i < 10; i++) {
    ts.readOutput(logits, grid[i]!);
    ts.predictorStep(grid[i]!, grid[i + 1]! - grid[i]!, rng);
  }
  const masked = ts.ids.filter((z) => z === MASK_ID).length / N;
  const expected = (1 - maskKeepProbability(0.5)) / (1 - maskKeepProbability(1));
  assert.ok(Math.abs(masked - expected) < 4 * Math.sqrt((expected * (1 - expected)) / N), `${masked} vs ${expected}`);
});

test('masking reverse process: revealed classes follow softmax(logits) restricted to the allowed elements', () => {
  const N = 8000;
  const layout = makeLayout([N]);
  const allowed = allowedClassesOf([3, 8, 26]);
  const ts = new TypeSampler(layout, { kind: 'masking', allowed });
  const rng = new Rng(8);
  ts.prior(rng);
  const row = new Float32Array(K).fill(0);
  row[3] = 1;
  row[8] = 2;
  row[26] = 0;
  row[1] = 10; // disallowed and by far the most likely: must never appear
  const logits = new Float32Array(N * K);
  for (let i = 0; i < N; i++) logits.set(row, i * K);
  ts.readOutput(logits, 1);
  ts.predictorStep(1, -1, rng); // q = 1: every atom revealed at once
  const z = Math.exp(1) + Math.exp(2) + Math.exp(0);
  const expected = new Map([[3, Math.exp(1) / z], [8, Math.exp(2) / z], [26, 1 / z]]);
  const ids = ts.finalIds();
  for (const [c, p] of expected) {
    const f = ids.filter((x) => x === c).length / N;
    assert.ok(Math.abs(f - p) < 4 * Math.sqrt((p * (1 - p)) / N), `class ${c}: ${f} vs ${p}`);
  }
  assert.equal(ids.filter((x) => !expected.has(x)).length, 0);
});

test('one-hot restriction: the x0 prediction becomes the posterior mean over the allowed classes', () => {
  const layout = makeLayout([1]);
  const ts = new TypeSampler(layout, { kind: 'onehot', allowed: allowedClassesOf([8, 26]) });
  ts.prior(new Rng(1));
  const out = new Float32Array(K);
  out[8] = 0.2;
  out[26] = 0.6;
  out[1] = 0.9; // disallowed
  out[30] = -0.4; // disallowed, negative
  ts.readOutput(out, 0.5);
  // the (private) restricted x0 prediction that the score ŝ = (α·x0 − h)/σ² is built from (§5.1)
  const x0 = (c: number): number => (ts as unknown as { x0: Float64Array }).x0[c]!;
  assert.ok(Math.abs(x0(8) - 0.25) < 1e-7); // 0.2 and 0.6 are float32 head outputs
  assert.ok(Math.abs(x0(26) - 0.75) < 1e-7);
  assert.ok(Math.abs(x0(1)) < 1e-9 && Math.abs(x0(30)) < 1e-9);
});

test('analog-bit restriction: the x0 prediction becomes the mean code of the bit-product posterior over allowed ids (brute force)', () => {
  const layout = makeLayout([1]);
  const allowedZ = [3, 8, 26, 56];
  const ts = new TypeSampler(layout, { kind: 'bits', allowed: allowedClassesOf(allowedZ) });
  ts.prior(new Rng(2));
  const m = [-0.9, -0.2, 0.7, 0.3, -0.5, 0.8, -0.1];
  ts.readOutput(Float32Array.from(m), 0.5);
  const { x0 } = ts as unknown as { x0: Float64Array };
  const weights = allowedZ.map((z) => {
    let p = 1;
    for (let b = 0; b < 7; b++) {
      const bit = (z >> (6 - b)) & 1;
      p *= bit ? (1 + m[b]!) / 2 : (1 - m[b]!) / 2;
    }
    return p;
  });
  const total = weights.reduce((x, y) => x + y, 0);
  for (let b = 0; b < 7; b++) {
    let mean = 0;
    allowedZ.forEach((z, k) => (mean += (weights[k]! / total) * (((z >> (6 - b)) & 1) ? 1 : -1)));
    assert.ok(Math.abs(x0[b]! - mean) < 1e-6, `bit ${b}: ${x0[b]} vs ${mean}`);
  }
});

test('continuous reverse processes (EM and PC) converge to the class of a point-mass type distribution', () => {
  for (const kind of ['onehot', 'bits'] as const) {
    for (const method of ['em', 'pc'] as SamplerMethod[]) {
      const layout = makeLayout([3, 4]);
      const net = new FixedTypeOracle(kind, new Float32Array(K), 26);
      const r = sampleCspSync(net, { layout, types: new Int32Array(7), typeDiffusion: { kind } }, new Rng(5), { method, nSteps: 200 });
      assert.deepEqual(Array.from(r.types), new Array(7).fill(26), `${kind} ${method}`);
      assert.ok(net.calls[0]!.features !== null && net.calls[0]!.features.length === 7 * (kind === 'bits' ? 7 : K));
    }
  }
});

test('chemical-system control: no disallowed element ever appears, in every variant and sampler, even when the network prefers one', () => {
  const allowedZ = [3, 15, 26, 8];
  const allowed = allowedClassesOf(allowedZ);
  for (const kind of ['masking', 'onehot', 'bits'] as const) {
    for (const method of ['em', 'pc'] as SamplerMethod[]) {
      const layout = makeLayout([5, 5, 6]);
      // the network insists on Ba (56, not allowed)
      const net = new FixedTypeOracle(kind, logitsFavouring(56, 1), 56);
      const r = sampleCspSync(net, { layout, types: new Int32Array(16), typeDiffusion: { kind, allowed } }, new Rng(9), { method, nSteps: 30, trajectoryEvery: 10 });
      for (const z of r.types) assert.ok(allowedZ.includes(z), `${kind} ${method}: generated Z = ${z}`);
      for (const f of r.trajectory) for (const z of f.types!) assert.ok(z === MASK_ID || allowedZ.includes(z), `${kind} ${method}: frame type ${z}`);
      if (kind === 'masking') assert.ok(net.calls.every((c) => c.types.every((z) => z === MASK_ID || allowedZ.includes(z))));
    }
  }
});

test('trajectories record the types of each frame: all masked at the prior, none at the end (masking)', () => {
  const layout = makeLayout([4]);
  const net = new FixedTypeOracle('masking', logitsFavouring(8), 8);
  const r = sampleCspSync(net, { layout, types: new Int32Array(4), typeDiffusion: { kind: 'masking' } }, new Rng(1), { method: 'em', nSteps: 20, trajectoryEvery: 5 });
  assert.deepEqual(r.trajectory.map((f) => f.step), [0, 5, 10, 15, 20]);
  assert.ok(r.trajectory[0]!.types!.every((z) => z === MASK_ID));
  assert.ok(r.types.every((z) => z !== MASK_ID));
});

test('fixed types (a formula with a DNG model): ids never change; masking feeds them clean, continuous variants re-noise them', () => {
  const fixed = Int32Array.from([38, 22, 8, 8, 8]);
  for (const kind of ['masking', 'onehot', 'bits'] as const) {
    const layout = makeLayout([5]);
    const net = new FixedTypeOracle(kind, logitsFavouring(56), 56);
    const r = sampleCspSync(net, { layout, types: new Int32Array(5), typeDiffusion: { kind, fixed } }, new Rng(3), { method: 'pc', nSteps: 10 });
    assert.deepEqual(Array.from(r.types), Array.from(fixed));
    if (kind === 'masking') assert.ok(net.calls.every((c) => c.types.join() === fixed.join()));
    else {
      // each call is fed a forward draw α(t)·h_0 + σ(t)·ε: check the residual's variance at the last t
      const code = encodeTypes(kind, fixed);
      const last = net.calls.at(-1)!.features!;
      const t = 1 + 9 * ((1e-3 - 1) / 10);
      let ss = 0;
      for (let j = 0; j < last.length; j++) ss += (last[j]! - vpAlpha(t) * code[j]!) ** 2;
      const ratio = ss / last.length / vpSigma(t) ** 2;
      assert.ok(Math.abs(ratio - 1) < (kind === 'bits' ? 0.8 : 0.3), `${kind}: residual variance ratio ${ratio}`);
    }
  }
});

test('generation is deterministic by seed and differs between seeds', () => {
  for (const kind of ['masking', 'onehot', 'bits'] as const) {
    const run = (seed: number): Int32Array => {
      const net = new FixedTypeOracle(kind, Float32Array.from({ length: K }, (_, c) => Math.sin(c)), 26);
      const allowed = allowedClassesOf([1, 3, 8, 26, 56, 80]);
      return sampleCspSync(net, { layout: makeLayout([6, 6, 6, 6]), types: new Int32Array(24), typeDiffusion: { kind, allowed } }, new Rng(seed), { method: 'em', nSteps: 15 }).types;
    };
    assert.deepEqual(Array.from(run(7)), Array.from(run(7)));
    if (kind === 'masking') assert.notDeepEqual(Array.from(run(7)), Array.from(run(8)));
  }
});

test('bad restrictions are rejected with a clear error', () => {
  assert.throws(() => allowedClassesOf([]), /empty/);
  assert.throws(() => allowedClassesOf([0]), /outside/);
  assert.throws(() => allowedClassesOf([100]), /outside/);
  assert.throws(() => new TypeSampler(makeLayout([2]), { kind: 'masking', fixed: new Int32Array(3) }), /3 ids for 2 atoms/);
});
