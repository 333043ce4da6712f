import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonl } from '../util/jsonl.js';
import { exportModel } from '../predict/registry.js';
import { modelCardMarkdown } from '../predict/modelCard.js';
import { netConfigOf, netConfigOfTraining, paramsFromTensors } from './model.js';
import { readCheckpoint, train } from './trainer.js';
import { warmStartFromCheckpoint, warmStartFromModel } from './warmStart.js';
import { miniPerov5, tinyConfig } from './testFixtures.js';
import { learningRateAt } from './lrSchedule.js';

const data = miniPerov5();
const tmp = (): string => mkdtempSync(join(tmpdir(), 'kldm-warm-'));

/** A source run: 3 epochs of 4 steps (batch 8 on 32 crystals), EMA from epoch 1. */
async function sourceRun(): Promise<string> {
  const config = tinyConfig({ optim: { batchSize: 8 }, schedule: { maxEpochs: 3, emaStartEpoch: 1 }, validation: { everyEpochs: 0 } });
  const runDir = tmp();
  await train({ dataset: 'perov_5', config, runDir, seed: 11, train: data.train, stats: data.stats, statusStream: null });
  return join(runDir, 'last.ckpt');
}

test('a warm-started run begins at the source EMA weights, keeps the EMA running and records the earlier training', async () => {
  const src = await sourceRun();
  const source = readCheckpoint(src);
  assert.equal(source.meta.epochsCompleted, 3);
  const config = tinyConfig({ optim: { batchSize: 8 }, schedule: { maxEpochs: -1, emaStartEpoch: 1 }, validation: { everyEpochs: 0 } });
  const warmStart = warmStartFromCheckpoint(src, netConfigOf(config.model));
  assert.deepEqual(warmStart.record, { source: src, dataset: 'perov_5', ema: true, epochs: 3, steps: 12, trainSeconds: source.meta.trainSeconds, cpu: { seconds: source.meta.cpu!.seconds, steps: 12 } });

  // 0 steps: the checkpoint holds exactly the source's EMA as parameters and as the EMA state
  const runDir = tmp();
  await train({ dataset: 'perov_5', config, runDir, seed: 5, maxSteps: 0, warmStart, train: data.train, stats: data.stats, statusStream: null });
  const start = readCheckpoint(join(runDir, 'last.ckpt'));
  const sourceEma = paramsFromTensors(source.meta.netConfig, source.tensors, true, src).params;
  for (const t of sourceEma.tensors) {
    assert.deepEqual(start.tensors.get(`param/${t.name}`)!.data, t.data, `param ${t.name}`);
    assert.deepEqual(start.tensors.get(`ema/${t.name}`)!.data, t.data, `ema ${t.name}`);
  }
  assert.equal(start.meta.emaUpdates, 1);
  assert.equal(start.meta.step, 0);
  assert.deepEqual(start.meta.initFrom, warmStart.record);
  const startRecord = readJsonl(join(runDir, 'log.jsonl')).map((r) => r.value as { type: string; initFrom?: unknown })[0]!;
  assert.deepEqual(startRecord.initFrom, warmStart.record);

  // resuming keeps the record; the EMA is updated on every step (3 earlier epochs > emaStartEpoch 1)
  await train({ dataset: 'perov_5', config, runDir, resume: true, maxSteps: 6, train: data.train, stats: data.stats, statusStream: null });
  const after = readCheckpoint(join(runDir, 'last.ckpt'));
  assert.deepEqual(after.meta.initFrom, warmStart.record);
  assert.equal(after.meta.emaUpdates, 1 + 6);

  // export adds the earlier training to the run's own; the card says so
  const root = tmp();
  const entry = exportModel(join(runDir, 'last.ckpt'), { name: 'warm', description: 'warm-started test model', root });
  const t = entry.manifest.training;
  assert.equal(t.steps, 12 + 6);
  assert.equal(t.epochs, 3 + after.meta.epochsCompleted);
  assert.ok(Math.abs(t.wallClockHours * 3600 - (source.meta.trainSeconds + after.meta.trainSeconds)) < 1e-6);
  assert.equal(t.warmStart?.runSteps, 6);
  // measured CPU time covers every step of both runs: the card gives it instead of the wall clock × cores bound
  assert.equal(t.cpu?.steps, 18);
  assert.ok(Math.abs(t.cpu!.hours * 3600 - (source.meta.cpu!.seconds + after.meta.cpu!.seconds)) < 1e-6);
  assert.match(modelCardMarkdown(entry, []), new RegExp(`\\| training \\| .* ${t.cpu!.hours.toFixed(1)} CPU-hours \\(measured process CPU time\\)`));
  // the shipped manifest names the checkpoint file, not the directory of the machine that trained it
  assert.equal(t.warmStart?.source, 'training checkpoint last.ckpt');
  assert.match(modelCardMarkdown(entry, []), /\| warm start \| the last run \(\d+ epochs, 6 steps, .*started from the EMA weights of training checkpoint last\.ckpt \(3 epochs, 12 steps/);

  // a model folder works as a source too, and chains the totals
  const fromModel = warmStartFromModel(
    { name: 'warm', weightsPath: join(entry.dir, 'weights.kldm'), dataset: 'perov_5', netConfig: entry.manifest.netConfig, ema: entry.manifest.ema, epochs: t.epochs, steps: t.steps, wallClockHours: t.wallClockHours, cpu: t.cpu! },
    netConfigOf(config.model),
  );
  assert.equal(fromModel.record.steps, 18);
  assert.equal(fromModel.record.cpu?.steps, 18);
  const afterEma = paramsFromTensors(after.meta.netConfig, after.tensors, true, 'after').params;
  for (const p of afterEma.tensors) assert.deepEqual(fromModel.weights.get(p.name), p.data, p.name);
});

test('a warm start with fewer earlier epochs than emaStartEpoch starts the EMA later, counting the earlier epochs', async () => {
  const src = await sourceRun(); // 3 epochs
  // emaStartEpoch 3: active once 3 + run epoch > 3, i.e. from the run's second epoch (steps 5..)
  const config = tinyConfig({ optim: { batchSize: 8 }, schedule: { maxEpochs: -1, emaStartEpoch: 3 }, validation: { everyEpochs: 0 } });
  const runDir = tmp();
  await train({ dataset: 'perov_5', config, runDir, maxSteps: 6, warmStart: warmStartFromCheckpoint(src, netConfigOf(config.model)), train: data.train, stats: data.stats, statusStream: null });
  assert.equal(readCheckpoint(join(runDir, 'last.ckpt')).meta.emaUpdates, 2);
});

test('optim.warmupSteps scales the first Adam steps linearly (closed form: the first update is lr/W per weight)', async () => {
  const src = await sourceRun();
  const firstUpdate = async (warmupSteps: number): Promise<number> => {
    const config = tinyConfig({ optim: { batchSize: 8, lr: 1e-3, warmupSteps }, schedule: { maxEpochs: -1, emaStartEpoch: 100 }, validation: { everyEpochs: 0 } });
    const runDir = tmp();
    const warmStart = warmStartFromCheckpoint(src, netConfigOf(config.model));
    await train({ dataset: 'perov_5', config, runDir, seed: 9, maxSteps: 1, warmStart, train: data.train, stats: data.stats, statusStream: null });
    const ck = readCheckpoint(join(runDir, 'last.ckpt'));
    let max = 0;
    for (const [name, w] of warmStart.weights) {
      const now = ck.tensors.get(`param/${name}`)!.data;
      for (let i = 0; i < w.length; i++) max = Math.max(max, Math.abs(now[i]! - w[i]!));
    }
    return max;
  };
  // Adam's first step is lr·g/(|g| + eps) (bias-corrected moments): at most lr per weight, reached
  // by weights with |g| >> eps. Weight decay 1e-12 is negligible.
  const full = await firstUpdate(0);
  const tenth = await firstUpdate(10);
  assert.ok(Math.abs(full - 1e-3) < 2e-5, `full step ${full}`);
  assert.ok(Math.abs(tenth - 1e-4) < 2e-6, `warm-up step ${tenth}`);
});

test('optim.decaySteps: the trainer steps with the cosine schedule (logged lr per step = learningRateAt) and resumes it where it stopped', async () => {
  const config = tinyConfig({ optim: { batchSize: 8, lr: 1e-3, warmupSteps: 2, decaySteps: 6, minLrRatio: 0.1 }, schedule: { maxEpochs: -1, emaStartEpoch: 100 }, validation: { everyEpochs: 0 } });
  const runDir = tmp();
  await train({ dataset: 'perov_5', config, runDir, seed: 9, maxSteps: 5, logEvery: 1, train: data.train, stats: data.stats, statusStream: null });
  await train({ dataset: 'perov_5', config, runDir, seed: 9, maxSteps: 10, logEvery: 1, resume: true, train: data.train, stats: data.stats, statusStream: null });
  const lrs = readJsonl(join(runDir, 'log.jsonl'))
    .map((r) => r.value as { type: string; step: number; lr: number })
    .filter((r) => r.type === 'train')
    .map((r) => [r.step, r.lr]);
  const expected = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((step) => [step, learningRateAt(step - 1, config.optim)]);
  assert.deepEqual(lrs, expected);
  assert.equal(expected[9]![1], 1e-4); // past warm-up + decay: the floor
});

test('warm start refuses a different network and cannot be combined with resume', async () => {
  const src = await sourceRun();
  const wider = tinyConfig({ model: { hidden: 24 } });
  assert.throws(() => warmStartFromCheckpoint(src, netConfigOf(wider.model)), /--init-from .*: its network .* differs from the config's/);
  const config = tinyConfig({ optim: { batchSize: 8 }, validation: { everyEpochs: 0 } });
  const warmStart = warmStartFromCheckpoint(src, netConfigOf(config.model));
  await assert.rejects(
    train({ dataset: 'perov_5', config, runDir: tmp(), resume: true, warmStart, train: data.train, stats: data.stats, statusStream: null }),
    /--init-from starts a new run; it cannot be combined with --resume/,
  );
});

test('a CSP model starts a masking DNG run: shared tensors copied, the type head keeps its fresh initialisation; smooth-type DNG is refused', async () => {
  const src = await sourceRun(); // CSP
  const source = readCheckpoint(src);
  const sourceEma = paramsFromTensors(source.meta.netConfig, source.tensors, true, src).params;
  const config = tinyConfig({ task: 'dng', types: { kind: 'masking' }, optim: { batchSize: 8 }, schedule: { maxEpochs: -1, emaStartEpoch: 1 }, validation: { everyEpochs: 0 } });
  const warmStart = warmStartFromCheckpoint(src, netConfigOfTraining(config));
  assert.deepEqual(warmStart.record.freshTensors, ['net.out_h.weight', 'net.out_h.bias']);
  assert.equal(warmStart.record.task, 'csp');

  // the same fresh run without a warm start gives the reference initialisation of the type head
  const coldDir = tmp();
  await train({ dataset: 'perov_5', config, runDir: coldDir, seed: 5, maxSteps: 0, train: data.train, stats: data.stats, statusStream: null });
  const cold = readCheckpoint(join(coldDir, 'last.ckpt'));
  const runDir = tmp();
  await train({ dataset: 'perov_5', config, runDir, seed: 5, maxSteps: 0, warmStart, train: data.train, stats: data.stats, statusStream: null });
  const start = readCheckpoint(join(runDir, 'last.ckpt'));
  for (const t of sourceEma.tensors) assert.deepEqual(start.tensors.get(`param/${t.name}`)!.data, t.data, `copied ${t.name}`);
  for (const name of ['net.out_h.weight', 'net.out_h.bias']) {
    const w = start.tensors.get(`param/${name}`)!.data;
    assert.deepEqual(w, cold.tensors.get(`param/${name}`)!.data, `${name} = the cold run's initialisation`);
    assert.ok(w.some((x) => x !== 0), `${name} is initialised`);
  }
  // two steps train and export names the transfer in the card
  await train({ dataset: 'perov_5', config, runDir, resume: true, maxSteps: 2, train: data.train, stats: data.stats, statusStream: null });
  const entry = exportModel(join(runDir, 'last.ckpt'), { name: 'dng-from-csp', description: 'transfer test', root: tmp() });
  assert.equal(entry.manifest.task, 'dng');
  assert.match(modelCardMarkdown(entry, []), /that model was a CSP model: net\.out_h\.weight, net\.out_h\.bias started from the spec §2\.5 initialisation/);

  const onehot = tinyConfig({ task: 'dng', types: { kind: 'onehot' } });
  assert.throws(() => warmStartFromCheckpoint(src, netConfigOfTraining(onehot)), /--init-from .*: its network .* differs from the config's/);
});
