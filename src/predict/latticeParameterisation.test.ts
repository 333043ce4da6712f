/**
 * A KLDM-ε model (lattice parameterisation eps, spec §4) end to end: trained, exported, and sampled
 * through every path that loads a model (predict, sample, generate, checkpoints), each of which must
 * read the lattice head as ε̂ (score −ε̂/σ), not as l̂_0. Old models without the field read as x0.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint, train } from '../training/trainer.js';
import { saveTensors } from '../training/tensorFile.js';
import { miniPerov5, tinyConfig } from '../training/testFixtures.js';
import { structureOfSplit } from '../training/validate.js';
import { writeCif } from '../crystal/io/cif.js';
import { KldmError } from '../util/errors.js';
import { exportModel, getModel, loadModelNetwork, modelLatticeParameterisation, type ModelManifest } from './registry.js';
import { predictStructures, predictWithNetwork } from './predict.js';
import { dngCheckpointInfo, dngModelInfo, generateStructures, generateWithNetwork } from './generate.js';
import { sampleSplit } from './sampleSplit.js';
import { sampleCommand } from '../cli/commands/sample.js';
import { modelWeightsSha256, planSampleShards, runSampleShard } from '../queue/sampleShards.js';

const data = miniPerov5();
const modelsDir = mkdtempSync(join(tmpdir(), 'kldm-eps-models-'));
let cspCheckpoint = '';
let dngCheckpoint = '';

before(async () => {
  process.env['KLDM_MODELS_DIR'] = modelsDir;
  const common = { optim: { batchSize: 8, lr: 3e-3 }, schedule: { maxEpochs: -1, emaStartEpoch: 1000 }, validation: { everyEpochs: 0 }, lattice: { parameterisation: 'eps' } };
  const cspRun = mkdtempSync(join(tmpdir(), 'kldm-eps-run-'));
  await train({ dataset: 'perov_5', config: tinyConfig(common), runDir: cspRun, seed: 9, maxSteps: 20, train: data.train, stats: data.stats, statusStream: null });
  cspCheckpoint = join(cspRun, 'last.ckpt');
  exportModel(cspCheckpoint, { name: 'tiny-eps', description: 'eps test model', rank: 1 });
  const dngRun = mkdtempSync(join(tmpdir(), 'kldm-eps-dng-run-'));
  await train({ dataset: 'perov_5', config: tinyConfig({ ...common, task: 'dng' }), runDir: dngRun, seed: 9, maxSteps: 4, train: data.train, stats: data.stats, statusStream: null });
  dngCheckpoint = join(dngRun, 'last.ckpt');
  exportModel(dngCheckpoint, { name: 'tiny-eps-dng', description: 'eps DNG test model' });
});

const latticesOf = (r: { samples: Array<{ structure: { lattice: ArrayLike<number> } }> }): number[][] => r.samples.map((s) => Array.from(s.structure.lattice));

test('the checkpoint and the exported manifest say eps; models and checkpoints written before the field read as x0', () => {
  assert.equal(readCheckpoint(cspCheckpoint).meta.config.lattice.parameterisation, 'eps');
  const m = getModel('tiny-eps').manifest;
  assert.equal(m.latticeParameterisation, 'eps');
  assert.equal(modelLatticeParameterisation(m), 'eps');
  // an older manifest: no field, a training config without `lattice` (or none at all)
  const old = JSON.parse(JSON.stringify(m)) as ModelManifest & { trainConfig: { lattice?: unknown } };
  delete old.latticeParameterisation;
  assert.equal(modelLatticeParameterisation(old), 'eps', 'the training config is the fallback');
  delete old.trainConfig.lattice;
  assert.equal(modelLatticeParameterisation(old), 'x0');
  assert.equal(modelLatticeParameterisation({ ...old, trainConfig: null }), 'x0');
  assert.throws(() => modelLatticeParameterisation({ ...m, latticeParameterisation: 'v0' as 'x0' }), (e: unknown) => e instanceof KldmError && /model tiny-eps \(model\.json\): unknown lattice parameterisation "v0"/.test(e.message));
  // an older checkpoint (its config has no `lattice`) exports as x0
  const { meta, tensors } = readCheckpoint(cspCheckpoint);
  delete (meta.config as { lattice?: unknown }).lattice;
  const oldCkpt = join(mkdtempSync(join(tmpdir(), 'kldm-eps-old-')), 'last.ckpt');
  saveTensors(oldCkpt, [...tensors.values()], meta);
  const root = mkdtempSync(join(tmpdir(), 'kldm-eps-old-models-'));
  assert.equal(exportModel(oldCkpt, { name: 'old', description: '', root }).manifest.latticeParameterisation, 'x0');
});

test('predictStructures samples an eps model with the eps score (same result as the network sampled with eps, not with x0)', async () => {
  const entry = getModel('tiny-eps');
  const opts = { n: 2, steps: 12, sampler: 'em' as const, seed: 4 };
  const viaRegistry = await predictStructures('SrTiO3', { ...opts, model: 'tiny-eps' });
  const net = loadModelNetwork(entry);
  const sites = [38, 22, 8, 8, 8];
  const asEps = await predictWithNetwork(net, entry.manifest.latticeStats, sites, 'SrTiO3', { ...opts, modelName: 'tiny-eps', latticeParameterisation: 'eps' });
  const asX0 = await predictWithNetwork(net, entry.manifest.latticeStats, sites, 'SrTiO3', { ...opts, modelName: 'tiny-eps' });
  assert.deepEqual(latticesOf(viaRegistry), latticesOf(asEps));
  assert.notDeepEqual(latticesOf(viaRegistry), latticesOf(asX0));
});

test('kldm sample --model and --checkpoint of an eps model, and a queue shard of it, write what sampleSplit writes with eps', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-eps-sample-'));
  const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;
  const ids = data.val.materialIds.slice(0, 2);
  writeFileSync(join(dir, 'targets.csv'), ['material_id,cif', ...ids.map((id, k) => `${id},${quote(writeCif(structureOfSplit(data.val, k), id))}`)].join('\n') + '\n');
  const flags = ['--dataset-csv', join(dir, 'targets.csv'), '--steps', '6', '--sampler', 'em', '--seed', '2', '--quiet'];
  const log = console.log;
  console.log = () => undefined;
  try {
    assert.equal(await sampleCommand.run(['--model', 'tiny-eps', '--out', join(dir, 'model.jsonl'), ...flags]), 0);
    assert.equal(await sampleCommand.run(['--checkpoint', cspCheckpoint, '--out', join(dir, 'ckpt.jsonl'), ...flags]), 0);
  } finally {
    console.log = log;
  }
  const entry = getModel('tiny-eps');
  const targets = ids.map((id, k) => ({ materialId: id, atomicNumbers: Array.from(data.val.atomTypes.subarray(data.val.atomOffsets[k]!, data.val.atomOffsets[k + 1]!)) }));
  const common = { net: loadModelNetwork(entry), stats: entry.manifest.latticeStats, targets, sampler: 'em' as const, steps: 6, seed: 2, quiet: true };
  await sampleSplit({ ...common, outPath: join(dir, 'eps.jsonl'), latticeParameterisation: 'eps' });
  await sampleSplit({ ...common, outPath: join(dir, 'x0.jsonl') });
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  assert.equal(read('model.jsonl'), read('eps.jsonl'));
  assert.equal(read('ckpt.jsonl'), read('eps.jsonl'), 'no EMA yet: the checkpoint\'s raw weights are the model\'s');
  assert.notEqual(read('model.jsonl'), read('x0.jsonl'));
  // a queued run's worker (src/queue) loads the model by name: its shard holds the same lines
  const params = { model: 'tiny-eps', weightsSha256: modelWeightsSha256('tiny-eps'), sampler: 'em' as const, steps: 6, tFinal: 1e-3, seed: 2, samplesPerMaterial: 1, batchSize: 8 };
  const [shard, ...rest] = planSampleShards(targets, params, 100);
  assert.equal(rest.length, 0);
  await sampleSplit({ ...common, batchSize: 8, outPath: join(dir, 'eps8.jsonl'), latticeParameterisation: 'eps' });
  assert.equal((await runSampleShard(shard!)).lines.join('\n') + '\n', read('eps8.jsonl'));
});

test('generateStructures and a DNG checkpoint sample an eps DNG model with the eps score', async () => {
  const { net, info } = dngModelInfo('tiny-eps-dng');
  assert.equal(info.latticeParameterisation, 'eps');
  assert.equal(dngCheckpointInfo(dngCheckpoint).info.latticeParameterisation, 'eps');
  const opts = { n: 2, steps: 6, atoms: 5, seed: 3, sampler: 'em' as const };
  const viaRegistry = await generateStructures({ ...opts, model: 'tiny-eps-dng' });
  const asEps = await generateWithNetwork(net, info, opts);
  const asX0 = await generateWithNetwork(net, { ...info, latticeParameterisation: 'x0' }, opts);
  assert.deepEqual(latticesOf(viaRegistry), latticesOf(asEps));
  assert.notDeepEqual(latticesOf(viaRegistry), latticesOf(asX0));
});
