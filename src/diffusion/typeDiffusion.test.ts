import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countTrainableParams, PAPER_CONFIG } from '../network/config.js';
import { makeLayout, type NetOutput } from '../network/types.js';
import { Rng } from '../util/rng.js';
import { dngNetworkFields, noisyTypesFrom, sliceNoisyTypes, typeLoss, type TypeDiffusionSpec } from './typeDiffusion.js';
import { dngLoss, makeNoisyDngBatch } from './dngLoss.js';
import { cspLoss } from './loss.js';
import { maskKeepProbability, MASK_ID } from './masking.js';
import { vpAlpha, vpSigma } from './latticeVp.js';

const spec = (kind: TypeDiffusionSpec['kind']): TypeDiffusionSpec => ({ kind, maskSchedule: 'linear', simpleLoss: false });

test('DNG network sizes of spec §14.9 (C one-hot, C-AB bits, D masking) from dngNetworkFields', () => {
  assert.equal(countTrainableParams({ ...PAPER_CONFIG, ...dngNetworkFields('onehot') }), 14_975_588);
  assert.equal(countTrainableParams({ ...PAPER_CONFIG, ...dngNetworkFields('bits') }), 14_880_263);
  assert.equal(countTrainableParams({ ...PAPER_CONFIG, ...dngNetworkFields('masking') }), 14_976_100);
});

test('masking forward: the masked fraction at time t is 1 − α_m(t) (binomial tolerance)', () => {
  const N = 20000;
  const layout = makeLayout([N]);
  const clean = new Int32Array(N).fill(26);
  for (const t of [0.2, 0.5, 0.9]) {
    const n = noisyTypesFrom(spec('masking'), layout, clean, [t], new Rng(7));
    let masked = 0;
    for (let i = 0; i < N; i++) {
      if (n.noisyIds![i] === MASK_ID) masked++;
      else assert.equal(n.noisyIds![i], 26);
    }
    const p = 1 - maskKeepProbability(t);
    assert.ok(Math.abs(masked / N - p) < 4 * Math.sqrt((p * (1 - p)) / N), `t=${t}: ${masked / N} vs ${p}`);
  }
});

test('continuous forward: h_t has mean α(t)·h_0 and variance σ(t)² per entry (one-hot and bits)', () => {
  const N = 4000;
  const layout = makeLayout([N]);
  const clean = new Int32Array(N).fill(26); // Fe: bits 0011010 (§14)
  const t = 0.3;
  const a = vpAlpha(t);
  const s = vpSigma(t);
  for (const kind of ['onehot', 'bits'] as const) {
    const n = noisyTypesFrom(spec(kind), layout, clean, [t], new Rng(11));
    const w = kind === 'bits' ? 7 : 100;
    const h0 = kind === 'bits' ? [-1, -1, 1, 1, -1, 1, -1] : Array.from({ length: 100 }, (_, c) => (c === 26 ? 1 : 0));
    assert.deepEqual(Array.from(n.target!.subarray(0, w)), h0);
    for (const c of kind === 'bits' ? [0, 2, 6] : [0, 26, 99]) {
      let m = 0;
      let v = 0;
      for (let i = 0; i < N; i++) m += n.features![i * w + c]!;
      m /= N;
      for (let i = 0; i < N; i++) v += (n.features![i * w + c]! - m) ** 2;
      v /= N - 1;
      assert.ok(Math.abs(m - a * h0[c]!) < 4 * s / Math.sqrt(N), `${kind} c=${c}: mean ${m} vs ${a * h0[c]!}`);
      assert.ok(Math.abs(v / (s * s) - 1) < 0.1, `${kind} c=${c}: variance ${v} vs ${s * s}`);
    }
  }
});

/** Central finite difference of f at x along coordinate j. */
function fd(f: (x: Float32Array) => number, x: Float32Array, j: number, h = 1e-3): number {
  const xp = Float32Array.from(x);
  const xm = Float32Array.from(x);
  xp[j]! += h;
  xm[j]! -= h;
  return (f(xp) - f(xm)) / (2 * h);
}

test('type loss gradients match finite differences (continuous MSE and masked cross-entropy)', () => {
  const layout = makeLayout([3, 2]);
  const clean = Int32Array.from([8, 22, 38, 8, 3]);
  for (const kind of ['onehot', 'bits', 'masking'] as const) {
    const rng = new Rng(3);
    const noisy = noisyTypesFrom(spec(kind), layout, clean, [0.8, 0.95], rng);
    const width = kind === 'bits' ? 7 : 100;
    const out = new Float32Array(5 * width);
    for (let j = 0; j < out.length; j++) out[j] = rng.normal();
    const { grad } = typeLoss(spec(kind), out, noisy);
    for (const j of [0, 3, 8 * (width > 7 ? 1 : 0) + 5, out.length - 1]) {
      const num = fd((x) => typeLoss(spec(kind), x, noisy).loss, out, j);
      assert.ok(Math.abs(num - grad[j]!) < 1e-3 * Math.max(1, Math.abs(num)), `${kind} j=${j}: ${grad[j]} vs ${num}`);
    }
  }
});

/** A clean batch of two crystals (2 and 3 atoms) for the joint-loss tests. */
function twoCrystalBatch(): { layout: ReturnType<typeof makeLayout>; frac: Float64Array; types: Int32Array; lattice: Float64Array } {
  return {
    layout: makeLayout([2, 3]),
    frac: Float64Array.from({ length: 15 }, (_, j) => (j * 0.173) % 1),
    types: Int32Array.from([38, 8, 22, 8, 8]),
    lattice: Float64Array.from({ length: 12 }, (_, j) => Math.sin(j)),
  };
}

test('the DNG loss is the average of three modalities and its gradient is 1/3 of each loss gradient (spec §6)', () => {
  const batch = twoCrystalBatch();
  for (const kind of ['onehot', 'bits', 'masking'] as const) {
    const noisy = makeNoisyDngBatch(batch, spec(kind), new Rng(5));
    if (kind === 'masking') assert.equal(noisy.input.types, noisy.noisyTypes.noisyIds);
    else assert.equal(noisy.input.typeFeatures, noisy.noisyTypes.features);
    const rng = new Rng(9);
    const width = kind === 'bits' ? 7 : 100;
    const out: NetOutput = {
      v: Float32Array.from({ length: 15 }, () => rng.normal()),
      l: Float32Array.from({ length: 12 }, () => rng.normal()),
      h: Float32Array.from({ length: 5 * width }, () => rng.normal()),
    };
    const l = dngLoss(spec(kind), out, noisy);
    const csp = cspLoss(out, noisy);
    const h = typeLoss(spec(kind), out.h!, noisy.noisyTypes);
    assert.ok(Math.abs(l.total - (csp.lossV + csp.lossL + h.loss) / 3) < 1e-12);
    for (let j = 0; j < 15; j++) assert.ok(Math.abs(l.grad.v[j]! - (2 / 3) * csp.grad.v[j]!) < 1e-6 * Math.abs(csp.grad.v[j]!) + 1e-12);
    for (let j = 0; j < 12; j++) assert.ok(Math.abs(l.grad.l[j]! - (2 / 3) * csp.grad.l[j]!) < 1e-6 * Math.abs(csp.grad.l[j]!) + 1e-12);
    for (let j = 0; j < h.grad.length; j++) assert.ok(Math.abs(l.grad.h![j]! - h.grad[j]! / 3) < 1e-6 * Math.abs(h.grad[j]!) + 1e-12);
    const total = (x: Float32Array): number => dngLoss(spec(kind), { ...out, h: x }, noisy).total;
    const num = fd(total, out.h!, 2);
    assert.ok(Math.abs(num - l.grad.h![2]!) < 1e-4 * Math.max(1, Math.abs(num)), `${kind}: ${l.grad.h![2]} vs ${num}`);
  }
});

test('types.lossWeight w_h scales the type term of the joint loss and its gradient only; L_h is reported unweighted', () => {
  const batch = twoCrystalBatch();
  const noisy = makeNoisyDngBatch(batch, spec('onehot'), new Rng(5));
  const rng = new Rng(9);
  const out: NetOutput = {
    v: Float32Array.from({ length: 15 }, () => rng.normal()),
    l: Float32Array.from({ length: 12 }, () => rng.normal()),
    h: Float32Array.from({ length: 500 }, () => rng.normal()),
  };
  const one = dngLoss(spec('onehot'), out, noisy);
  const twenty = dngLoss({ ...spec('onehot'), lossWeight: 20 }, out, noisy);
  assert.equal(twenty.lossH, one.lossH);
  assert.ok(Math.abs(twenty.total - (one.lossV + one.lossL + 20 * one.lossH) / 3) < 1e-12);
  assert.deepEqual(twenty.grad.v, one.grad.v);
  assert.deepEqual(twenty.grad.l, one.grad.l);
  for (let j = 0; j < 500; j++) assert.ok(Math.abs(twenty.grad.h![j]! - 20 * one.grad.h![j]!) <= 1e-6 * Math.abs(20 * one.grad.h![j]!) + 1e-12);
});

test('sliceNoisyTypes keeps atoms [a0, a1) of every array', () => {
  const layout = makeLayout([2, 2]);
  const n = noisyTypesFrom(spec('bits'), layout, Int32Array.from([1, 2, 3, 4]), [0.5, 0.6], new Rng(1));
  const s = sliceNoisyTypes(n, 1, 3);
  assert.deepEqual(Array.from(s.clean), [2, 3]);
  assert.deepEqual(Array.from(s.tOfAtom), [0.5, 0.6]);
  assert.deepEqual(Array.from(s.features!), Array.from(n.features!.subarray(7, 21)));
});
