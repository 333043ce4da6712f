import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../training/trainer.js';
import { miniPerov5, tinyConfig } from '../training/testFixtures.js';
import { chooseModel, exportModel, listModels, loadModelNetwork } from './registry.js';
import { predictStructures } from './predict.js';
import { sampleSplit } from './sampleSplit.js';
import { sampleCommand } from '../cli/commands/sample.js';
import { latticeToFeatures } from '../diffusion/latticeFeatures.js';
import { toParameters } from '../crystal/lattice.js';
import type { LatticeParams } from '../crystal/types.js';
import { InputError } from '../util/errors.js';
import { readCif } from '../crystal/io/cif.js';
import { modelCardMarkdown, readCspReport, writeModelCard } from './modelCard.js';
import { writeCif } from '../crystal/io/cif.js';
import { structureOfSplit } from '../training/validate.js';
import { modelWeightsSha256, planSampleShards, runSampleShard } from '../queue/sampleShards.js';

const data = miniPerov5();

/** the first n validation crystals as sampling targets (ground-truth atom order) */
function valTargets(n: number): Array<{ materialId: string; atomicNumbers: number[] }> {
  return data.val.materialIds.slice(0, n).map((id, k) => ({
    materialId: id,
    atomicNumbers: Array.from(data.val.atomTypes.subarray(data.val.atomOffsets[k]!, data.val.atomOffsets[k + 1]!)),
  }));
}
const modelsDir = mkdtempSync(join(tmpdir(), 'kldm-models-'));

before(async () => {
  process.env['KLDM_MODELS_DIR'] = modelsDir;
  const runDir = mkdtempSync(join(tmpdir(), 'kldm-run-'));
  const config = tinyConfig({ optim: { batchSize: 8, lr: 3e-3 }, schedule: { maxEpochs: -1, emaStartEpoch: 2 }, validation: { everyEpochs: 0 } });
  await train({ dataset: 'perov_5', config, runDir, seed: 9, maxSteps: 40, train: data.train, stats: data.stats, statusStream: null });
  exportModel(join(runDir, 'last.ckpt'), { name: 'tiny-perov', description: 'test model', rank: 1 });
});

test('an exported model is listed with its training range and loads', () => {
  const models = listModels();
  assert.deepEqual(models.map((m) => m.manifest.name), ['tiny-perov']);
  const m = models[0]!.manifest;
  assert.equal(m.dataset, 'perov_5');
  assert.equal(m.ema, true, 'EMA weights exported (EMA started at epoch 3 of 10)');
  assert.equal(m.trainingRange.minAtoms, 5);
  assert.equal(m.trainingRange.maxAtoms, 5);
  assert.equal(m.training.steps, 40);
  assert.ok(loadModelNetwork(models[0]!));
  // the run's curves (from log.jsonl beside the checkpoint) travel with the model
  assert.match(readFileSync(join(models[0]!.dir, 'curves.svg'), 'utf8'), /^<svg[\s\S]*optimiser step/);
});

test('predictStructures samples n valid-looking structures with the formula site order', async () => {
  let frames = 0;
  let lastProgress = 0;
  const r = await predictStructures('SrTiO3', {
    n: 3, steps: 20, sampler: 'em', seed: 4, trajectory: true, trajectoryStride: 5,
    onFrame: () => frames++, onProgress: (p) => (lastProgress = p.step),
  });
  assert.equal(r.formula, 'SrTiO3');
  assert.equal(r.model, 'tiny-perov');
  assert.equal(r.samples.length, 3);
  assert.equal(lastProgress, 20);
  assert.equal(frames, 3 * 5); // prior + steps 5, 10, 15, 20 for each of 3 samples
  for (const s of r.samples) {
    assert.deepEqual(s.structure.species, ['Sr', 'Ti', 'O', 'O', 'O']);
    assert.ok(s.structure.lattice.every(Number.isFinite));
    assert.ok(s.volume > 0 && Number.isFinite(s.volume));
    assert.ok(s.minDistance > 0);
    assert.equal(typeof s.valid, 'boolean');
    for (const f of s.structure.frac) assert.ok(f >= 0 && f < 1);
    assert.equal(s.trajectory!.length, 5);
    assert.equal(s.trajectory![0]!.t, 1);
    assert.equal(s.trajectory![0]!.frac.length, 15);
  }
  // same seed, same result
  const again = await predictStructures('SrTiO3', { n: 3, steps: 20, sampler: 'em', seed: 4 });
  assert.deepEqual(Array.from(again.samples[1]!.structure.frac), Array.from(r.samples[1]!.structure.frac));
});

test('compositions outside the model range: clear errors for sizes, warnings for unseen elements', async () => {
  await assert.rejects(predictStructures('SrTiO3', { z: 2, steps: 2 }), (e: unknown) => e instanceof InputError && /no shipped model generates cells of 10 atoms/.test(e.message));
  await assert.rejects(predictStructures('SrTiO3', { model: 'nope', steps: 2 }), /unknown model "nope" \(shipped models: tiny-perov\)/);
  await assert.rejects(predictStructures('XxO3', { steps: 2 }), InputError);
  await assert.rejects(predictStructures('SrTiO3', { n: 0, steps: 2 }), /n \(number of samples\) must be an integer/);
  const { warnings } = chooseModel([92, 92, 92, 92, 92]);
  assert.ok(warnings.some((w) => /never saw U in training/.test(w)), warnings.join('; '));
  const r = await predictStructures('UO4', { steps: 2, sampler: 'em' });
  assert.ok(r.warnings.length > 0);
});

test('sampleSplit with oracle lattices (diagnostic): every output has the true cell; kldm sample refuses --oracle-lattice without a dataset split', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'kldm-oracle-')), 'preds.jsonl');
  const net = loadModelNetwork(listModels()[0]!);
  const truth = (k: number): LatticeParams => {
    const [a, b, c] = data.val.lengths.subarray(3 * k, 3 * k + 3);
    const [alpha, beta, gamma] = data.val.angles.subarray(3 * k, 3 * k + 3);
    return { a: a!, b: b!, c: c!, alpha: alpha!, beta: beta!, gamma: gamma! };
  };
  const targets = valTargets(4).map((t, k) => ({ ...t, oracleLattice: latticeToFeatures(truth(k), t.atomicNumbers.length, data.stats) }));
  await sampleSplit({ net, stats: data.stats, targets, outPath: out, sampler: 'pc', steps: 8, batchSize: 3, quiet: true });
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { material_id: string; cif: string });
  assert.equal(lines.length, 4);
  lines.forEach((line, k) => {
    const got = toParameters(readCif(line.cif).lattice);
    const want = truth(k);
    // t_f = 1e-3 leaves σ ≈ 0.01 of noise on the features: lengths within ~5 %, angles within a few degrees
    for (const key of ['a', 'b', 'c'] as const) assert.ok(Math.abs(got[key] / want[key] - 1) < 0.05, `${line.material_id} ${key} ${got[key]} vs ${want[key]}`);
    for (const key of ['alpha', 'beta', 'gamma'] as const) assert.ok(Math.abs(got[key] - want[key]) < 3, `${line.material_id} ${key} ${got[key]} vs ${want[key]}`);
  });
  await assert.rejects(sampleSplit({ net, stats: data.stats, targets: [targets[0]!, valTargets(2)[1]!], outPath: out + '2', sampler: 'em', steps: 2, quiet: true }), /oracle lattices must be given for every target or none/);
  await assert.rejects(sampleCommand.run(['--model', 'tiny-perov', '--dataset-csv', 'x.csv', '--oracle-lattice', '--out', out + '3']), /--oracle-lattice needs --dataset/);
});

test('sampleSplit writes evaluator lines and resumes without redoing pairs', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'kldm-sample-')), 'preds.jsonl');
  const net = loadModelNetwork(listModels()[0]!);
  const targets = valTargets(4);
  const common = { net, stats: data.stats, targets, outPath: out, samplesPerMaterial: 2, sampler: 'em' as const, steps: 5, batchSize: 3, quiet: true };
  const first = await sampleSplit({ ...common, targets: targets.slice(0, 2) });
  assert.equal(first.written, 4);
  // simulate a kill in the middle of a write: a torn last line
  writeFileSync(out, readFileSync(out, 'utf8') + '{"material_id": "tor');
  const second = await sampleSplit(common);
  assert.equal(second.alreadyDone, 4);
  assert.equal(second.written, 4);
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { material_id: string; sample: number; cif: string });
  assert.equal(lines.length, 8);
  assert.deepEqual(new Set(lines.map((l) => `${l.material_id}/${l.sample}`)).size, 8);
  const s = readCif(lines[0]!.cif);
  assert.equal(s.species.length, 5);
  const third = await sampleSplit(common);
  assert.equal(third.written, 0);
});

test('sampleSplit: a run killed mid-batch and resumed writes exactly the lines of an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-sample-exact-'));
  const net = loadModelNetwork(listModels()[0]!);
  const targets = valTargets(4);
  const common = { net, stats: data.stats, targets, samplesPerMaterial: 2, sampler: 'em' as const, steps: 5, batchSize: 3, quiet: true };
  const whole = join(dir, 'whole.jsonl');
  await sampleSplit({ ...common, outPath: whole });
  const expected = readFileSync(whole, 'utf8');
  const lines = expected.split('\n');
  assert.equal(lines.filter((l) => l).length, 8);
  // killed after 4 lines (the second batch of 3 half written) with a torn fifth line
  for (const keep of [1, 3, 4, 7]) {
    const cut = join(dir, `cut${keep}.jsonl`);
    writeFileSync(cut, lines.slice(0, keep).join('\n') + '\n' + lines[keep]!.slice(0, 17));
    const r = await sampleSplit({ ...common, outPath: cut });
    assert.equal(r.alreadyDone, keep);
    assert.equal(readFileSync(cut, 'utf8'), expected, `resumed after ${keep} lines`);
  }
});

test('sampleSplit with a limit writes exactly the whole run\'s lines of the first n materials (padding batches), also resumed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-sample-limit-'));
  const net = loadModelNetwork(listModels()[0]!);
  const targets = valTargets(7);
  // batches of 3 over 7 materials x 2 samples: the limit 4 ends inside a batch in both sample rounds
  const common = { net, stats: data.stats, targets, samplesPerMaterial: 2, sampler: 'em' as const, steps: 5, batchSize: 3, quiet: true };
  // the plan: every pair at its place in the sample-major list (the index seeds its batch), the limit only marks padding
  const { planSampleBatches } = await import('./sampleSplit.js');
  const plan = planSampleBatches(targets, 2, 3);
  assert.deepEqual(plan.flat().map((w) => w.index), Array.from({ length: 14 }, (_, i) => i));
  const limitedPlan = planSampleBatches(targets, 2, 3, 4);
  assert.deepEqual(limitedPlan.map((b) => b.map((w) => `${w.index}${w.padding ? 'p' : ''}`)), [['0', '1', '2'], ['3', '4p', '5p'], ['6p', '7', '8'], ['9', '10', '11p']]);
  const whole = join(dir, 'whole.jsonl');
  await sampleSplit({ ...common, outPath: whole });
  const first4 = new Set(targets.slice(0, 4).map((t) => t.materialId));
  const expected = readFileSync(whole, 'utf8').split('\n').filter((l) => l && first4.has((JSON.parse(l) as { material_id: string }).material_id));
  assert.equal(expected.length, 8);
  const limited = join(dir, 'limited.jsonl');
  const r = await sampleSplit({ ...common, outPath: limited, limit: 4 });
  assert.equal(r.total, 8);
  assert.equal(r.written, 8);
  assert.equal(readFileSync(limited, 'utf8'), expected.join('\n') + '\n');
  // without the padding (the old way: the targets cut to 4) the last batch of each round draws other noise
  const cut = join(dir, 'cut.jsonl');
  await sampleSplit({ ...common, targets: targets.slice(0, 4), outPath: cut });
  assert.notEqual(readFileSync(cut, 'utf8'), readFileSync(limited, 'utf8'));
  // a limited run killed after 5 lines resumes to the same file
  const resumed = join(dir, 'resumed.jsonl');
  writeFileSync(resumed, expected.slice(0, 5).join('\n') + '\n');
  const again = await sampleSplit({ ...common, outPath: resumed, limit: 4 });
  assert.equal(again.alreadyDone, 5);
  assert.equal(readFileSync(resumed, 'utf8'), expected.join('\n') + '\n');
  // kldm sample --limit and a queue shard of the limited run write the same lines
  const quote = (v: string): string => `"${v.replace(/"/g, '""')}"`;
  const csv = join(dir, 'targets.csv');
  writeFileSync(csv, ['material_id,cif', ...targets.map((t, k) => `${t.materialId},${quote(writeCif(structureOfSplit(data.val, k), t.materialId))}`)].join('\n') + '\n');
  const log = console.log;
  console.log = () => undefined;
  try {
    const flags = ['--model', 'tiny-perov', '--dataset-csv', csv, '--samples-per-material', '2', '--sampler', 'em', '--steps', '5', '--batch-size', '3', '--quiet'];
    assert.equal(await sampleCommand.run([...flags, '--out', join(dir, 'cli-whole.jsonl')]), 0);
    assert.equal(await sampleCommand.run([...flags, '--limit', '4', '--out', join(dir, 'cli-limited.jsonl')]), 0);
  } finally {
    console.log = log;
  }
  const cliWhole = readFileSync(join(dir, 'cli-whole.jsonl'), 'utf8').split('\n').filter((l) => l && first4.has((JSON.parse(l) as { material_id: string }).material_id));
  assert.equal(readFileSync(join(dir, 'cli-limited.jsonl'), 'utf8'), cliWhole.join('\n') + '\n');
  const params = { model: 'tiny-perov', weightsSha256: modelWeightsSha256('tiny-perov'), sampler: 'em' as const, steps: 5, tFinal: 1e-3, seed: 42, samplesPerMaterial: 2, batchSize: 3 };
  const shards = planSampleShards(targets, params, 3, 4);
  assert.equal(shards.length, 4, 'two batches per sample round hold the first 4 materials');
  assert.notEqual(shards[0]!.runId, planSampleShards(targets, params, 3)[0]!.runId);
  const shardLines: string[] = [];
  for (const shard of shards) shardLines.push(...(await runSampleShard(shard)).lines);
  assert.equal(shardLines.join('\n') + '\n', readFileSync(join(dir, 'cli-limited.jsonl'), 'utf8'));
});

test('sampleSplit parts (kldm sample --part k/n): disjoint, together the whole run\'s lines, each resumable; the CLI checks k/n', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-sample-parts-'));
  const net = loadModelNetwork(listModels()[0]!);
  const targets = valTargets(7);
  // batches of 3 over 7 materials x 2 samples: 5 batches, the last one short
  const common = { net, stats: data.stats, targets, samplesPerMaterial: 2, sampler: 'em' as const, steps: 5, batchSize: 3, quiet: true };
  const { planSampleBatches, planPartBatches, parseRunPart } = await import('./sampleSplit.js');
  const plan = planSampleBatches(targets, 2, 3);
  assert.equal(plan.length, 5);
  const firstIndex = (bs: { index: number }[][]): number[] => bs.map((b) => b[0]!.index);
  assert.deepEqual(firstIndex(planPartBatches(plan, { index: 1, count: 2 })), [0, 6, 12]);
  assert.deepEqual(firstIndex(planPartBatches(plan, { index: 2, count: 2 })), [3, 9]);
  assert.deepEqual(firstIndex(planPartBatches(plan, { index: 3, count: 3 })), [6]);
  assert.deepEqual(firstIndex(planPartBatches(plan, { index: 6, count: 6 })), [], 'a part past the last batch is empty');
  const whole = join(dir, 'whole.jsonl');
  await sampleSplit({ ...common, outPath: whole });
  const wholeLines = readFileSync(whole, 'utf8').split('\n').filter((l) => l);
  assert.equal(wholeLines.length, 14);
  for (const n of [2, 3]) {
    const got: string[] = [];
    for (let k = 1; k <= n; k++) {
      const out = join(dir, `part${k}of${n}.jsonl`);
      const r = await sampleSplit({ ...common, outPath: out, part: { index: k, count: n } });
      const lines = readFileSync(out, 'utf8').split('\n').filter((l) => l);
      assert.equal(r.total, lines.length);
      got.push(...lines);
    }
    // the same lines as the whole run (same batches, same noise), each once
    assert.deepEqual([...got].sort(), [...wholeLines].sort(), `${n} parts`);
  }
  // a part killed after its first batch resumes to the same file
  const p2 = readFileSync(join(dir, 'part2of2.jsonl'), 'utf8').split('\n').filter((l) => l);
  const resumed = join(dir, 'resumed.jsonl');
  writeFileSync(resumed, p2.slice(0, 3).join('\n') + '\n' + p2[3]!.slice(0, 11));
  const again = await sampleSplit({ ...common, outPath: resumed, part: { index: 2, count: 2 } });
  assert.equal(again.alreadyDone, 3);
  assert.equal(readFileSync(resumed, 'utf8'), p2.join('\n') + '\n');
  assert.deepEqual(parseRunPart(' 2 / 3 '), { index: 2, count: 3 });
  for (const bad of ['0/2', '3/2', '1', '1/0', 'a/b', '1.5/2', '-1/2']) assert.throws(() => parseRunPart(bad), /--part must be k\/n with 1 <= k <= n/, bad);
  await assert.rejects(sampleCommand.run(['--model', 'tiny-perov', '--dataset', 'perov_5', '--part', '2/1', '--out', join(dir, 'x.jsonl')]), /--part must be k\/n/);
  await assert.rejects(sampleCommand.run(['--model', 'tiny-perov', '--dataset', 'perov_5', '--part', '1/2', '--queue', 'redis://127.0.0.1:1', '--out', join(dir, 'x.jsonl')]), /--part splits a run without a queue/);
});

test('a model card shows the measured metrics beside the paper and stores them in model.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-card-'));
  const reportPath = join(dir, 'report.json');
  writeFileSync(reportPath, JSON.stringify({
    protocol: 'kldm', k: 1, n_materials: 3785, mr_at_1: 0.4321, rmse_at_1: 0.0812, mr_at_k: 0.4321, rmse_at_k: 0.0812,
    counts: { invalid: 12, missing: 0 }, per_material: [{ material_id: 'x' }],
  }));
  const entry = listModels()[0]!;
  const path = writeModelCard(entry, [{ label: 'PC, full test', report: readCspReport(reportPath), commands: ['kldm sample --model tiny-perov ...'] }], 'trained for a test');
  const card = readFileSync(path, 'utf8');
  assert.match(card, /\| PC, full test \| kldm \| 3785 \| 1 \| 43\.21 \| 0\.0812 \| - \| - \| 12 \| 0 \|/);
  assert.match(card, /PC @1 52\.14 % \/ 0\.0647/);
  assert.match(card, /7,648 trainable parameters/);
  assert.match(card, /\| last training epoch \(10\) \| mean loss \d\.\d{4} \(velocity/);
  assert.match(card, /kldm sample --model tiny-perov/);
  assert.match(card, /## Notes\n\ntrained for a test/);
  assert.match(card, /\[curves\.svg\]\(curves\.svg\)/);
  // notes that bring their own heading are not given a second one
  const card2 = modelCardMarkdown(entry, [], '## Notes\n\n- a bullet');
  assert.equal(card2.match(/## Notes/g)?.length, 1);
  const manifest = JSON.parse(readFileSync(join(entry.dir, 'model.json'), 'utf8')) as { metrics: Record<string, { mr_at_1: number; per_material?: unknown }> };
  assert.equal(manifest.metrics['PC, full test']!.mr_at_1, 0.4321);
  assert.equal(manifest.metrics['PC, full test']!.per_material, undefined);
  writeFileSync(reportPath, '{"hello": 1}');
  assert.throws(() => readCspReport(reportPath), /not a kldm evaluate csp --json report/);
});

test('the default sampling batch holds about 20,480 edges at H = 128: 1024 Perov-5 crystals, fewer large ones', async () => {
  const { defaultSamplingBatchSize } = await import('./sampleSplit.js');
  const cell = (n: number) => ({ materialId: `m${n}`, atomicNumbers: new Array<number>(n).fill(8) });
  assert.equal(defaultSamplingBatchSize([cell(5)]), 1024);
  assert.equal(defaultSamplingBatchSize([cell(12)]), Math.floor(20480 / 132));
  assert.equal(defaultSamplingBatchSize([cell(20)]), Math.floor(20480 / 380));
  assert.equal(defaultSamplingBatchSize([cell(1)]), 1024);
  // a wider network keeps the edge-buffer bytes: H = 512 gets a quarter of the edges
  assert.equal(defaultSamplingBatchSize([cell(12)], 512), Math.floor(5120 / 132));
  assert.equal(defaultSamplingBatchSize([cell(20)], 512), 16);
});

test('a random subset is fixed by its seed, in split order, without repeats', async () => {
  const { randomSubset } = await import('./sampleSplit.js');
  const items = Array.from({ length: 100 }, (_, i) => i);
  const a = randomSubset(items, 10, 0);
  assert.deepEqual(randomSubset(items, 10, 0), a);
  assert.notDeepEqual(randomSubset(items, 10, 1), a);
  assert.equal(new Set(a).size, 10);
  assert.deepEqual([...a].sort((x, y) => x - y), a);
  assert.deepEqual(randomSubset(items, 200, 0), items);
});

test('sampleSplit passes the PC corrector step size τ through: the default equals τ = 0.25, another τ moves the samples', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-sample-tau-'));
  const net = loadModelNetwork(listModels()[0]!);
  const targets = valTargets(2);
  const common = { net, stats: data.stats, targets, sampler: 'pc' as const, steps: 4, quiet: true };
  const run = async (name: string, tau?: number): Promise<string> => {
    const outPath = join(dir, `${name}.jsonl`);
    await sampleSplit({ ...common, outPath, ...(tau !== undefined ? { tau } : {}) });
    return readFileSync(outPath, 'utf8');
  };
  const byDefault = await run('default');
  assert.equal(await run('quarter', 0.25), byDefault);
  assert.notEqual(await run('one', 1), byDefault);
});
