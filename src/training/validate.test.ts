import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toParameters } from '../crystal/lattice.js';
import { matchStructures } from '../eval/match.js';
import { Rng } from '../util/rng.js';
import { BatchSource } from './batches.js';
import { resolveConfig } from './config.js';
import { netConfigOf, TrainableModel } from './model.js';
import { miniPerov5 } from './testFixtures.js';
import { structureOfSplit, validationLoss, validationMatchRate } from './validate.js';
import { GaussianLatticeNet } from '../sampling/analyticNetworks.js';
import { latticeToFeatures } from '../diffusion/latticeFeatures.js';

const data = miniPerov5();
const config = resolveConfig('tiny');
const net = TrainableModel.fresh(netConfigOf(config.model), config.optim, 0.999, new Rng(2)).net;
const source = new BatchSource(data.val, data.stats);

test('ground-truth structures of a split keep lattice, species order and coordinates', () => {
  const s = structureOfSplit(data.val, 3);
  const p = toParameters(s.lattice);
  assert.ok(Math.abs(p.a - data.val.lengths[9]!) < 1e-4);
  assert.ok(Math.abs(p.gamma - data.val.angles[11]!) < 1e-4);
  assert.equal(s.species.length, 5);
  assert.equal(s.frac[0], data.val.frac[3 * data.val.atomOffsets[3]!]);
  // a structure matches itself under the CSP matcher (spec §9)
  assert.equal(matchStructures(s, s).match, true);
});

test('validation match rate samples the first crystals and averages the scorer over them', () => {
  const cfg = { ...config.validation, matchSubset: 6, samplerSteps: 5 };
  let calls = 0;
  const always = validationMatchRate(net, source, data.stats, cfg, () => (calls++, { match: true, rms: 0.1 * calls }), 1);
  assert.equal(always.crystals, 6);
  assert.equal(calls, 6);
  assert.equal(always.matchRate, 1);
  assert.ok(Math.abs(always.rmse! - 0.35) < 1e-12); // mean of 0.1..0.6
  const never = validationMatchRate(net, source, data.stats, cfg, () => ({ match: false, rms: null }), 1);
  assert.deepEqual(never, { matchRate: 0, rmse: null, crystals: 6 });
});

test('validation loss is reproducible for a seed and covers the requested crystals', () => {
  const a = validationLoss(net, source, 5, 2, 11);
  const b = validationLoss(net, source, 5, 4, 11);
  assert.equal(a.crystals, 5);
  assert.ok(Number.isFinite(a.loss) && a.loss > 0);
  assert.deepEqual(validationLoss(net, source, 5, 2, 11), a);
  assert.ok(Math.abs(a.loss - (a.lossV + a.lossL) / 2) < 1e-12);
  assert.equal(b.crystals, 5);
});

test('validation sampling uses the model\'s lattice parameterisation (spec §4): an ε-head of a known Gaussian lands on it only with eps', () => {
  // exact score of l_0 ~ N(0.7, 0.3²) per feature, written as an ε-head
  const epsNet = new GaussianLatticeNet(0.7, 0.3, false, 'eps');
  const cfg = { ...config.validation, matchSubset: 8, samplerSteps: 100 };
  const meanFeature = (lattice: 'x0' | 'eps'): number => {
    const features: number[] = [];
    validationMatchRate(epsNet, source, data.stats, cfg, (pred) => {
      features.push(...latticeToFeatures(toParameters(pred.lattice), pred.species.length, data.stats));
      return { match: false, rms: null };
    }, 1, lattice);
    assert.equal(features.length, 8 * 6);
    return features.reduce((s, x) => s + x, 0) / features.length;
  };
  const eps = meanFeature('eps');
  assert.ok(Math.abs(eps - 0.7) < 0.2, `eps: mean feature ${eps}`); // sd of the mean of 48 draws ≈ 0.04
  const x0 = meanFeature('x0');
  assert.ok(Math.abs(x0 - 0.7) > 1, `x0 reading of the ε-head: mean feature ${x0}`);
});
