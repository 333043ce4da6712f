import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../util/errors.js';
import { predictCommand } from './predict.js';
import { sampleCommand } from './sample.js';
import { trainCommand } from './train.js';
import { plotCommand } from './plot.js';
import { train } from '../../training/trainer.js';
import { miniPerov5, tinyConfig } from '../../training/testFixtures.js';
import { exportModel } from '../../predict/registry.js';

const userError = (pattern: RegExp) => (e: unknown): boolean => e instanceof InputError && pattern.test(e.message);

test('kldm predict rejects bad arguments with one clear message', async () => {
  await assert.rejects(predictCommand.run([]), userError(/a formula is required/));
  await assert.rejects(predictCommand.run(['SrTiO3', 'BaTiO3']), userError(/expected one formula, got 2/));
  await assert.rejects(predictCommand.run(['SrTiO3', '--n', '0']), userError(/--n must be an integer >= 1, got "0"/));
  await assert.rejects(predictCommand.run(['SrTiO3', '--steps', 'ten']), userError(/--steps must be an integer/));
  await assert.rejects(predictCommand.run(['SrTiO3', '--sampler', 'ode']), userError(/--sampler must be pc or em/));
  await assert.rejects(predictCommand.run(['SrTiO3', '--format', 'pdb']), userError(/--format must be one of cif, poscar, extxyz, json/));
  await assert.rejects(predictCommand.run(['SrTiO3', '--trajectory']), userError(/--trajectory needs --out/));
  await assert.rejects(predictCommand.run(['SrTiO3', '--precision', 'fp16']), userError(/--precision: precision must be 'f32' or 'bf16', got 'fp16'/));
  await assert.rejects(predictCommand.run(['SrTiO3', '--bogus']), (e: unknown) => (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION');
});

test('kldm sample, train and plot reject inconsistent arguments', async () => {
  await assert.rejects(sampleCommand.run(['--dataset', 'perov_5', '--out', 'x.jsonl']), userError(/exactly one of --checkpoint <file> or --model <name>/));
  await assert.rejects(sampleCommand.run(['--model', 'm', '--out', 'x.jsonl']), userError(/exactly one of --dataset <name> or --dataset-csv/));
  await assert.rejects(sampleCommand.run(['--model', 'm', '--dataset', 'perov_5']), userError(/--out <preds.jsonl> is required/));
  await assert.rejects(sampleCommand.run(['--model', 'm', '--dataset', 'perov_5', '--out', 'x', '--t-final', '2']), userError(/--t-final must be in \[0, 1\)/));
  await assert.rejects(sampleCommand.run(['--model', 'm', '--dataset', 'perov_5', '--out', 'x', '--precision', 'half']), userError(/--precision: precision must be 'f32' or 'bf16', got 'half'/));
  await assert.rejects(trainCommand.run(['--config', 'cpu-small']), userError(/--dataset is required/));
  await assert.rejects(trainCommand.run(['--dataset', 'perov_5']), userError(/--config is required/));
  await assert.rejects(trainCommand.run(['--dataset', 'perov_5', '--config', 'huge']), userError(/unknown config "huge"/));
  await assert.rejects(trainCommand.run(['--dataset', 'perov_5', '--config', 'tiny', '--time-budget', 'soon']), userError(/--time-budget: cannot parse duration/));
  await assert.rejects(trainCommand.run(['--dataset', 'perov_5', '--config', 'tiny', '--resume', '--init-from', 'perov5-cpu-small']), userError(/--init-from starts a new run; drop --resume/));
  await assert.rejects(trainCommand.run(['--resume']), userError(/--resume without --config needs --run-dir/));
  await assert.rejects(trainCommand.run(['--resume', '--run-dir', join(tmpdir(), 'no-such-run-dir')]), userError(/--resume: no checkpoint at .*no-such-run-dir.*last\.ckpt/));
  await assert.rejects(trainCommand.run(['--dataset', 'perov_5', '--config', 'tiny', '--init-from', 'no-such-model']), userError(/unknown model "no-such-model"/));
  await assert.rejects(trainCommand.run(['card', 'perov5-cpu-small', '--drop', 'no such row']), userError(/--drop "no such row": the card has no such row/));
  await assert.rejects(plotCommand.run([join(tmpdir(), 'no-such-run-dir')]), userError(/log\.jsonl not found/));
});

test('kldm predict writes structures and trajectories with a model; kldm plot draws the run', async () => {
  const models = mkdtempSync(join(tmpdir(), 'kldm-cli-models-'));
  const runDir = mkdtempSync(join(tmpdir(), 'kldm-cli-run-'));
  const data = miniPerov5();
  await train({
    dataset: 'perov_5', config: tinyConfig({ optim: { batchSize: 8 }, validation: { everyEpochs: 1, lossSubset: 8, matchSubset: 0 } }),
    runDir, maxSteps: 10, train: data.train, val: data.val, stats: data.stats, statusStream: null, logEvery: 2,
  });
  exportModel(join(runDir, 'last.ckpt'), { name: 'cli-test', description: 'test', root: models });
  const out = mkdtempSync(join(tmpdir(), 'kldm-cli-out-'));
  const prev = process.env['KLDM_MODELS_DIR'];
  process.env['KLDM_MODELS_DIR'] = models;
  const log = console.log;
  const printed: string[] = [];
  console.log = (...a: unknown[]) => void printed.push(a.join(' '));
  try {
    const rc = await predictCommand.run(['BaTiO3', '--n', '2', '--steps', '6', '--sampler', 'em', '--out', out, '--trajectory', '--stride', '3', '--quiet']);
    assert.equal(rc, 0);
    assert.equal(await plotCommand.run([runDir]), 0);
    await assert.rejects(plotCommand.run([runDir, '--out', join(out, 'curves.png')]), userError(/writes SVG only/));
  } finally {
    console.log = log;
    if (prev === undefined) delete process.env['KLDM_MODELS_DIR'];
    else process.env['KLDM_MODELS_DIR'] = prev;
  }
  assert.match(printed.join('\n'), /\n0\s+BaTiO3\s+\d/);
  const cif = readFileSync(join(out, 'BaTiO3_1.cif'), 'utf8');
  assert.match(cif, /_cell_length_a/);
  const traj = readFileSync(join(out, 'BaTiO3_0_trajectory.extxyz'), 'utf8');
  assert.equal(traj.split('\n').filter((l) => l === '5').length, 3); // prior, step 3, step 6
  assert.match(traj, /Properties=species:S:1:pos:R:3:vel:R:3/);
  const svg = readFileSync(join(runDir, 'curves.svg'), 'utf8');
  assert.match(svg, /^<svg/);
  assert.match(svg, /<path d="M/);
  assert.ok(existsSync(join(runDir, 'curves.svg')));
});
