/**
 * The bf16 engine path (docs/engine.md "Precision"): the f32 → bf16 conversion against an
 * independent scalar rule, the mixed-precision GEMM against a float64 product of the
 * bf16-rounded operands and against the f32 product within the bf16 error bound, the operand
 * cache, and the choice of precision (fallbacks, KLDM_PRECISION).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNativeKernels } from './native.js';
import { referenceKernels as ref } from './reference.js';
import { bf16Eligible, parsePrecision, resolvePrecision, roundToBf16 } from './precision.js';
import { getKernels, requestedPrecision, setEnginePrecision } from './select.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { CSPVNet } from '../network/cspvnet.js';
import { initParams } from '../network/params.js';
import { makeLayout } from '../network/types.js';
import type { CSPVNetConfig } from '../network/config.js';

const native = loadNativeKernels();
const bf16 = native ? native.kernels.precisionCapabilities().bf16 : false;
const skipNative = native ? false : `native addon not built (${loadNativeKernels.lastError})`;
const skipBf16 = !native ? skipNative : bf16 ? false : `no native bf16 on this CPU (oneDNN ISA ${native.kernels.precisionCapabilities().isa})`;

function rnd(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (x: number): number => {
  f32[0] = x;
  return u32[0]!;
};
const fromBits = (u: number): number => {
  u32[0] = u >>> 0;
  return f32[0]!;
};

test('roundToBf16: round to nearest even on the 16 dropped bits, denormals to zero, NaN stays NaN', () => {
  // exact bf16 values are kept
  for (const x of [0, 1, -2, 0.5, 3.140625, -65280]) assert.equal(roundToBf16(x), x);
  // 1 + 2^-8 lies exactly half-way between 1 and 1 + 2^-7: ties to even (1); 1 + 3·2^-8 ties up to 1 + 2^-6
  assert.equal(roundToBf16(1 + 2 ** -8), 1);
  assert.equal(roundToBf16(1 + 3 * 2 ** -8), 1 + 2 ** -6);
  assert.equal(roundToBf16(1 + 2 ** -8 + 2 ** -20), 1 + 2 ** -7); // above the tie: up
  assert.equal(roundToBf16(-(1 + 2 ** -8 + 2 ** -20)), -(1 + 2 ** -7));
  assert.equal(roundToBf16(fromBits(0x00400000)), 0); // denormal
  assert.ok(Object.is(roundToBf16(fromBits(0x80400000)), -0));
  assert.ok(Number.isNaN(roundToBf16(Number.NaN)));
  assert.equal(roundToBf16(Infinity), Infinity);
  assert.equal(roundToBf16(3.4028234663852886e38), Infinity); // the largest float rounds up to inf
  // relative error of a normal float32 ≤ 2^-8 (the unit roundoff of an 8-bit significand)
  const rng = new Rng(1);
  for (let i = 0; i < 1000; i++) {
    const x = Math.fround(rng.normal() * 10 ** (rng.int(13) - 6));
    assert.ok(Math.abs(roundToBf16(x) - x) <= 2 ** -8 * Math.abs(x), `${x}`);
  }
});

test('native f32 → bf16 conversion equals the scalar rule bit for bit (vector body and tail)', { skip: skipNative }, () => {
  const rng = new Rng(2);
  const n = 100_003; // threaded chunks + a tail that is not a multiple of 32
  const src = new Float32Array(n);
  for (let i = 0; i < n; i++) src[i] = rng.normal() * 10 ** (rng.int(7) - 3);
  // ties, denormals, signed zero, inf, NaN, the largest float
  const special = [1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), fromBits(0x00400000), fromBits(0x80000001), -0, Infinity, -Infinity, Number.NaN, 3.4028234663852886e38];
  special.forEach((x, i) => { src[i] = x; src[n - 1 - i] = x; });
  const dst = new Uint16Array(n);
  native!.kernels.toBf16(src, dst, n);
  for (let i = 0; i < n; i++) {
    const want = roundToBf16(src[i]!);
    const got = fromBits(dst[i]! << 16);
    if (Number.isNaN(want)) assert.ok(Number.isNaN(got), `element ${i}`);
    else assert.equal(bitsOf(got), bitsOf(want), `element ${i}: ${src[i]} -> ${got}, want ${want}`);
  }
});

/**
 * Tolerance of the bf16 GEMM. Against the float64 product of the bf16-rounded operands only the
 * float32 accumulation differs: ≤ 1e-5 of Σ|a'||b'|. Against the exact f32 operands each product
 * a'b' has relative error ≤ 2·2^-8 + 2^-16 (unit roundoff 2^-8 per operand), so
 * |C_bf16 − C| ≤ 7.83e-3 · Σ_p |a_p||b_p| (+ the 1e-5).
 */
const ACC_TOL = 1e-5;
const BF16_BOUND = 2 * 2 ** -8 + 2 ** -16;

function gemmCase(tA: boolean, tB: boolean, m: number, n: number, k: number, beta: number, seed: number) {
  const rng = new Rng(seed);
  const aOff = 5, bOff = 3, cOff = 2;
  const lda = (tA ? m : k) + 7, ldb = (tB ? k : n) + 4, ldc = n + 3;
  const a = rnd(rng, aOff + (tA ? k : m) * lda);
  const b = rnd(rng, bOff + (tB ? n : k) * ldb);
  const c0 = rnd(rng, cOff + m * ldc);
  const at = (i: number, p: number): number => a[aOff + (tA ? p * lda + i : i * lda + p)]!;
  const bt = (p: number, j: number): number => b[bOff + (tB ? j * ldb + p : p * ldb + j)]!;
  return { a, b, c0, aOff, bOff, cOff, lda, ldb, ldc, at, bt, m, n, k, tA, tB, beta };
}

test('bf16 GEMM: f32 accumulation of bf16-rounded operands, within the bf16 bound of the f32 product, all transposes, offsets, beta', { skip: skipBf16 }, () => {
  const k16 = native!.kernels.withPrecision('bf16');
  let seed = 10;
  for (const tA of [false, true]) for (const tB of [false, true]) for (const beta of [0, 1]) {
    const m = 67, n = 48, k = 96; // bf16Eligible
    assert.ok(bf16Eligible(m, n, k));
    const g = gemmCase(tA, tB, m, n, k, beta, seed++);
    const c = Float32Array.from(g.c0);
    if (beta === 0) c.fill(Number.NaN, g.cOff); // beta = 0 ignores C's old content
    k16.gemm(tA, tB, m, n, k, 1, g.a, g.aOff, g.lda, g.b, g.bOff, g.ldb, beta, c, g.cOff, g.ldc);
    let worstAcc = 0, worstBound = 0;
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let exactRounded = 0, exact = 0, absSum = 0;
      for (let p = 0; p < k; p++) {
        exactRounded += roundToBf16(g.at(i, p)) * roundToBf16(g.bt(p, j));
        exact += g.at(i, p) * g.bt(p, j);
        absSum += Math.abs(g.at(i, p) * g.bt(p, j));
      }
      const old = beta === 0 ? 0 : g.c0[g.cOff + i * g.ldc + j]!;
      const got = c[g.cOff + i * g.ldc + j]! - old;
      worstAcc = Math.max(worstAcc, Math.abs(got - exactRounded) / (absSum + 1e-30));
      worstBound = Math.max(worstBound, Math.abs(got - exact) / (absSum + 1e-30));
    }
    const label = `tA=${tA} tB=${tB} beta=${beta}`;
    assert.ok(worstAcc <= ACC_TOL, `${label}: accumulation error ${worstAcc} of Σ|ab|`);
    assert.ok(worstBound <= BF16_BOUND + ACC_TOL, `${label}: error vs f32 operands ${worstBound} of Σ|ab|`);
    assert.ok(worstBound > 1e-5, `${label}: the operands were not rounded to bf16 (error ${worstBound})`);
    // C outside the m×n block (the leading-dimension padding, NaN-filled for beta = 0) is untouched
    if (beta === 0) {
      for (let i = 0; i + 1 < m; i++) for (let j = n; j < g.ldc; j++) assert.ok(Number.isNaN(c[g.cOff + i * g.ldc + j]!), `${label}: padding (${i}, ${j}) written`);
    }
  }
});

test('bf16 kernels: shapes that are not bf16Eligible and alpha ≠ 1 run the f32 GEMM bit for bit; f32 kernels never round', { skip: skipBf16 }, () => {
  const k32 = native!.kernels.withPrecision('f32');
  const k16 = native!.kernels.withPrecision('bf16');
  const cases: Array<[number, number, number, number]> = [[500, 3, 512, 1], [512, 512, 6, 1], [67, 48, 96, 0.5]];
  let seed = 30;
  for (const [m, n, k, alpha] of cases) {
    const g = gemmCase(false, true, m, n, k, 1, seed++);
    const c1 = Float32Array.from(g.c0);
    const c2 = Float32Array.from(g.c0);
    k32.gemm(false, true, m, n, k, alpha, g.a, g.aOff, g.lda, g.b, g.bOff, g.ldb, 1, c1, g.cOff, g.ldc);
    k16.gemm(false, true, m, n, k, alpha, g.a, g.aOff, g.lda, g.b, g.bOff, g.ldb, 1, c2, g.cOff, g.ldc);
    assert.deepEqual(c2, c1, `${m}x${n}x${k} alpha ${alpha}`);
  }
  assert.equal(bf16Eligible(500, 3, 512), false);
  assert.equal(bf16Eligible(512, 512, 6), false);
  assert.equal(bf16Eligible(15, 4096, 4096), false);
  assert.equal(bf16Eligible(64, 64, 64), true);
});

test('bf16 operand cache: pinned operands give the same bits as converting per call; f32 kernels pin nothing', { skip: skipBf16 }, () => {
  const k16 = native!.kernels.withPrecision('bf16');
  const g = gemmCase(true, false, 80, 64, 100, 1, 50);
  const c1 = Float32Array.from(g.c0);
  const c2 = Float32Array.from(g.c0);
  k16.gemm(true, false, g.m, g.n, g.k, 1, g.a, g.aOff, g.lda, g.b, g.bOff, g.ldb, 1, c1, g.cOff, g.ldc);
  k16.pinOperand(g.a, g.a.length);
  k16.pinOperand(g.b, g.b.length);
  assert.equal(k16.pinnedOperands(), 2);
  k16.gemm(true, false, g.m, g.n, g.k, 1, g.a, g.aOff, g.lda, g.b, g.bOff, g.ldb, 1, c2, g.cOff, g.ldc);
  assert.deepEqual(c2, c1);
  k16.unpinOperand(g.a);
  assert.equal(k16.pinnedOperands(), 1);
  k16.unpinAllOperands();
  assert.equal(k16.pinnedOperands(), 0);
  native!.kernels.withPrecision('f32').pinOperand(g.a, g.a.length);
  assert.equal(k16.pinnedOperands(), 0);
});

test('bf16 engine on a cpu-small network (production shape rule): every parameter and input gradient has cosine ≥ 0.999 with f32', { skip: skipBf16 }, (t) => {
  // the cpu-small preset's network (H 128, D_t 64, L 4, F 32) on 64 crystals of 2-8 atoms
  const config: CSPVNetConfig = { hidden: 128, timeDim: 64, layers: 4, freqs: 32, numTypes: 101, layerNorm: true, zeroCog: true };
  const rng = new Rng(3);
  const counts = Array.from({ length: 64 }, () => 2 + rng.int(7));
  const layout = makeLayout(counts);
  const N = layout.numAtoms, G = layout.numCrystals;
  const input = {
    layout, t: Float32Array.from({ length: G }, () => 0.001 + 0.999 * rng.uniform()), pos: Float32Array.from({ length: 3 * N }, () => rng.uniform()),
    vel: rnd(rng, 3 * N), types: Int32Array.from({ length: N }, () => 1 + rng.int(94)), lattice: rnd(rng, 6 * G),
  };
  const gradOut = { v: rnd(rng, 3 * N), l: rnd(rng, 6 * G) };
  const run = (precision: 'f32' | 'bf16') => {
    const params = initParams(config, new Rng(11));
    const net = new CSPVNet(config, params, native!.kernels.withPrecision(precision));
    const out = net.forward(input);
    net.backward(gradOut, { inputGrads: true });
    return { out, params, inputs: net.inputGrads! };
  };
  const f = run('f32');
  const b = run('bf16');
  const cos = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
    let xy = 0, xx = 0, yy = 0;
    for (let i = 0; i < x.length; i++) { xy += x[i]! * y[i]!; xx += x[i]! ** 2; yy += y[i]! ** 2; }
    return xx === 0 && yy === 0 ? 1 : xy / Math.sqrt(xx * yy);
  };
  let differs = false;
  let worst = { c: 1, name: '' };
  for (let i = 0; i < f.params.tensors.length; i++) {
    const tf = f.params.tensors[i]!, tb = b.params.tensors[i]!;
    if (!tf.trainable) continue;
    const c = cos(tb.grad, tf.grad);
    assert.ok(c >= 0.999, `${tf.name}: cosine ${c}`);
    if (c < 1 - 1e-7) differs = true;
    if (c < worst.c) worst = { c, name: tf.name };
  }
  t.diagnostic(`lowest gradient cosine ${worst.c.toFixed(6)} (${worst.name})`);
  for (const k of ['t', 'pos', 'vel', 'lattice'] as const) assert.ok(cos(b.inputs[k], f.inputs[k]) >= 0.999, `input ${k}`);
  assert.ok(cos(b.out.v, f.out.v) >= 0.999 && cos(b.out.l, f.out.l) >= 0.999, 'outputs');
  assert.ok(differs, 'bf16 gave the f32 gradients: no GEMM was rounded');
});

test('resolvePrecision: bf16 only with the native engine on a CPU with native bf16, else f32 with the reason', () => {
  const yes = { native: true, bf16: true, isa: 'avx512_core_bf16' };
  assert.equal(resolvePrecision('f32', yes).precision, 'f32');
  const used = resolvePrecision('bf16', yes);
  assert.equal(used.precision, 'bf16');
  assert.match(used.line, /precision bf16 .*avx512_core_bf16/);
  const noIsa = resolvePrecision('bf16', { native: true, bf16: false, isa: 'avx2' });
  assert.equal(noIsa.precision, 'f32');
  assert.match(noIsa.line, /f32 \(bf16 asked for.*no native bf16.*avx2/);
  const noNative = resolvePrecision('bf16', { native: false, bf16: false, isa: 'none' });
  assert.equal(noNative.precision, 'f32');
  assert.match(noNative.line, /native engine is not loaded/);
  assert.equal(parsePrecision('bf16', 'x'), 'bf16');
  assert.throws(() => parsePrecision('fp16', 'engine.precision'), (e: unknown) => e instanceof InputError && /engine.precision: precision must be 'f32' or 'bf16', got 'fp16'/.test(e.message));
});

test('getKernels follows setEnginePrecision, KLDM_PRECISION overrides it', () => {
  const saved = process.env['KLDM_PRECISION'];
  try {
    delete process.env['KLDM_PRECISION'];
    setEnginePrecision('f32');
    assert.equal(requestedPrecision(), 'f32');
    const k32 = getKernels();
    assert.equal(k32.name, native ? 'native' : 'reference');
    setEnginePrecision('bf16');
    assert.equal(getKernels().name, native && bf16 ? 'native bf16' : k32.name);
    process.env['KLDM_PRECISION'] = 'f32';
    assert.equal(requestedPrecision(), 'f32');
    assert.equal(getKernels(), k32);
    process.env['KLDM_PRECISION'] = 'half';
    assert.throws(() => requestedPrecision(), /KLDM_PRECISION: precision must be/);
  } finally {
    if (saved === undefined) delete process.env['KLDM_PRECISION'];
    else process.env['KLDM_PRECISION'] = saved;
    setEnginePrecision('f32');
  }
});

test('reference kernels are f32 only: no operand cache', () => {
  assert.equal(ref.pinOperand, undefined);
});
