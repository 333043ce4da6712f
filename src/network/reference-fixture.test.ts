/**
 * Compares the network with the PyTorch reference written independently from the
 * spec (bench/reference/cspvnet.py, official edge-list style): a fixed tiny float64
 * model, its outputs and the gradients of a fixed scalar loss with respect to every
 * parameter and input. The fixture is committed; this test does not need Python.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceKernels } from '../engine/reference.js';
import { loadNativeKernels } from '../engine/native.js';
import type { FloatArray, Kernels } from '../engine/kernels.js';
import { paramSpecs, type CSPVNetConfig } from './config.js';
import { ParamStore } from './params.js';
import { CSPVNet, CSPVNetCore } from './cspvnet.js';
import { makeLayout } from './types.js';

interface Fixture {
  config: CSPVNetConfig;
  counts: number[];
  inputs: { t: number[]; pos: number[]; vel: number[]; types: number[]; lattice: number[] };
  params: Record<string, { shape: number[]; data: number[] }>;
  outputs: { v: number[]; l: number[] };
  gradOutputs: { v: number[]; l: number[] };
  paramGrads: Record<string, number[]>;
  inputGrads: { t: number[]; pos: number[]; vel: number[]; lattice: number[] };
}

const here = dirname(fileURLToPath(import.meta.url));
const fx = JSON.parse(readFileSync(join(here, '..', '..', 'bench', 'reference', 'fixtures', 'cspvnet_tiny.json'), 'utf8')) as Fixture;

function storeFrom<A extends FloatArray>(make: (x: number[]) => A, zeros: (n: number) => A): ParamStore<A> {
  return new ParamStore(paramSpecs(fx.config).map((s) => {
    const p = fx.params[s.name];
    assert.ok(p, `fixture lacks ${s.name}`);
    return { name: s.name, shape: s.shape, trainable: s.trainable, data: make(p.data), grad: zeros(p.data.length) };
  }));
}

function maxRelErr(got: ArrayLike<number>, want: number[]): number {
  let scale = 0, err = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
  }
  return err / Math.max(scale, 1e-30);
}

test('parameter names and shapes are exactly the PyTorch state_dict of spec §15', () => {
  const ours = paramSpecs(fx.config).map((s) => `${s.name}:${s.shape.join('x')}`).sort();
  const theirs = Object.entries(fx.params).map(([k, v]) => `${k}:${v.shape.join('x')}`).sort();
  assert.deepEqual(ours, theirs);
});

test('float64 forward, parameter and input gradients equal the PyTorch reference', () => {
  const params = storeFrom((x) => Float64Array.from(x), (n) => new Float64Array(n));
  const net = new CSPVNetCore(fx.config, params as ParamStore<FloatArray>, referenceKernels);
  const input = {
    layout: makeLayout(fx.counts), t: Float64Array.from(fx.inputs.t), pos: Float64Array.from(fx.inputs.pos),
    vel: Float64Array.from(fx.inputs.vel), types: Int32Array.from(fx.inputs.types), lattice: Float64Array.from(fx.inputs.lattice),
  };
  const out = net.forward(input);
  assert.ok(maxRelErr(out.v, fx.outputs.v) < 1e-10, 'v');
  assert.ok(maxRelErr(out.l, fx.outputs.l) < 1e-10, 'l');
  net.backward({ v: Float64Array.from(fx.gradOutputs.v), l: Float64Array.from(fx.gradOutputs.l) }, { inputGrads: true });
  for (const t of params.tensors) {
    if (!t.trainable) continue;
    const e = maxRelErr(t.grad, fx.paramGrads[t.name]!);
    assert.ok(e < 1e-9, `${t.name}: relative error ${e}`);
  }
  const g = net.inputGrads!;
  for (const k of ['t', 'pos', 'vel', 'lattice'] as const) {
    const e = maxRelErr(g[k], fx.inputGrads[k]);
    assert.ok(e < 1e-9, `input ${k}: relative error ${e}`);
  }
});

const native = loadNativeKernels();
test('float32 native network matches the PyTorch reference', { skip: native ? false : 'native addon not built' }, () => {
  const params = storeFrom((x) => Float32Array.from(x), (n) => new Float32Array(n));
  const net = new CSPVNet(fx.config, params, native!.kernels);
  const input = {
    layout: makeLayout(fx.counts), t: Float32Array.from(fx.inputs.t), pos: Float32Array.from(fx.inputs.pos),
    vel: Float32Array.from(fx.inputs.vel), types: Int32Array.from(fx.inputs.types), lattice: Float32Array.from(fx.inputs.lattice),
  };
  const out = net.forward(input);
  assert.ok(maxRelErr(out.v, fx.outputs.v) < 1e-4);
  assert.ok(maxRelErr(out.l, fx.outputs.l) < 1e-4);
  net.backward({ v: Float32Array.from(fx.gradOutputs.v), l: Float32Array.from(fx.gradOutputs.l) });
  for (const t of params.tensors) {
    if (!t.trainable) continue;
    const e = maxRelErr(t.grad, fx.paramGrads[t.name]!);
    assert.ok(e < 1e-3, `${t.name}: relative error ${e}`);
  }
});

/** cos(a, b) = a·b / (|a||b|) in float64; 1 for two zero vectors. */
function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa === 0 && bb === 0 ? 1 : ab / Math.sqrt(aa * bb);
}

const bf16Skip = !native ? 'native addon not built' : native.kernels.precisionCapabilities().bf16 ? false : 'no native bf16 on this CPU';
test('bf16 engine (every GEMM with bf16 operands): outputs and every gradient have cosine ≥ 0.999 with the f32 engine and the PyTorch float64 values', { skip: bf16Skip }, () => {
  const input = {
    layout: makeLayout(fx.counts), t: Float32Array.from(fx.inputs.t), pos: Float32Array.from(fx.inputs.pos),
    vel: Float32Array.from(fx.inputs.vel), types: Int32Array.from(fx.inputs.types), lattice: Float32Array.from(fx.inputs.lattice),
  };
  const run = (kernels: Kernels): { out: { v: Float32Array; l: Float32Array }; grads: Map<string, Float32Array>; inputs: Record<string, FloatArray> } => {
    const params = storeFrom((x) => Float32Array.from(x), (n) => new Float32Array(n));
    const net = new CSPVNet(fx.config, params, kernels);
    const out = net.forward(input);
    net.backward({ v: Float32Array.from(fx.gradOutputs.v), l: Float32Array.from(fx.gradOutputs.l) }, { inputGrads: true });
    const g = net.inputGrads!;
    return { out, grads: new Map(params.tensors.filter((t) => t.trainable).map((t) => [t.name, t.grad])), inputs: { t: g.t, pos: g.pos, vel: g.vel, lattice: g.lattice } };
  };
  // the fixture network is tiny (H = 8), below the production size threshold: round every GEMM
  const b = run(native!.kernels.withPrecision('bf16', { everyGemm: true }));
  const f = run(native!.kernels.withPrecision('f32'));
  let worst = 1;
  for (const [name, g] of b.grads) {
    const cf = cosine(g, f.grads.get(name)!);
    const cr = cosine(g, fx.paramGrads[name]!);
    worst = Math.min(worst, cf, cr);
    assert.ok(cf >= 0.999 && cr >= 0.999, `${name}: cosine ${cf} with f32, ${cr} with PyTorch`);
  }
  for (const k of ['t', 'pos', 'vel', 'lattice'] as const) {
    const c = cosine(b.inputs[k]!, fx.inputGrads[k]);
    assert.ok(c >= 0.999, `input ${k}: cosine ${c}`);
  }
  assert.ok(cosine(b.out.v, fx.outputs.v) >= 0.999 && cosine(b.out.l, fx.outputs.l) >= 0.999, 'outputs');
  assert.ok(maxRelErr(b.out.v, fx.outputs.v) > 1e-5, 'the bf16 run equals f32: the operands were not rounded');
  assert.ok(worst < 1 - 1e-9);
});
