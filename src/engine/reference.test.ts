import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceKernels as k } from './reference.js';
import { Rng } from '../util/rng.js';

function rand(rng: Rng, n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

test('gemm: all transpose combinations, offsets and leading dimensions against a naive triple loop', () => {
  const rng = new Rng(1);
  const m = 3, n = 4, kk = 5;
  for (const tA of [false, true]) {
    for (const tB of [false, true]) {
      const lda = (tA ? m : kk) + 2;
      const ldb = (tB ? kk : n) + 1;
      const a = rand(rng, 3 + (tA ? kk : m) * lda);
      const b = rand(rng, 2 + (tB ? n : kk) * ldb);
      const c = rand(rng, 1 + m * (n + 3));
      const c0 = Float64Array.from(c);
      k.gemm(tA, tB, m, n, kk, 0.5, a, 3, lda, b, 2, ldb, 2, c, 1, n + 3);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < kk; p++) s += (tA ? a[3 + p * lda + i]! : a[3 + i * lda + p]!) * (tB ? b[2 + j * ldb + p]! : b[2 + p * ldb + j]!);
        assert.ok(Math.abs(c[1 + i * (n + 3) + j]! - (2 * c0[1 + i * (n + 3) + j]! + 0.5 * s)) < 1e-12);
      }
    }
  }
});

test('gemm with beta = 0 ignores NaN in C', () => {
  const c = Float32Array.of(NaN);
  k.gemm(false, false, 1, 1, 1, 1, Float32Array.of(2), 0, 1, Float32Array.of(3), 0, 1, 0, c, 0, 1);
  assert.equal(c[0], 6);
});

test('layer norm: zero mean, unit variance before the affine map', () => {
  const rng = new Rng(2);
  const x = rand(rng, 2 * 6);
  const y = new Float64Array(12);
  k.layerNormForward(x, new Float64Array(6).fill(1), new Float64Array(6), 2, 6, 0, y, new Float64Array(2), new Float64Array(2));
  for (let r = 0; r < 2; r++) {
    let s = 0, s2 = 0;
    for (let c = 0; c < 6; c++) { s += y[r * 6 + c]!; s2 += y[r * 6 + c]! ** 2; }
    assert.ok(Math.abs(s) < 1e-12 && Math.abs(s2 / 6 - 1) < 1e-12);
  }
});

test('segment mean, centring and empty segments', () => {
  const x = Float64Array.of(1, 2, 3, 4, 5, 6);
  const off = Int32Array.of(0, 2, 2, 3);
  const out = new Float64Array(6).fill(9);
  k.segmentMean(x, off, 3, 2, out);
  assert.deepEqual([...out], [2, 3, 0, 0, 5, 6]);
  k.segmentCentre(x, off, 3, 2);
  assert.deepEqual([...x], [-1, -1, 1, 1, 0, 0]);
});

test('fused silu segment mean and its backward equal the unfused kernels', () => {
  const rng = new Rng(4);
  const off = Int32Array.of(0, 3, 3, 4, 8);
  const rows = 8, cols = 5, S = 4;
  const z = rand(rng, rows * cols);
  const bias = rand(rng, cols);
  const z1 = Float64Array.from(z);
  const out1 = new Float64Array(S * cols);
  k.biasSiluSegmentMean(z1, bias, off, S, cols, out1);
  const z2 = Float64Array.from(z);
  const act = new Float64Array(rows * cols);
  k.biasSilu(z2, bias, rows, cols, act);
  const out2 = new Float64Array(S * cols);
  k.segmentMean(act, off, S, cols, out2);
  for (let i = 0; i < out1.length; i++) assert.ok(Math.abs(out1[i]! - out2[i]!) < 1e-12);
  const dout = rand(rng, S * cols);
  const dz1 = new Float64Array(rows * cols);
  const db1 = new Float64Array(cols);
  k.siluSegmentMeanBackward(dout, z1, off, S, cols, dz1, db1);
  const dm = new Float64Array(rows * cols);
  k.segmentMeanBackward(dout, off, S, cols, dm);
  const dz2 = new Float64Array(rows * cols);
  k.siluBackward(dm, z2, rows * cols, dz2);
  const db2 = new Float64Array(cols);
  k.colSumAdd(dz2, rows, cols, db2);
  for (let i = 0; i < dz1.length; i++) assert.ok(Math.abs(dz1[i]! - dz2[i]!) < 1e-12);
  for (let i = 0; i < cols; i++) assert.ok(Math.abs(db1[i]! - db2[i]!) < 1e-12);
});

test('sigmoidGate: gate = 1/(1+exp(-z)), out = value·gate; its backward equals central differences of Σ dout·out', () => {
  const rng = new Rng(11);
  const n = 7;
  const z = rand(rng, n), value = rand(rng, n), dout = rand(rng, n);
  const gate = new Float64Array(n), out = new Float64Array(n), gateOnly = new Float64Array(n);
  k.sigmoidGate(z, value, n, gate, out);
  k.sigmoidGate(z, null, n, gateOnly, null);
  const loss = (zz: Float64Array, vv: Float64Array): number => {
    let s = 0;
    for (let i = 0; i < n; i++) s += dout[i]! * vv[i]! / (1 + Math.exp(-zz[i]!));
    return s;
  };
  for (let i = 0; i < n; i++) {
    assert.ok(Math.abs(gate[i]! - 1 / (1 + Math.exp(-z[i]!))) < 1e-15);
    assert.equal(gateOnly[i], gate[i]);
    assert.ok(Math.abs(out[i]! - value[i]! * gate[i]!) < 1e-15);
  }
  const dvalue = new Float64Array(n), dz = new Float64Array(n), dzGateOnly = new Float64Array(n);
  k.sigmoidGateBackward(dout, gate, value, n, dvalue, dz);
  k.sigmoidGateBackward(dout, gate, null, n, null, dzGateOnly);
  const h = 1e-6;
  const ones = new Float64Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    const zp = Float64Array.from(z), zm = Float64Array.from(z), vp = Float64Array.from(value), vm = Float64Array.from(value);
    zp[i]! += h; zm[i]! -= h; vp[i]! += h; vm[i]! -= h;
    assert.ok(Math.abs(dz[i]! - (loss(zp, value) - loss(zm, value)) / (2 * h)) < 1e-8, `dz ${i}`);
    assert.ok(Math.abs(dvalue[i]! - (loss(z, vp) - loss(z, vm)) / (2 * h)) < 1e-8, `dvalue ${i}`);
    assert.ok(Math.abs(dzGateOnly[i]! - (loss(zp, ones) - loss(zm, ones)) / (2 * h)) < 1e-8, `dz (gate only) ${i}`);
  }
  assert.throws(() => k.sigmoidGate(z, value, n, gate, null), /together/);
});

test('hadamard: one or two elementwise products', () => {
  const x = Float64Array.of(1, -2, 3), a = Float64Array.of(4, 5, -6), b = Float64Array.of(0.5, 2, 1);
  const xa = new Float64Array(3), xb = new Float64Array(3), only = new Float64Array(3);
  k.hadamard(x, a, b, 3, xa, xb);
  k.hadamard(x, b, null, 3, only, null);
  assert.deepEqual([...xa], [4, -10, -18]);
  assert.deepEqual([...xb], [0.5, -4, 3]);
  assert.deepEqual([...only], [...xb]);
});
