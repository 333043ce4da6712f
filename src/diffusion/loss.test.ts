import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLayout } from '../network/types.js';
import { Rng } from '../util/rng.js';
import { cspLoss, drawCspNoise, makeNoisyCspBatch, noisyCspBatchFrom, type CleanCspBatch } from './loss.js';
import { vpAlpha, vpSigma } from './latticeVp.js';

const layout = makeLayout([2, 3]);
const rngData = new Rng(1);
const clean: CleanCspBatch = {
  layout,
  frac: Array.from({ length: 15 }, () => rngData.uniform()),
  types: new Int32Array([8, 22, 38, 8, 8]),
  lattice: Array.from({ length: 12 }, () => rngData.normal()),
};

test('the §14.4 example comes out of the joint batch builder unchanged', () => {
  const l1 = makeLayout([2]);
  const noisy = noisyCspBatchFrom(
    { layout: l1, frac: [0.1, 0.9, 0.5, 0.6, 0.25, 0.0], types: new Int32Array([1, 2]), lattice: [0.3, -0.2, 0.1, 0, 0.5, -0.5] },
    {
      t: [0.5],
      tdm: { epsU: new Float64Array([0.5, -1.0, 0.2, -0.5, 1.0, -0.2]), epsR: new Float64Array([3.1, 0.3, -0.7, -3.1, -0.3, 0.7]) },
      epsL: [1, 0, 0, 0, 0, -1],
    },
  );
  const y = [3.0978147, 0.2997885, -0.6995065, -3.0978147, -0.2997885, 0.6995065];
  for (let j = 0; j < 6; j++) assert.ok(Math.abs(noisy.targetV[j]! - y[j]!) < 1e-6);
  assert.ok(Math.abs(noisy.input.lattice[0]! - (vpAlpha(0.5) * 0.3 + vpSigma(0.5))) < 1e-6);
  assert.deepEqual(Array.from(noisy.targetL), Array.from(Float32Array.from([0.3, -0.2, 0.1, 0, 0.5, -0.5])));
  assert.equal(noisy.input.t[0], 0.5);
});

test('t is drawn per crystal in (0.001, 1] as 1 − 0.999u; eps targets equal the lattice noise', () => {
  const rng = new Rng(2);
  let min = 1, max = 0;
  for (let rep = 0; rep < 2000; rep++) {
    const n = drawCspNoise(layout, rng);
    for (const t of n.t) { min = Math.min(min, t); max = Math.max(max, t); }
  }
  assert.ok(min > 0.001 && min < 0.003 && max <= 1 && max > 0.997, `${min} ${max}`);
  const a = makeNoisyCspBatch(clean, new Rng(7), { latticeParameterisation: 'eps' });
  const noise = drawCspNoise(layout, new Rng(7));
  for (let j = 0; j < 12; j++) assert.equal(a.targetL[j], Math.fround(noise.epsL[j]!));
  // same seed, same batch (reproducible draw order)
  const b = makeNoisyCspBatch(clean, new Rng(7), { latticeParameterisation: 'eps' });
  assert.deepEqual(a.input.pos, b.input.pos);
});

test('loss = (L_v + L_l)/2 and its gradient matches central finite differences', () => {
  const noisy = makeNoisyCspBatch(clean, new Rng(3));
  const rng = new Rng(4);
  const out = { v: new Float32Array(15), l: new Float32Array(12) };
  rng.fillNormal(out.v);
  rng.fillNormal(out.l);
  const res = cspLoss(out, noisy);
  let lv = 0, ll = 0;
  for (let j = 0; j < 15; j++) lv += (out.v[j]! - noisy.targetV[j]!) ** 2;
  for (let j = 0; j < 12; j++) ll += (out.l[j]! - noisy.targetL[j]!) ** 2;
  assert.ok(Math.abs(res.lossV - lv / 15) < 1e-9);
  assert.ok(Math.abs(res.lossL - ll / 12) < 1e-9);
  assert.ok(Math.abs(res.total - (lv / 15 + ll / 12) / 2) < 1e-9);
  // finite differences in float64 copies of the outputs
  const f = (v: Float64Array, l: Float64Array) => cspLoss({ v: v as unknown as Float32Array, l: l as unknown as Float32Array }, noisy).total;
  const v64 = Float64Array.from(out.v);
  const l64 = Float64Array.from(out.l);
  const h = 1e-6;
  for (const [arr, grad] of [[v64, res.grad.v], [l64, res.grad.l]] as const) {
    for (let j = 0; j < arr.length; j++) {
      const x = arr[j]!;
      arr[j] = x + h;
      const fp = f(v64, l64);
      arr[j] = x - h;
      const fm = f(v64, l64);
      arr[j] = x;
      const fd = (fp - fm) / (2 * h);
      assert.ok(Math.abs(fd - grad[j]!) < 1e-6 * Math.max(1, Math.abs(fd)), `grad[${j}] ${grad[j]} vs fd ${fd}`);
    }
  }
});

test('loss rejects mismatched output sizes', () => {
  const noisy = makeNoisyCspBatch(clean, new Rng(3));
  assert.throws(() => cspLoss({ v: new Float32Array(3), l: new Float32Array(12) }, noisy), /output sizes/);
});
