/**
 * The server over the real library (default services): benchmark datasets from
 * the asset store, CIF parsing and writing (CIF/POSCAR/extXYZ) from src/crystal, and the
 * CSP matcher from src/eval. Predictions use the fake predictor here (the
 * end-to-end prediction test with a shipped model is predict-e2e.slow.test.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createKldmServer, type KldmServer } from './app.js';
import { defaultServices } from './default-services.js';
import { WorkerPool } from './worker-pool.js';
import { fakePredictModule } from './testing/test-services.js';

describe('kldm serve over the real library', () => {
  let app: KldmServer;
  let url: string;
  before(async () => {
    app = createKldmServer({
      port: 0,
      // the fake predictor needs no installed model
      services: { ...defaultServices(), runner: new WorkerPool({ predictModule: fakePredictModule() }), precheck: async () => {} },
      webRoot: null,
      log: () => {},
    });
    url = await app.listen();
  });
  after(async () => app.close());

  const get = async (path: string): Promise<{ status: number; body: any }> => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const r = await fetch(url + path);
    return { status: r.status, body: await r.json() };
  };
  const post = async (path: string, body: unknown): Promise<{ status: number; body: any }> => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const r = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() };
  };

  test('datasets are listed and paged from the installed splits', async () => {
    const l = await get('/api/datasets');
    const perov = l.body.datasets.find((d: { name: string }) => d.name === 'perov_5');
    assert.deepEqual(perov.splits, ['train', 'val', 'test']);
    const p = await get('/api/datasets/perov_5/test?offset=10&limit=3');
    assert.equal(p.status, 200);
    assert.equal(p.body.total, 3785);
    assert.equal(p.body.items.length, 3);
    for (const it of p.body.items) {
      assert.equal(it.structure.species.length, 5);
      assert.equal(it.structure.frac.length, 15);
      assert.match(it.id, /\S/);
      assert.match(it.cif, /data_/);
    }
    const missing = await get('/api/datasets/carbon_24/train');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.field, 'split');
  });

  test('formula filter finds the rows with that reduced composition', async () => {
    const first = await get('/api/datasets/perov_5/test?limit=1');
    const formula: string = first.body.items[0].formula;
    const f = await get(`/api/datasets/perov_5/test?limit=100&formula=${encodeURIComponent(formula)}`);
    assert.equal(f.status, 200);
    assert.ok(f.body.total >= 1);
    assert.ok(f.body.items.some((it: { id: string }) => it.id === first.body.items[0].id));
    for (const it of f.body.items) assert.equal(it.formula, formula);
    const bad = await get('/api/datasets/perov_5/test?formula=Qq2');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'formula');
  });

  test('match compares CIFs with the CSP matcher; downloads use the real writers', async () => {
    const sub = await post('/api/predict', { formula: 'NaCl', steps: 5, seed: 4 });
    assert.equal(sub.status, 202);
    for (;;) {
      const r = await get(`/api/jobs/${sub.body.id}`);
      if (r.body.status === 'done') break;
      assert.ok(r.body.status === 'running' || r.body.status === 'queued', JSON.stringify(r.body.error));
      await new Promise((res) => setTimeout(res, 20));
    }
    const texts: Record<string, string> = {};
    for (const format of ['cif', 'poscar', 'extxyz']) {
      const r = await fetch(`${url}/api/jobs/${sub.body.id}/samples/0/download?format=${format}`);
      assert.equal(r.status, 200);
      texts[format] = await r.text();
    }
    assert.match(texts.cif!, /_symmetry_space_group_name_H-M|_space_group_name_H-M_alt/);
    assert.match(texts.poscar!.split('\n')[5]!, /Na\s+Cl/);
    assert.match(texts.extxyz!.split('\n')[1]!, /Lattice="/);
    const same = await post('/api/match', { cif_a: texts.cif, cif_b: texts.cif });
    assert.equal(same.status, 200);
    assert.equal(same.body.match, true);
    assert.ok(Math.abs(same.body.rms) < 1e-6);
    const page = await get('/api/datasets/perov_5/test?limit=1');
    const perovCif = await fetch(`${url}/api/jobs/${sub.body.id}/download?format=cif`).then((r) => r.text());
    assert.match(perovCif, /data_/);
    // the same cell with K in place of Na: a different composition never matches
    const parsed = page.body.items[0].structure;
    assert.equal(parsed.species.length, 5);
    const other = await post('/api/match', { cif_a: texts.cif, cif_b: texts.cif.replace(/\bNa\b/g, 'K') });
    assert.equal(other.status, 200);
    assert.equal(other.body.match, false);
    assert.equal(other.body.rms, null);
  });
});
