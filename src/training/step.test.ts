import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNoisyCspBatch } from '../diffusion/loss.js';
import { Rng } from '../util/rng.js';
import { BatchSource } from './batches.js';
import { netConfigOf, TrainableModel } from './model.js';
import { accumulateGradients, sliceNoisyBatch } from './step.js';
import { miniPerov5, tinyConfig } from './testFixtures.js';

test('micro-batched gradient accumulation equals the full-batch gradient and loss', () => {
  const data = miniPerov5();
  // 11 crystals in chunks of 4, 4, 3
  const source = new BatchSource(data.train, data.stats);
  const batch = source.batch(Array.from({ length: 11 }, (_, k) => k));
  const noisy = makeNoisyCspBatch(batch, new Rng(3));
  const config = tinyConfig();
  const model = TrainableModel.fresh(netConfigOf(config.model), config.optim, 0.999, new Rng(1));
  model.params.zeroGrad();
  const full = accumulateGradients(model.net, noisy, 0, () => undefined);
  const gFull = model.params.tensors.map((t) => Float64Array.from(t.grad));
  model.params.zeroGrad();
  let chunks = 0;
  const micro = accumulateGradients(model.net, noisy, 4, () => chunks++);
  assert.equal(chunks, 3);
  assert.ok(Math.abs(micro.total - full.total) < 1e-6 * full.total, `${micro.total} vs ${full.total}`);
  assert.ok(Math.abs(micro.lossV - full.lossV) < 1e-6 * full.lossV);
  assert.ok(Math.abs(micro.lossL - full.lossL) < 1e-6 * full.lossL);
  let maxRel = 0;
  model.params.tensors.forEach((t, i) => {
    if (!t.trainable) return;
    let num = 0;
    let den = 0;
    for (let j = 0; j < t.grad.length; j++) {
      num += (t.grad[j]! - gFull[i]![j]!) ** 2;
      den += gFull[i]![j]! ** 2;
    }
    if (den > 0) maxRel = Math.max(maxRel, Math.sqrt(num / den));
  });
  assert.ok(maxRel < 1e-4, `max relative gradient difference ${maxRel}`);
});

test('a slice of a noisy batch is that crystals’ sub-batch', () => {
  const data = miniPerov5();
  const source = new BatchSource(data.train, data.stats);
  const noisy = makeNoisyCspBatch(source.batch([0, 1, 2, 3]), new Rng(5));
  const s = sliceNoisyBatch(noisy, 1, 3);
  assert.equal(s.input.layout.numCrystals, 2);
  assert.equal(s.input.layout.numAtoms, 10);
  assert.deepEqual(Array.from(s.input.pos), Array.from(noisy.input.pos.subarray(15, 45)));
  assert.deepEqual(Array.from(s.targetL), Array.from(noisy.targetL.subarray(6, 18)));
  assert.deepEqual(Array.from(s.input.t), Array.from(noisy.input.t.subarray(1, 3)));
});
