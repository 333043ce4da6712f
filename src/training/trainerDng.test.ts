import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonl } from '../util/jsonl.js';
import { BatchSource } from './batches.js';
import { paramsFromTensors } from './model.js';
import { CSPVNet } from '../network/cspvnet.js';
import { readCheckpoint, train } from './trainer.js';
import { validationLoss } from './validate.js';
import { accumulateGradients } from './step.js';
import { makeNoisyDngBatch } from '../diffusion/dngLoss.js';
import { Rng } from '../util/rng.js';
import { TrainableModel, netConfigOfTraining } from './model.js';
import { miniPerov5, tinyConfig } from './testFixtures.js';
import { exportModel } from '../predict/registry.js';

const data = miniPerov5();
const tmp = (): string => mkdtempSync(join(tmpdir(), 'kldm-dng-'));

test('DNG smoke: each type diffusion trains a tiny model in seconds, validates (loss + generated validity) and exports task dng', async () => {
  for (const kind of ['masking', 'onehot', 'bits'] as const) {
    const config = tinyConfig({ task: 'dng', types: { kind }, optim: { batchSize: 8 }, schedule: { maxEpochs: 2 }, validation: { everyEpochs: 1, lossSubset: 8, matchSubset: 4, samplerSteps: 5 } });
    const runDir = tmp();
    const s = await train({ dataset: 'perov_5', config, runDir, seed: 1, train: data.train, val: data.val, stats: data.stats, statusStream: null });
    assert.equal(s.stopReason, 'max-epochs');
    const ck = readCheckpoint(join(runDir, 'last.ckpt'));
    assert.equal(ck.meta.netConfig.typeOutputs, kind === 'bits' ? 7 : 100);
    assert.deepEqual(ck.meta.trainingRange.atomCounts, { 5: 32 });
    const vals = readJsonl(join(runDir, 'log.jsonl')).map((r) => r.value as Record<string, unknown>).filter((r) => r['type'] === 'val');
    assert.equal(vals.length, 2);
    for (const v of vals) {
      assert.ok(Number.isFinite(v['lossH']), `${kind}: lossH ${String(v['lossH'])}`);
      assert.equal(v['generated'], 4);
      assert.ok((v['structValidity'] as number) >= 0 && (v['structValidity'] as number) <= 1);
      assert.ok(Math.abs((v['loss'] as number) - ((v['lossV'] as number) + (v['lossL'] as number) + (v['lossH'] as number)) / 3) < 1e-9);
    }
    const entry = exportModel(join(runDir, 'last.ckpt'), { name: `dng-${kind}`, description: '', root: tmp() });
    assert.equal(entry.manifest.task, 'dng');
    assert.equal(entry.manifest.typeDiffusion!.kind, kind);
  }
});

test('DNG training lowers the joint loss on fixed noise (masking, 60 steps)', async () => {
  const config = tinyConfig({ task: 'dng', types: { kind: 'masking' }, optim: { batchSize: 8, lr: 3e-3 }, schedule: { maxEpochs: -1, emaStartEpoch: 1000 }, validation: { everyEpochs: 0 } });
  const runDir = tmp();
  const source = new BatchSource(data.train, data.stats);
  const lossAt = (): number => {
    const ck = readCheckpoint(join(runDir, 'last.ckpt'));
    const net = new CSPVNet(ck.meta.netConfig, paramsFromTensors(ck.meta.netConfig, ck.tensors, false, 'x').params);
    return validationLoss(net, source, 32, 32, 99, config.types).loss;
  };
  await train({ dataset: 'perov_5', config, runDir, seed: 5, maxSteps: 0, train: data.train, stats: data.stats, statusStream: null });
  const before = lossAt();
  await train({ dataset: 'perov_5', config, runDir, resume: true, maxSteps: 60, train: data.train, stats: data.stats, statusStream: null });
  const after = lossAt();
  assert.ok(after < 0.8 * before, `loss ${before} -> ${after}`);
});

test('DNG resume is bit-for-bit (bits variant, EMA and validation included)', async () => {
  const config = tinyConfig({ task: 'dng', types: { kind: 'bits' }, optim: { batchSize: 8 }, schedule: { maxEpochs: -1, emaStartEpoch: 1 }, validation: { everyEpochs: 1, lossSubset: 8, matchSubset: 2, samplerSteps: 3 } });
  const common = { dataset: 'perov_5', config, seed: 3, train: data.train, val: data.val, stats: data.stats, statusStream: null };
  const straight = tmp();
  await train({ ...common, runDir: straight, maxSteps: 10 });
  const split = tmp();
  await train({ ...common, runDir: split, maxSteps: 5 });
  await train({ ...common, runDir: split, maxSteps: 10, resume: true });
  const a = readCheckpoint(join(straight, 'last.ckpt'));
  const b = readCheckpoint(join(split, 'last.ckpt'));
  assert.deepEqual(a.meta.noiseRng, b.meta.noiseRng);
  for (const [name, t] of a.tensors) assert.ok(Buffer.from(t.data.buffer).equals(Buffer.from(b.tensors.get(name)!.data.buffer)), `tensor ${name} differs`);
});

test('DNG micro-batching gives the same gradient as one pass (the type loss is weighted like the velocity loss)', () => {
  for (const kind of ['masking', 'onehot'] as const) {
    const config = tinyConfig({ task: 'dng', types: { kind } });
    const source = new BatchSource(data.train, data.stats);
    const batch = source.batch(Int32Array.from({ length: 10 }, (_, i) => i));
    const noisy = makeNoisyDngBatch(batch, config.types, new Rng(2));
    const grads = (micro: number): Float32Array[] => {
      const m = TrainableModel.fresh(netConfigOfTraining(config), config.optim, 0.999, new Rng(4));
      m.params.zeroGrad();
      accumulateGradients(m.net, noisy, micro, () => {}, config.types);
      return m.params.tensors.map((t) => Float32Array.from(t.grad));
    };
    const full = grads(0);
    const chunked = grads(3);
    full.forEach((g, k) => g.forEach((v, j) => assert.ok(Math.abs(v - chunked[k]![j]!) < 1e-5 * (1 + Math.abs(v)), `${kind} tensor ${k}[${j}]: ${v} vs ${chunked[k]![j]}`)));
  }
});
