import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { latticeParameterisationOf, parseOverrides, PRESETS, resolveConfig, resolveSavedConfig, type TrainConfig } from './config.js';

test('the paper preset is the published configuration (spec §2, §8)', () => {
  const c = resolveConfig('paper');
  assert.deepEqual(c.model, { hidden: 512, timeDim: 256, layers: 6, frequencies: 128 });
  assert.equal(c.optim.batchSize, 256);
  assert.equal(c.optim.lr, 1e-3);
  assert.equal(c.optim.weightDecay, 1e-12);
  assert.equal(c.optim.amsgrad, true);
  assert.equal(c.schedule.emaDecay, 0.999);
  assert.equal(c.schedule.emaStartEpoch, 500);
  assert.equal(c.validation.everyEpochs, 100);
  assert.equal(c.validation.samplerSteps, 1000);
});

test('resolving returns a copy: editing it does not change the preset', () => {
  const c = resolveConfig('cpu-small');
  c.model.hidden = 7;
  assert.notEqual(PRESETS['cpu-small']!.model.hidden, 7);
});

test('overrides from flags are typed and validated', () => {
  const c = resolveConfig('cpu-small', parseOverrides(['optim.lr=5e-4', 'validation.sampler=pc', 'schedule.emaStartEpoch=3']));
  assert.equal(c.optim.lr, 5e-4);
  assert.equal(c.validation.sampler, 'pc');
  assert.equal(c.schedule.emaStartEpoch, 3);
  assert.throws(() => resolveConfig('paper', parseOverrides(['optim.lr=-1'])), /"optim.lr" must be > 0/);
  assert.throws(() => resolveConfig('paper', parseOverrides(['model.hiden=3'])), /unknown config field "model.hiden"/);
  assert.throws(() => resolveConfig('paper', parseOverrides(['model.timeDim=7'])), /must be even/);
  assert.throws(() => parseOverrides(['lr']), /expected key=value/);
});

test('a config file names a base preset and overrides some fields', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-config-'));
  const file = join(dir, 'my.json');
  writeFileSync(file, JSON.stringify({ base: 'cpu-medium', model: { layers: 3 }, optim: { batchSize: 64 } }));
  const c = resolveConfig(file);
  assert.equal(c.model.layers, 3);
  assert.equal(c.model.hidden, PRESETS['cpu-medium']!.model.hidden);
  assert.equal(c.optim.batchSize, 64);
  writeFileSync(file, '{ not json');
  assert.throws(() => resolveConfig(file), /invalid JSON/);
  writeFileSync(file, JSON.stringify({ base: 'nope' }));
  assert.throws(() => resolveConfig(file), /"base" must be one of/);
  assert.throws(() => resolveConfig('no-such-preset'), /unknown config "no-such-preset"/);
});

test('a saved config resumes as saved, with overrides; fields newer than the checkpoint take the preset default', () => {
  const saved = resolveConfig('cpu-small', parseOverrides(['schedule.emaStartEpoch=10', 'optim.microBatch=64']));
  // a checkpoint written before optim.warmupSteps existed
  const old = JSON.parse(JSON.stringify(saved)) as TrainConfig & { optim: Record<string, unknown> };
  delete old.optim['warmupSteps'];
  delete old.optim['decaySteps'];
  delete old.optim['minLrRatio'];
  delete (old.validation as unknown as Record<string, unknown>)['bestBy'];
  const r = resolveSavedConfig(old, parseOverrides(['validation.everyEpochs=20']));
  assert.equal(r.validation.bestBy, 'match'); // the only criterion before validation.bestBy existed
  assert.equal(resolveSavedConfig(old, parseOverrides(['validation.bestBy=loss'])).validation.bestBy, 'loss');
  assert.throws(() => resolveConfig('cpu-small', parseOverrides(['validation.bestBy=rmse'])), /"validation\.bestBy" must be "match" or "loss" \(got "rmse"\)/);
  assert.equal(r.name, 'cpu-small');
  assert.equal(r.schedule.emaStartEpoch, 10);
  assert.equal(r.optim.microBatch, 64);
  assert.equal(r.optim.warmupSteps, 0);
  assert.equal(r.optim.decaySteps, 0); // no decay: the constant rate it was trained with
  assert.equal(r.optim.minLrRatio, 0.01);
  assert.equal(r.validation.everyEpochs, 20);
  assert.deepEqual(resolveSavedConfig(saved), saved);
  // a saved config from a file keeps its name and falls back to the paper defaults for new fields
  const fromFile = { ...saved, name: 'runs/my.json' };
  assert.equal(resolveSavedConfig(fromFile).name, 'runs/my.json');
  assert.throws(() => resolveSavedConfig(saved, parseOverrides(['optim.lr=-1'])), /optim\.lr/);
});

test('engine.precision: f32 in every preset, bf16 by override or file, anything else rejected; runs saved before it resume in f32', () => {
  for (const name of Object.keys(PRESETS)) assert.equal(resolveConfig(name).engine.precision, 'f32', name);
  assert.equal(resolveConfig('cpu-small', parseOverrides(['engine.precision=bf16'])).engine.precision, 'bf16');
  assert.throws(() => resolveConfig('cpu-small', parseOverrides(['engine.precision=fp16'])), /"engine\.precision" must be "f32" or "bf16" \(got "fp16"\)/);
  const saved = resolveConfig('cpu-small', parseOverrides(['engine.precision=bf16']));
  assert.equal(resolveSavedConfig(saved).engine.precision, 'bf16');
  assert.equal(resolveSavedConfig(saved, parseOverrides(['engine.precision=f32'])).engine.precision, 'f32');
  const old = JSON.parse(JSON.stringify(saved)) as Partial<TrainConfig>;
  delete old.engine;
  assert.equal(resolveSavedConfig(old as TrainConfig).engine.precision, 'f32');
});

test('lattice.parameterisation (spec §4): x0 in every preset, eps by --set or file, anything else rejected; runs saved before it read as x0', () => {
  for (const name of Object.keys(PRESETS)) assert.equal(resolveConfig(name).lattice.parameterisation, 'x0', name);
  const eps = resolveConfig('cpu-small', parseOverrides(['lattice.parameterisation=eps']));
  assert.equal(eps.lattice.parameterisation, 'eps');
  assert.throws(() => resolveConfig('cpu-small', parseOverrides(['lattice.parameterisation=epsilon'])), /"lattice\.parameterisation" must be "x0" or "eps" \(spec §4; got "epsilon"\)/);
  assert.throws(() => resolveConfig('cpu-small', parseOverrides(['lattice.param=eps'])), /unknown config field "lattice\.param"/);
  const dir = mkdtempSync(join(tmpdir(), 'kldm-config-'));
  const file = join(dir, 'eps.json');
  writeFileSync(file, JSON.stringify({ base: 'tiny', lattice: { parameterisation: 'eps' } }));
  assert.equal(resolveConfig(file).lattice.parameterisation, 'eps');
  // a resumed eps run stays eps; a checkpoint written before the field existed resumes as x0
  assert.equal(resolveSavedConfig(eps).lattice.parameterisation, 'eps');
  const old = JSON.parse(JSON.stringify(eps)) as Partial<TrainConfig>;
  delete old.lattice;
  assert.equal(resolveSavedConfig(old as TrainConfig).lattice.parameterisation, 'x0');
  // the reader of saved configs (checkpoints, model manifests)
  assert.equal(latticeParameterisationOf(old, 'old.ckpt'), 'x0');
  assert.equal(latticeParameterisationOf(null, 'model.json'), 'x0');
  assert.equal(latticeParameterisationOf(eps, 'new.ckpt'), 'eps');
  assert.throws(() => latticeParameterisationOf({ lattice: { parameterisation: 'v' as 'x0' } }, 'odd.ckpt'), /odd\.ckpt: unknown lattice parameterisation "v"/);
});
