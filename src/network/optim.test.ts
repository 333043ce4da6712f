import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceKernels } from '../engine/reference.js';
import { ParamStore } from './params.js';
import { AdamW, Ema } from './optim.js';

function store(values: number[]): ParamStore<Float32Array> {
  return new ParamStore([
    { name: 'w', shape: [values.length], data: Float32Array.from(values), grad: new Float32Array(values.length), trainable: true },
    { name: 'buf', shape: [1], data: Float32Array.of(5), grad: new Float32Array(1), trainable: false },
  ]);
}

/** Textbook AdamW/AMSGrad (Loshchilov & Hutter; Reddi et al.) in float64, written independently. */
function textbook(p0: number, grads: number[], lr: number, b1: number, b2: number, eps: number, wd: number, amsgrad: boolean): number {
  let p = p0, m = 0, v = 0, vmax = 0;
  grads.forEach((g, k) => {
    const t = k + 1;
    p -= lr * wd * p;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    vmax = Math.max(vmax, v);
    const mhat = m / (1 - b1 ** t);
    const vhat = (amsgrad ? vmax : v) / (1 - b2 ** t);
    p -= (lr * mhat) / (Math.sqrt(vhat) + eps);
  });
  return p;
}

for (const amsgrad of [true, false]) {
  test(`AdamW (amsgrad=${amsgrad}) follows the textbook update`, () => {
    const s = store([0.5, -1.25]);
    const opt = new AdamW(s, { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, amsgrad }, referenceKernels);
    const gseq = [[1, -0.3], [0.001, 0.2], [-0.5, 0.0]];
    for (const g of gseq) {
      s.get('w').grad.set(g);
      opt.step();
    }
    for (let i = 0; i < 2; i++) {
      const want = textbook(i === 0 ? 0.5 : -1.25, gseq.map((g) => g[i]!), 0.01, 0.9, 0.999, 1e-8, 0.1, amsgrad);
      assert.ok(Math.abs(s.get('w').data[i]! - want) < 1e-6, `${s.get('w').data[i]} vs ${want}`);
    }
    assert.equal(s.get('buf').data[0], 5, 'buffers are not optimised');
    assert.equal(opt.stepCount, 3);
    // state round trip
    const st = opt.stateTensors();
    assert.equal(Object.keys(st).length, amsgrad ? 3 : 2);
    const opt2 = new AdamW(s, { amsgrad }, referenceKernels);
    opt2.loadState(st, opt.stepCount);
    assert.equal(opt2.stepCount, 3);
    assert.throws(() => opt2.loadState({}, 1), /missing/);
  });
}

test('EMA: first update copies, then θ_ema += (1 − decay)(θ − θ_ema) (spec §8)', () => {
  const s = store([1, 2]);
  const ema = new Ema(s, 0.9, referenceKernels);
  ema.update();
  assert.deepEqual([...ema.tensors()['w']!], [1, 2]);
  s.get('w').data.set([2, 0]);
  ema.update();
  const w = ema.tensors()['w']!;
  assert.ok(Math.abs(w[0]! - 1.1) < 1e-6 && Math.abs(w[1]! - 1.8) < 1e-6);
  const target = store([0, 0]);
  ema.copyTo(target);
  assert.ok(Math.abs(target.get('w').data[0]! - 1.1) < 1e-6);
});
