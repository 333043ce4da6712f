/**
 * End to end over the whole real library: a tiny model is trained and exported
 * into a temporary models folder (as src/predict/predict.test.ts does), then
 * the real server (default services: predictStructures in worker threads,
 * crystal I/O, the CSP matcher) answers a prediction from submit to download.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../training/trainer.js';
import { miniPerov5, tinyConfig } from '../training/testFixtures.js';
import { exportModel } from '../predict/registry.js';
import { predictStructures } from '../predict/predict.js';
import { createKldmServer, type KldmServer } from './app.js';
import { defaultServices } from './default-services.js';

describe('kldm serve end to end with a trained tiny model', () => {
  let app: KldmServer;
  let url: string;
  const previousModelsDir = process.env['KLDM_MODELS_DIR'];

  before(async () => {
    const modelsDir = mkdtempSync(join(tmpdir(), 'kldm-serve-models-'));
    process.env['KLDM_MODELS_DIR'] = modelsDir; // read by the registry here and in the worker threads
    const data = miniPerov5();
    const runDir = mkdtempSync(join(tmpdir(), 'kldm-serve-run-'));
    const config = tinyConfig({ optim: { batchSize: 8, lr: 3e-3 }, schedule: { maxEpochs: -1, emaStartEpoch: 2 }, validation: { everyEpochs: 0 } });
    await train({ dataset: 'perov_5', config, runDir, seed: 9, maxSteps: 20, train: data.train, stats: data.stats, statusStream: null });
    exportModel(join(runDir, 'last.ckpt'), { name: 'tiny-perov', description: 'server test model', rank: 1 });
    app = createKldmServer({ port: 0, services: defaultServices(), webRoot: null, log: () => {} });
    url = await app.listen();
  });
  after(async () => {
    await app?.close();
    if (previousModelsDir === undefined) delete process.env['KLDM_MODELS_DIR'];
    else process.env['KLDM_MODELS_DIR'] = previousModelsDir;
  });

  const json = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'content-type': 'application/json' };
    }
    const r = await fetch(url + path, init);
    return { status: r.status, body: await r.json() };
  };
  const waitDone = async (id: string): Promise<any> => { // eslint-disable-line @typescript-eslint/no-explicit-any
    for (;;) {
      const r = await json('GET', `/api/jobs/${id}`);
      if (!['queued', 'running'].includes(r.body.status)) return r.body;
      await new Promise((res) => setTimeout(res, 25));
    }
  };

  test('models are listed; predictions run in a worker and equal an in-process call with the same seed', async () => {
    const models = await json('GET', '/api/models');
    assert.deepEqual(models.body.models.map((m: { name: string }) => m.name), ['tiny-perov']);
    assert.equal(models.body.models[0].meta.dataset, 'perov_5');

    const sub = await json('POST', '/api/predict', { formula: 'SrTiO3', n: 2, steps: 20, seed: 4, sampler: 'em' });
    assert.equal(sub.status, 202, JSON.stringify(sub.body));
    const job = await waitDone(sub.body.id);
    assert.equal(job.status, 'done', JSON.stringify(job.error));
    assert.equal(job.result.model, 'tiny-perov');
    assert.equal(job.progress.step, job.progress.total);
    const direct = await predictStructures('SrTiO3', { n: 2, steps: 20, seed: 4, sampler: 'em' });
    for (let k = 0; k < 2; k++) {
      const s = job.result.samples[k];
      assert.deepEqual(s.structure.species, ['Sr', 'Ti', 'O', 'O', 'O']);
      assert.deepEqual(s.structure.frac, Array.from(direct.samples[k]!.structure.frac));
      assert.deepEqual(s.structure.lattice, Array.from(direct.samples[k]!.structure.lattice));
      assert.equal(s.valid, direct.samples[k]!.valid);
    }
    // the trajectory: stride ceil(20/200) = 1 -> the prior plus 20 steps
    const traj = await json('GET', `/api/jobs/${sub.body.id}/samples/0/trajectory`);
    assert.equal(traj.body.frames.length, 21);
    assert.equal(traj.body.frames[0].t, 1);
    assert.equal(traj.body.frames[0].vel.length, 15);
    // downloads through the real writers, and the matcher on the CIF (a structure matches itself)
    const cif = await (await fetch(`${url}/api/jobs/${sub.body.id}/samples/0/download?format=cif`)).text();
    const m = await json('POST', '/api/match', { cif_a: cif, cif_b: cif });
    assert.equal(m.body.match, true);
    assert.ok(m.body.rms < 1e-6);
  });

  test('requests no model can serve are refused at submit time, naming the field', async () => {
    const big = await json('POST', '/api/predict', { formula: 'SrTiO3', z: 2, steps: 5 });
    assert.equal(big.status, 400);
    assert.equal(big.body.error.field, 'z');
    assert.match(big.body.error.message, /no shipped model generates cells of 10 atoms/);
    const unknown = await json('POST', '/api/predict', { formula: 'SrTiO3', model: 'nope', steps: 5 });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.field, 'model');
  });

  test('a running real prediction is cancelled', async () => {
    const sub = await json('POST', '/api/predict', { formula: 'SrTiO3', n: 4, steps: 2000, seed: 1 });
    assert.equal(sub.status, 202);
    for (;;) {
      const r = await json('GET', `/api/jobs/${sub.body.id}`);
      if (r.body.progress.step > 0) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    await json('DELETE', `/api/jobs/${sub.body.id}`);
    const job = await waitDone(sub.body.id);
    assert.equal(job.status, 'cancelled');
  });
});
