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
import type { FloatArray } from '../engine/kernels.js';
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
