import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { referenceKernels } from '../engine/reference.js';
import type { FloatArray } from '../engine/kernels.js';
import { PAPER_CONFIG, countTrainableParams, type CSPVNetConfig } from './config.js';
import { initParams, ParamStore } from './params.js';
import { CSPVNet, CSPVNetCore, type NetInputAny } from './cspvnet.js';
import { buildEdges } from './graph.js';
import { timeFeatures } from './features.js';
import { makeLayout, type NetInput } from './types.js';

const TINY: CSPVNetConfig = { hidden: 8, timeDim: 4, layers: 2, freqs: 3, numTypes: 5, layerNorm: true, zeroCog: true };

function tinyInput(rng: Rng, counts: number[], numTypes: number): NetInput {
  const layout = makeLayout(counts);
  const N = layout.numAtoms;
  const G = layout.numCrystals;
  const f = (n: number, scale: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (rng.uniform() - 0.5) * scale;
    return a;
  };
  const types = new Int32Array(N);
  for (let i = 0; i < N; i++) types[i] = rng.int(numTypes);
  const t = new Float32Array(G);
  for (let g = 0; g < G; g++) t[g] = rng.uniform();
  return { layout, t, pos: f(3 * N, 1), vel: f(3 * N, 2), types, lattice: f(6 * G, 2) };
}

function toF64(inp: NetInput): NetInputAny {
  const out: NetInputAny = { ...inp, t: Float64Array.from(inp.t), pos: Float64Array.from(inp.pos), vel: Float64Array.from(inp.vel), lattice: Float64Array.from(inp.lattice) };
  if (inp.typeFeatures) out.typeFeatures = Float64Array.from(inp.typeFeatures);
  return out;
}

/** Scalar loss Σ rv·v + Σ rl·l (+ Σ rh·h) with fixed random weights (its output gradient is (rv, rl, rh)). */
function lossOf(out: { v: FloatArray; l: FloatArray; h?: FloatArray }, rv: Float64Array, rl: Float64Array, rh?: Float64Array): number {
  let s = 0;
  for (let i = 0; i < rv.length; i++) s += rv[i]! * out.v[i]!;
  for (let i = 0; i < rl.length; i++) s += rl[i]! * out.l[i]!;
  if (rh) for (let i = 0; i < rh.length; i++) s += rh[i]! * out.h![i]!;
  return s;
}

test('parameter counts match spec §14.9', () => {
  assert.equal(countTrainableParams(PAPER_CONFIG), 14_924_800);
  // DNG variants (spec §2.4, §14.9): C one-hot K = 100, C-AB 7 analog bits, D masking K = 100 (+ mask row)
  assert.equal(countTrainableParams({ ...PAPER_CONFIG, smoothTypes: true, numTypes: 100, typeOutputs: 100 }), 14_975_588);
  assert.equal(countTrainableParams({ ...PAPER_CONFIG, smoothTypes: true, numTypes: 7, typeOutputs: 7 }), 14_880_263);
  assert.equal(countTrainableParams({ ...PAPER_CONFIG, numTypes: 101, typeOutputs: 100 }), 14_976_100);
  const oneLayer = countTrainableParams({ ...PAPER_CONFIG, layers: 1 });
  assert.equal(countTrainableParams({ ...PAPER_CONFIG, layers: 2 }) - oneLayer, 2_368_512);
  const store = initParams(TINY, new Rng(1));
  assert.equal(store.numTrainable(), countTrainableParams(TINY));
  assert.equal(store.get('net.time_emb.weight').trainable, false);
  assert.deepEqual(store.get('net.layers.1.edge_mlp.0.weight').shape, [8, 2 * 8 + 6 + 12 * 3]);
});

test('time features and ψ match spec §14.7', () => {
  const tau = new Float64Array(4);
  timeFeatures(Float64Array.of(0.25), 1, Float64Array.of(0.5, -1.0), tau);
  const wantTau = [0.7071068, 0, 0.7071068, -1];
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(tau[i]! - wantTau[i]!) < 1e-7, `tau[${i}]`);
  const edges = buildEdges(makeLayout([2]));
  const psi = new Float64Array(2 * 12);
  referenceKernels.fourierFeatures(Float64Array.of(0, 0, 0, 0.25, 0, 0), edges, 2, psi);
  const want = [0, 1, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1]; // edge (0 → 1): Δ = (0.25, 0, 0)
  for (let i = 0; i < 12; i++) assert.ok(Math.abs(psi[i]! - want[i]!) < 1e-12, `psi[${i}] = ${psi[i]}`);
});

test('graph: ordered pairs within crystals, row-major, 1-atom crystals edgeless (spec §1.6)', () => {
  const e = buildEdges(makeLayout([1, 2, 3]));
  assert.equal(e.numEdges, 0 + 2 + 6);
  assert.deepEqual([...e.src], [1, 2, 3, 3, 4, 4, 5, 5]);
  assert.deepEqual([...e.dst], [2, 1, 4, 5, 3, 5, 3, 4]);
  assert.deepEqual([...e.nodeEdgeOffsets], [0, 0, 1, 2, 4, 6, 8]);
  assert.deepEqual([...e.crystalEdgeOffsets], [0, 0, 2, 8]);
});

const FD_VARIANTS: CSPVNetConfig[] = [
  TINY,
  { ...TINY, layerNorm: false, zeroCog: false },
  { ...TINY, smoothTypes: true, numTypes: 4, typeOutputs: 4 }, // DNG continuous types
  { ...TINY, typeOutputs: 4 }, // DNG masking: embedding table with a mask row, K logits
];
for (const variant of FD_VARIANTS) {
  test(`float64 finite differences for every parameter tensor and the inputs (ln=${variant.layerNorm}, zeroCog=${variant.zeroCog}, smooth=${variant.smoothTypes ?? false}, typeOutputs=${variant.typeOutputs ?? 0})`, () => {
    const rng = new Rng(7);
    const params = initParams(variant, rng).toFloat64();
    // non-trivial LayerNorm affine parameters so their gradients are exercised
    for (const t of params.tensors) if (t.name.includes('layer_norm')) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! + 0.3 * (rng.uniform() - 0.5);
    const net = new CSPVNetCore(variant, params as ParamStore<FloatArray>, referenceKernels);
    const inp = toF64(tinyInput(rng, [1, 2, 4], variant.numTypes));
    const N = inp.layout.numAtoms;
    const G = inp.layout.numCrystals;
    if (variant.smoothTypes) inp.typeFeatures = Float64Array.from({ length: N * variant.numTypes }, () => rng.normal());
    const rv = new Float64Array(3 * N);
    const rl = new Float64Array(6 * G);
    for (let i = 0; i < rv.length; i++) rv[i] = rng.normal();
    for (let i = 0; i < rl.length; i++) rl[i] = rng.normal();
    const rh = variant.typeOutputs ? Float64Array.from({ length: N * variant.typeOutputs }, () => rng.normal()) : undefined;
    params.zeroGrad();
    const out0 = net.forward(inp);
    assert.equal(out0.h?.length, rh?.length);
    net.backward(rh ? { v: rv, l: rl, h: rh } : { v: rv, l: rl }, { inputGrads: true });
    const h = 1e-6;
    const check = (label: string, arr: FloatArray, idx: number, analytic: number): void => {
      const old = arr[idx]!;
      arr[idx] = old + h;
      const lp = lossOf(net.predict(inp), rv, rl, rh);
      arr[idx] = old - h;
      const lm = lossOf(net.predict(inp), rv, rl, rh);
      arr[idx] = old;
      const fd = (lp - lm) / (2 * h);
      const err = Math.abs(fd - analytic);
      assert.ok(err <= 1e-6 + 1e-5 * Math.abs(fd), `${label}[${idx}]: analytic ${analytic}, finite difference ${fd}`);
    };
    let checked = 0;
    for (const t of params.tensors) {
      if (!t.trainable) continue;
      // every element of small tensors, a spread of elements of larger ones
      const stride = Math.max(1, Math.floor(t.data.length / 40));
      for (let idx = 0; idx < t.data.length; idx += stride) {
        check(t.name, t.data, idx, t.grad[idx]!);
        checked++;
      }
    }
    assert.ok(checked > 300);
    const g = net.inputGrads!;
    for (let i = 0; i < 3 * N; i++) check('pos', inp.pos, i, g.pos[i]!);
    for (let i = 0; i < 3 * N; i++) check('vel', inp.vel, i, g.vel[i]!);
    for (let i = 0; i < 6 * G; i++) check('lattice', inp.lattice, i, g.lattice[i]!);
    for (let i = 0; i < G; i++) check('t', inp.t, i, g.t[i]!);
    if (inp.typeFeatures) for (let i = 0; i < inp.typeFeatures.length; i++) check('typeFeatures', inp.typeFeatures, i, g.typeFeatures![i]!);
  });
}

test('backward accumulates and predict equals forward', () => {
  const rng = new Rng(3);
  const params = initParams(TINY, rng);
  const net = new CSPVNet(TINY, params, referenceKernels);
  const inp = tinyInput(rng, [3, 1, 2], TINY.numTypes);
  const a = net.forward(inp);
  const b = net.predict(inp);
  assert.deepEqual([...a.v], [...b.v]);
  assert.deepEqual([...a.l], [...b.l]);
  const gv = new Float32Array(a.v.length).fill(1);
  gv[0] = 2;
  const gl = new Float32Array(a.l.length).fill(-0.5);
  params.zeroGrad();
  net.forward(inp);
  net.backward({ v: gv, l: gl });
  const once = Float32Array.from(params.get('net.layers.0.edge_mlp.0.weight').grad);
  net.forward(inp);
  net.backward({ v: gv, l: gl });
  const twice = params.get('net.layers.0.edge_mlp.0.weight').grad;
  for (let i = 0; i < once.length; i++) assert.ok(Math.abs(twice[i]! - 2 * once[i]!) <= 1e-5 * (1 + Math.abs(once[i]!)));
  assert.throws(() => net.backward({ v: gv, l: gl }), /forward/);
});

test('zero_cog: velocity output has zero mean per crystal', () => {
  const rng = new Rng(11);
  const net = new CSPVNet(TINY, initParams(TINY, rng), referenceKernels);
  const inp = tinyInput(rng, [4, 1, 3], TINY.numTypes);
  const out = net.predict(inp);
  const off = inp.layout.atomOffsets;
  for (let g = 0; g < 3; g++) {
    for (let d = 0; d < 3; d++) {
      let s = 0;
      for (let i = off[g]!; i < off[g + 1]!; i++) s += out.v[i * 3 + d]!;
      assert.ok(Math.abs(s) < 1e-5, `crystal ${g} dim ${d} sum ${s}`);
    }
  }
});

test('property: invariances (atom and crystal permutation, torus translation, velocity shift)', () => {
  const cfg = { ...TINY, zeroCog: false };
  for (let trial = 0; trial < 5; trial++) {
    const rng = new Rng(100 + trial);
    const net = new CSPVNet(cfg, initParams(cfg, rng), referenceKernels);
    const counts = [1 + rng.int(4), 1 + rng.int(4), 1 + rng.int(4)];
    const inp = tinyInput(rng, counts, cfg.numTypes);
    const base = net.predict(inp);
    const off = inp.layout.atomOffsets;
    const N = inp.layout.numAtoms;
    const close = (a: Float32Array, b: Float32Array, label: string): void => {
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 2e-4 * (1 + Math.abs(a[i]!)), `${label}[${i}]: ${a[i]} vs ${b[i]}`);
    };
    // translation on the torus, per crystal, plus an integer jump of one atom; and a per-crystal velocity shift
    const moved: NetInput = { ...inp, pos: Float32Array.from(inp.pos), vel: Float32Array.from(inp.vel) };
    for (let g = 0; g < 3; g++) {
      const sh = [rng.uniform(), rng.uniform(), rng.uniform()];
      const dv = [rng.normal(), rng.normal(), rng.normal()];
      for (let i = off[g]!; i < off[g + 1]!; i++) {
        for (let d = 0; d < 3; d++) {
          moved.pos[i * 3 + d]! += sh[d]!;
          moved.vel[i * 3 + d]! += dv[d]!;
        }
      }
    }
    moved.pos[0]! += 1;
    const mo = net.predict(moved);
    close(base.v, mo.v, 'translated v');
    close(base.l, mo.l, 'translated l');
    // permutation of atoms inside each crystal and of the crystals themselves
    const order = rng.permutation(3);
    const newCounts = [...order].map((g) => counts[g]!);
    const perm: number[] = []; // new atom index -> old atom index
    for (const g of order) {
      const local = rng.permutation(counts[g]!);
      for (const a of local) perm.push(off[g]! + a);
    }
    const lay = makeLayout(newCounts);
    const pinp: NetInput = {
      layout: lay,
      t: Float32Array.from([...order].map((g) => inp.t[g]!)),
      pos: new Float32Array(3 * N), vel: new Float32Array(3 * N), types: new Int32Array(N),
      lattice: new Float32Array(18),
    };
    for (let n = 0; n < N; n++) {
      const o = perm[n]!;
      pinp.types[n] = inp.types[o]!;
      for (let d = 0; d < 3; d++) {
        pinp.pos[n * 3 + d] = inp.pos[o * 3 + d]!;
        pinp.vel[n * 3 + d] = inp.vel[o * 3 + d]!;
      }
    }
    for (let gi = 0; gi < 3; gi++) for (let d = 0; d < 6; d++) pinp.lattice[gi * 6 + d] = inp.lattice[order[gi]! * 6 + d]!;
    const po = net.predict(pinp);
    const wantV = new Float32Array(3 * N);
    for (let n = 0; n < N; n++) for (let d = 0; d < 3; d++) wantV[n * 3 + d] = base.v[perm[n]! * 3 + d]!;
    const wantL = new Float32Array(18);
    for (let gi = 0; gi < 3; gi++) for (let d = 0; d < 6; d++) wantL[gi * 6 + d] = base.l[order[gi]! * 6 + d]!;
    close(wantV, po.v, 'permuted v');
    close(wantL, po.l, 'permuted l');
  }
});

test('input validation names the bad field', () => {
  const rng = new Rng(5);
  const net = new CSPVNet(TINY, initParams(TINY, rng), referenceKernels);
  const inp = tinyInput(rng, [2], TINY.numTypes);
  assert.throws(() => net.predict({ ...inp, pos: new Float32Array(5) }), /pos/);
  assert.throws(() => net.predict({ ...inp, types: Int32Array.of(0, 9) }), /type id 9/);
  assert.throws(() => new CSPVNet({ ...TINY, hidden: 16 }, initParams(TINY, rng), referenceKernels), /shape/);
});

test('a BatchLayout object mutated between calls gets a fresh graph', () => {
  const rng = new Rng(13);
  const net = new CSPVNet(TINY, initParams(TINY, rng), referenceKernels);
  const a = tinyInput(rng, [2, 3], TINY.numTypes);
  const b = tinyInput(rng, [4, 1], TINY.numTypes);
  const want = net.predict(b);
  const shared = a.layout;
  net.predict(a);
  shared.atomOffsets.set(b.layout.atomOffsets);
  shared.crystalOfAtom.set(b.layout.crystalOfAtom);
  const got = net.predict({ ...b, layout: shared });
  assert.deepEqual([...got.v], [...want.v]);
});

test('graph pairs: each unordered pair links its two directed edges (ψ antisymmetry used by the network)', () => {
  const e = buildEdges(makeLayout([3, 1, 2]));
  assert.equal(e.numPairs, 3 + 0 + 1);
  assert.deepEqual([...e.crystalPairOffsets], [0, 3, 3, 4]);
  for (let p = 0; p < e.numPairs; p++) {
    const f = e.pairFwd[p]!;
    const r = e.pairRev[p]!;
    assert.ok(e.src[f]! < e.dst[f]!);
    assert.equal(e.src[f], e.dst[r]);
    assert.equal(e.dst[f], e.src[r]);
    assert.equal(e.pairOfEdge[f], p);
    assert.equal(e.pairOfEdge[r], -p - 1);
  }
});
