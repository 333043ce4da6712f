import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import {
  MASK_ID,
  NUM_TYPE_CLASSES,
  maskKeepProbability,
  maskKeepProbabilityDerivative,
  maskLossWeight,
  maskTypes,
  maskingLoss,
  maskingReverseStep,
  unmaskProbability,
  unmaskRemaining,
  type MaskSchedule,
} from './masking.js';
import { analogBitsDecode, analogBitsEncode, argmaxTypes, numAnalogBits, oneHotTypes } from './continuousTypes.js';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

test('masking schedules reproduce §14.8', () => {
  const rows: [MaskSchedule, number, number, number][] = [
    ['linear', 0.001, 0.9989002, -909.07438],
    ['linear', 0.5, 0.5, -1.9996],
    ['linear', 1.0, 0.0001, -0.9999],
    ['cosine', 0.5, 0.29293464, -1.57057417],
    ['poly2', 0.5, 0.74995, -3.99840032],
  ];
  for (const [sch, t, a, ratio] of rows) {
    assert.ok(rel(maskKeepProbability(t, sch), a) < 1e-6, `${sch} α(${t})`);
    assert.ok(rel(maskKeepProbabilityDerivative(t, sch) / (1 - maskKeepProbability(t, sch)), ratio) < 1e-6, `${sch} ratio(${t})`);
    assert.ok(rel(maskLossWeight(t, sch), -ratio) < 1e-6);
  }
  assert.ok(rel(unmaskProbability(0.5, -0.000999, 'linear'), 0.0019976004) < 1e-7);
  assert.ok(rel(unmaskProbability(0.5, -0.000999, 'cosine'), 0.001570234) < 1e-6);
  assert.ok(rel(unmaskProbability(0.5, -0.000999, 'poly2'), 0.0039904115) < 1e-7);
});

test('derivatives match finite differences', () => {
  for (const sch of ['linear', 'cosine', 'poly2'] as const) {
    for (const t of [0.1, 0.5, 0.9]) {
      const h = 1e-6;
      const fd = (maskKeepProbability(t + h, sch) - maskKeepProbability(t - h, sch)) / (2 * h);
      assert.ok(Math.abs(fd - maskKeepProbabilityDerivative(t, sch)) < 1e-8);
    }
  }
});

test('forward masking keeps each atom with probability α_m(t)', () => {
  const rng = new Rng(1);
  const n = 20000;
  const types = new Int32Array(n).fill(26);
  const masked = maskTypes(types, new Float64Array(n).fill(0.3), rng);
  const kept = masked.filter((z) => z === 26).length / n;
  assert.ok(Math.abs(kept - maskKeepProbability(0.3)) < 0.015);
  assert.ok(masked.every((z) => z === 26 || z === MASK_ID));
});

test('masking loss: only masked atoms count, weighted by w(t); gradient by finite differences', () => {
  const K = 5;
  const rng = new Rng(2);
  const logits = new Float64Array(3 * K);
  rng.fillNormal(logits);
  const clean = [1, 3, 4];
  const noisy = [MASK_ID, 3, MASK_ID];
  const t = [0.2, 0.2, 0.7];
  const { loss, grad } = maskingLoss(logits, clean, noisy, t, { numClasses: K });
  const ce = (i: number) => {
    const row = Array.from(logits.subarray(i * K, i * K + K));
    const lse = Math.log(row.reduce((s, x) => s + Math.exp(x), 0));
    return lse - row[clean[i]!]!;
  };
  const expected = (maskLossWeight(0.2) * ce(0) + maskLossWeight(0.7) * ce(2)) / 3;
  assert.ok(Math.abs(loss - expected) < 1e-12);
  for (let j = 0; j < logits.length; j++) {
    const x = logits[j]!;
    logits[j] = x + 1e-6;
    const fp = maskingLoss(logits, clean, noisy, t, { numClasses: K }).loss;
    logits[j] = x - 1e-6;
    const fm = maskingLoss(logits, clean, noisy, t, { numClasses: K }).loss;
    logits[j] = x;
    assert.ok(Math.abs((fp - fm) / 2e-6 - grad[j]!) < 1e-5, `grad[${j}]`);
  }
  assert.equal(maskingLoss(logits, clean, noisy, t, { numClasses: K, simpleLoss: true }).loss, (ce(0) + ce(2)) / 3);
});

test('reverse step reveals with probability q, drawn from the softmax; revealed atoms never change', () => {
  const K = 3;
  const rng = new Rng(3);
  const n = 30000;
  const types = new Int32Array(n).fill(MASK_ID);
  types[0] = 2;
  const logits = new Float64Array(n * K);
  for (let i = 0; i < n; i++) logits.set([0, Math.log(3), Math.log(6)], i * K); // softmax 0.1, 0.3, 0.6
  maskingReverseStep(types, logits, 0.5, rng, K);
  assert.equal(types[0], 2);
  const counts = [0, 0, 0, 0];
  for (let i = 1; i < n; i++) counts[types[i] === MASK_ID ? 3 : types[i]!]!++;
  const f = counts.map((c) => c / (n - 1));
  assert.ok(Math.abs(f[3]! - 0.5) < 0.015);
  assert.ok(Math.abs(f[0]! - 0.05) < 0.01 && Math.abs(f[1]! - 0.15) < 0.01 && Math.abs(f[2]! - 0.3) < 0.015, `${f}`);
  const left = unmaskRemaining(types, logits, K);
  assert.equal(left, counts[3]);
  assert.ok(types.every((z) => z !== MASK_ID));
});

test('one-hot and analog bits (§5.1-5.2, §14.7: Fe = 0011010)', () => {
  assert.equal(numAnalogBits(), 7);
  assert.deepEqual(Array.from(analogBitsEncode([26])), [-1, -1, 1, 1, -1, 1, -1]);
  const ids = [1, 26, 99, 0, 64];
  assert.deepEqual(Array.from(analogBitsDecode(analogBitsEncode(ids))), ids);
  const noisy = analogBitsEncode(ids).map((x) => x * 0.3 + 0.05 * Math.sign(x));
  assert.deepEqual(Array.from(analogBitsDecode(noisy)), ids);
  const oh = oneHotTypes([3, 7], 10);
  assert.equal(oh[3], 1);
  assert.equal(oh[17], 1);
  assert.deepEqual(Array.from(argmaxTypes(oh, 10)), [3, 7]);
});

test('maskingReverseStep never picks a class of zero probability, even when rounding leaves the cumulative sum below the draw', () => {
  // 7 equal classes: the float64 sum of the probabilities is 0.9999999999999998 < u/q below
  const logits = new Float32Array(NUM_TYPE_CLASSES).fill(-Infinity);
  for (const c of [3, 8, 11, 20, 26, 30, 42]) logits[c] = 0;
  const types = Int32Array.from([MASK_ID]);
  const q = 0.5;
  maskingReverseStep(types, logits, q, { uniform: () => q * (1 - 2 ** -53) });
  assert.equal(types[0], 42);
});
