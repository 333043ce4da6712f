import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNativeKernels } from './native.js';
import { referenceKernels as ref } from './reference.js';
import type { Kernels } from './kernels.js';
import { Rng } from '../util/rng.js';
import { buildEdges } from '../network/graph.js';
import { makeLayout } from '../network/types.js';
import { initParams } from '../network/params.js';
import { CSPVNet } from '../network/cspvnet.js';
import type { CSPVNetConfig } from '../network/config.js';

/**
 * Native kernels must equal the reference within TOL, measured as
 * max|native − reference| / (1 + max|reference|) (float32 rounding, different summation order).
 */
const TOL = 2e-5;
const native = loadNativeKernels();
const skip = native ? false : `native addon not built (${loadNativeKernels.lastError})`;

function rnd(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

function assertClose(got: Float32Array, want: Float32Array, label: string, tol = TOL): void {
  assert.equal(got.length, want.length, label);
  let maxRef = 0, maxErr = 0;
  for (let i = 0; i < want.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(want[i]!));
    maxErr = Math.max(maxErr, Math.abs(got[i]! - want[i]!));
  }
  assert.ok(maxErr / (1 + maxRef) <= tol, `${label}: max error ${maxErr} (max |ref| ${maxRef})`);
}

/** Runs fn on copies of the arrays with both kernel sets and compares every array afterwards. */
function same(label: string, arrays: Float32Array[], fn: (k: Kernels, a: Float32Array[]) => void): void {
  const a = arrays.map((x) => Float32Array.from(x));
  const b = arrays.map((x) => Float32Array.from(x));
  fn(native!.kernels, a);
  fn(ref, b);
  for (let i = 0; i < a.length; i++) assertClose(a[i]!, b[i]!, `${label} array ${i}`);
}

test('native kernels equal the reference kernels', { skip }, () => {
  const rng = new Rng(9);
  const m = 37, n = 29, k = 41;
  for (const tA of [false, true]) for (const tB of [false, true]) {
    for (const be of ['openblas', 'dnnl', 'auto'] as const) {
      if (be !== 'auto' && !native!.backends.includes(be)) continue;
      native!.kernels.setGemmBackend(be);
      same(`gemm ${tA} ${tB} ${be}`, [rnd(rng, 5 + (m + k) * (m + k + 3)), rnd(rng, 2 + (n + k) * (n + k + 2)), rnd(rng, 1 + m * (n + 2))], (kk, [a, b, c]) =>
        kk.gemm(tA, tB, m, n, k, 0.7, a!, 5, (tA ? m : k) + 3, b!, 2, (tB ? k : n) + 2, 0.3, c!, 1, n + 2));
    }
  }
  native!.kernels.setGemmBackend('auto');
  const rows = 300, cols = 130; // large enough for the threaded paths
  same('biasSilu', [rnd(rng, rows * cols), rnd(rng, cols), new Float32Array(rows * cols)], (kk, [z, b, o]) => kk.biasSilu(z!, b!, rows, cols, o!));
  same('siluBackward', [rnd(rng, rows * cols), rnd(rng, rows * cols), new Float32Array(rows * cols)], (kk, [d, z, o]) => kk.siluBackward(d!, z!, rows * cols, o!));
  same('hadamard', [rnd(rng, rows * cols), rnd(rng, rows * cols), rnd(rng, rows * cols), new Float32Array(rows * cols), new Float32Array(rows * cols), new Float32Array(rows * cols)],
    (kk, [x, a, b, xa, xb, xa2]) => {
      kk.hadamard(x!, a!, b!, rows * cols, xa!, xb!);
      kk.hadamard(x!, b!, null, rows * cols, xa2!, null);
    });
  same('sigmoidGate', [rnd(rng, rows * cols), rnd(rng, rows * cols), new Float32Array(rows * cols), new Float32Array(rows * cols), new Float32Array(rows * cols)],
    (kk, [z, v, g, o, g2]) => {
      kk.sigmoidGate(z!, v!, rows * cols, g!, o!);
      kk.sigmoidGate(z!, null, rows * cols, g2!, null);
    });
  const gate = Float32Array.from(rnd(rng, rows * cols), (x) => 1 / (1 + Math.exp(-x)));
  same('sigmoidGateBackward', [rnd(rng, rows * cols), gate, rnd(rng, rows * cols), new Float32Array(rows * cols), new Float32Array(rows * cols), new Float32Array(rows * cols)],
    (kk, [d, g, v, dv, dz, dz2]) => {
      kk.sigmoidGateBackward(d!, g!, v!, rows * cols, dv!, dz!);
      kk.sigmoidGateBackward(d!, g!, null, rows * cols, null, dz2!);
    });
  same('colSumAdd', [rnd(rng, rows * cols), rnd(rng, cols)], (kk, [s, d]) => kk.colSumAdd(s!, rows, cols, d!));
  same('layerNorm', [rnd(rng, rows * cols), rnd(rng, cols), rnd(rng, cols), new Float32Array(rows * cols), new Float32Array(rows), new Float32Array(rows),
    rnd(rng, rows * cols), rnd(rng, rows * cols), rnd(rng, cols), rnd(rng, cols)], (kk, [x, g, b, y, mu, rs, dy, dx, dg, db]) => {
    kk.layerNormForward(x!, g!, b!, rows, cols, 1e-5, y!, mu!, rs!);
    kk.layerNormBackward(dy!, x!, g!, mu!, rs!, rows, cols, dx!, dg!, db!);
  });
  const counts = [1, 5, 12, 3, 20, 2, 7];
  const layout = makeLayout(counts);
  const edges = buildEdges(layout);
  const N = layout.numAtoms, G = layout.numCrystals, E = edges.numEdges, F = 16, H = 24;
  const pos = new Float32Array(3 * N);
  for (let i = 0; i < pos.length; i++) pos[i] = rng.uniform() - 0.5;
  const P = edges.numPairs;
  same('fourier', [pos, new Float32Array(P * 6 * F), rnd(rng, P * 6 * F), rnd(rng, 3 * N)], (kk, [p, psi, dpsi, dpos]) => {
    kk.fourierFeatures(p!, edges, F, psi!);
    kk.fourierBackward(p!, edges, F, dpsi!, dpos!);
  });
  same('segments', [rnd(rng, E * H), new Float32Array(N * H), new Float32Array(E * H), new Float32Array(G * H), rnd(rng, N * H)], (kk, [x, mn, back, sum, y]) => {
    kk.segmentMean(x!, edges.nodeEdgeOffsets, N, H, mn!);
    kk.segmentMeanBackward(mn!, edges.nodeEdgeOffsets, N, H, back!);
    kk.segmentSum(y!, layout.atomOffsets, G, H, sum!);
    kk.segmentBroadcastAdd(y!, layout.atomOffsets, G, H, sum!);
    kk.segmentCentre(y!, layout.atomOffsets, G, H);
  });
  same('fused silu segment mean', [rnd(rng, E * H), rnd(rng, H), new Float32Array(N * H), rnd(rng, N * H), new Float32Array(E * H), rnd(rng, H)], (kk, [z, b, mb, dmb, dz, db]) => {
    kk.biasSiluSegmentMean(z!, b!, edges.nodeEdgeOffsets, N, H, mb!);
    kk.siluSegmentMeanBackward(dmb!, z!, edges.nodeEdgeOffsets, N, H, dz!, db!);
  });
  same('edgeCombine', [rnd(rng, E * H), rnd(rng, P * 2 * H), rnd(rng, N * H), rnd(rng, N * H), rnd(rng, G * H), rnd(rng, 3 * H), rnd(rng, H), rnd(rng, 3 * E),
    new Float32Array(N * H), new Float32Array(N * H), new Float32Array(G * H), rnd(rng, 3 * H), new Float32Array(P * 2 * H)],
  (kk, [z, pq, a, b, c, wv, bias, dv, da, db, dc, dwv, dpq]) => {
    kk.edgeCombine(z!, pq!, a!, b!, c!, wv!, bias!, dv!, edges, H);
    kk.edgeCombineBackward(z!, dv!, edges, H, N, G, da!, db!, dc!, dwv!, dpq!);
  });
  const ids = Int32Array.from({ length: N }, () => rng.int(7));
  same('gather/scatter', [rnd(rng, 7 * H), new Float32Array(N * H), rnd(rng, 7 * H)], (kk, [t, o, dt]) => {
    kk.gatherRows(t!, ids, H, o!);
    kk.scatterAddRows(o!, ids, H, dt!);
  });
  const NP = 70000;
  const g = rnd(rng, NP);
  same('adamw+ema', [rnd(rng, NP), g, new Float32Array(NP), new Float32Array(NP), new Float32Array(NP), rnd(rng, NP)], (kk, [p, gg, m, v, vm, ema]) => {
    for (let s = 1; s <= 3; s++) kk.adamw(p!, gg!, m!, v!, vm!, NP, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2, step: s });
    kk.emaUpdate(ema!, p!, NP, 0.99);
  });
});

test('native kernels reject float64 and out-of-bounds arguments', { skip }, () => {
  const k = native!.kernels;
  assert.throws(() => k.addInto(new Float64Array(4), new Float64Array(4), 4), /Float32Array/);
  assert.throws(() => k.gemm(false, false, 4, 4, 4, 1, new Float32Array(15), 0, 4, new Float32Array(16), 0, 4, 0, new Float32Array(16), 0, 4), /needs 16/);
});

test('CSPVNet forward and gradients: native equals reference on a small batch', { skip }, () => {
  const cfg: CSPVNetConfig = { hidden: 32, timeDim: 16, layers: 2, freqs: 8, numTypes: 101, layerNorm: true, zeroCog: true };
  const rng = new Rng(21);
  const pa = initParams(cfg, rng);
  const pb = pa.cloneFloat32();
  const counts = [5, 1, 8, 3, 12];
  const layout = makeLayout(counts);
  const N = layout.numAtoms, G = layout.numCrystals;
  const input = {
    layout, t: Float32Array.from({ length: G }, () => rng.uniform()),
    pos: Float32Array.from({ length: 3 * N }, () => rng.uniform() - 0.5),
    vel: Float32Array.from({ length: 3 * N }, () => rng.normal()),
    types: Int32Array.from({ length: N }, () => 1 + rng.int(100)),
    lattice: Float32Array.from({ length: 6 * G }, () => rng.normal()),
  };
  const gv = rnd(rng, 3 * N), gl = rnd(rng, 6 * G);
  const na = new CSPVNet(cfg, pa, native!.kernels);
  const nb = new CSPVNet(cfg, pb, ref);
  const oa = na.forward(input);
  const ob = nb.forward(input);
  assertClose(oa.v, ob.v, 'v', 1e-4);
  assertClose(oa.l, ob.l, 'l', 1e-4);
  pa.zeroGrad();
  pb.zeroGrad();
  na.backward({ v: gv, l: gl });
  nb.backward({ v: gv, l: gl });
  for (let i = 0; i < pa.tensors.length; i++) {
    if (!pa.tensors[i]!.trainable) continue;
    assertClose(pa.tensors[i]!.grad, pb.tensors[i]!.grad, pa.tensors[i]!.name, 1e-4);
  }
  const pr = na.predict(input);
  assertClose(pr.v, oa.v, 'predict v', 1e-6);
});

test('native training gradients are bitwise repeatable (reductions in fixed block order)', { skip }, () => {
  const cfg: CSPVNetConfig = { hidden: 64, timeDim: 16, layers: 2, freqs: 8, numTypes: 101, layerNorm: true, zeroCog: true };
  const rng = new Rng(5);
  const params = initParams(cfg, rng);
  const counts = Array.from({ length: 40 }, () => 1 + rng.int(12));
  const layout = makeLayout(counts);
  const N = layout.numAtoms, G = layout.numCrystals;
  const input = {
    layout, t: Float32Array.from({ length: G }, () => rng.uniform()),
    pos: Float32Array.from({ length: 3 * N }, () => rng.uniform() - 0.5),
    vel: Float32Array.from({ length: 3 * N }, () => rng.normal()),
    types: Int32Array.from({ length: N }, () => 1 + rng.int(100)),
    lattice: Float32Array.from({ length: 6 * G }, () => rng.normal()),
  };
  const gv = rnd(rng, 3 * N), gl = rnd(rng, 6 * G);
  const net = new CSPVNet(cfg, params, native!.kernels);
  const run = (): Float32Array[] => {
    params.zeroGrad();
    net.forward(input);
    net.backward({ v: gv, l: gl });
    return params.tensors.map((t) => Float32Array.from(t.grad));
  };
  const a = run();
  const b = run();
  for (let i = 0; i < a.length; i++) assert.deepEqual(b[i], a[i], params.tensors[i]!.name);
});
