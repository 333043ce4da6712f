/**
 * HTTP API tests against the real server on 127.0.0.1 (ephemeral port), with
 * predictions run in real worker threads by the deterministic fake predictor.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createKldmServer, type KldmServer } from './app.js';
import type { ServerLimits } from './limits.js';
import { testServices } from './testing/test-services.js';
import { call, type Reply } from './testing/http-call.js';


async function start(limits: Partial<ServerLimits> = {}): Promise<{ app: KldmServer; url: string }> {
  const app = createKldmServer({ port: 0, services: testServices(), webRoot: null, limits, log: () => {} });
  return { app, url: await app.listen() };
}


async function waitFor(url: string, id: string, done: (s: string) => boolean, timeoutMs = 60_000): Promise<Reply> {
  const t0 = Date.now();
  for (;;) {
    const r = await call(url, 'GET', `/api/jobs/${id}`);
    if (r.status !== 200 || done(r.body.status)) return r;
    if (Date.now() - t0 > timeoutMs) throw new Error(`job ${id} still ${r.body.status} after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

const finished = (s: string): boolean => s === 'done' || s === 'failed' || s === 'cancelled';

function expectFieldError(r: Reply, status: number, field: string): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body.error.status, status);
  assert.equal(r.body.error.field, field, r.text);
  assert.match(r.body.error.message, /\S/);
}

describe('kldm serve API', () => {
  let app: KldmServer;
  let url: string;
  before(async () => ({ app, url } = await start({ concurrency: 2, maxQueued: 8, maxN: 5, maxSteps: 500, maxAtoms: 20 })));
  after(async () => app.close());

  test('health, openapi and models describe the server', async () => {
    const h = await call(url, 'GET', '/api/health');
    assert.equal(h.status, 200);
    assert.equal(h.body.status, 'ok');
    assert.equal(h.body.limits.maxN, 5);
    const o = await call(url, 'GET', '/api/openapi.json');
    assert.equal(o.body.openapi, '3.1.0');
    assert.ok(o.body.paths['/api/predict'].post);
    assert.equal(o.body.components.schemas.PredictRequest.properties.n.maximum, 5);
    const m = await call(url, 'GET', '/api/models');
    assert.deepEqual(m.body.models.map((x: { name: string }) => x.name), ['fake', 'fake-busy', 'fake-error', 'fake-dng']);
    assert.deepEqual(m.body.models.map((x: { task: string }) => x.task), ['csp', 'csp', 'csp', 'dng']);
    assert.match(m.body.models[0].card, /fake/);
    assert.equal(h.headers.get('x-content-type-options'), 'nosniff');
  });

  test('formula validation endpoint counts atoms and names the bad field', async () => {
    const ok = await call(url, 'GET', '/api/formula?formula=Fe2O3&z=2');
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.counts, { Fe: 2, O: 3 });
    assert.equal(ok.body.atoms, 10);
    assert.equal(ok.body.ok, true);
    const big = await call(url, 'GET', '/api/formula?formula=Fe2O3&z=5');
    assert.equal(big.body.ok, false);
    expectFieldError(await call(url, 'GET', '/api/formula?formula=Xq2'), 400, 'formula');
    expectFieldError(await call(url, 'GET', '/api/formula?formula=NaCl&z=abc'), 400, 'z');
  });

  test('happy path: submit, poll to done, results, downloads, trajectory', async () => {
    const sub = await call(url, 'POST', '/api/predict', { formula: 'NaCl', n: 2, z: 2, steps: 40, seed: 7 });
    assert.equal(sub.status, 202, sub.text);
    assert.equal(sub.headers.get('location'), `/api/jobs/${sub.body.id}`);
    assert.deepEqual(sub.body.request, {
      formula: 'NaCl', n: 2, z: 2, sampler: 'em', steps: 40, seed: 7, trajectory: true, trajectoryStride: 1,
    });
    const r = await waitFor(url, sub.body.id, finished);
    assert.equal(r.body.status, 'done', r.text);
    assert.equal(r.body.progress.step, r.body.progress.total);
    assert.equal(r.body.progress.total, 80);
    const samples = r.body.result.samples;
    assert.equal(samples.length, 2);
    assert.deepEqual(samples[0].structure.species, ['Na', 'Na', 'Cl', 'Cl']);
    assert.equal(samples[0].structure.frac.length, 12);
    assert.equal(samples[0].structure.lattice.length, 9);
    assert.equal(samples[0].trajectoryFrames, 41);
    assert.equal(typeof samples[0].valid, 'boolean');
    assert.ok(!('trajectory' in samples[0]), 'job status must not carry trajectories');

    const traj = await call(url, 'GET', `/api/jobs/${sub.body.id}/samples/1/trajectory`);
    assert.equal(traj.status, 200);
    assert.equal(traj.body.frames.length, 41);
    assert.equal(traj.body.frames[0].t, 1);
    assert.equal(traj.body.frames[40].t, 0);
    assert.deepEqual(traj.body.frames[40].frac, samples[1].structure.frac);

    const json = await call(url, 'GET', `/api/jobs/${sub.body.id}/samples/0/download?format=json`);
    assert.deepEqual(json.body, samples[0].structure);
    assert.match(json.headers.get('content-disposition') ?? '', /attachment; filename="NaCl-[0-9a-f]{8}-0\.json"/);
    const cif = await call(url, 'GET', `/api/jobs/${sub.body.id}/samples/0/download?format=cif`);
    assert.equal(cif.status, 200, cif.text);
    assert.match(cif.text, /_cell_length_a\s+\d/);
    const all = await call(url, 'GET', `/api/jobs/${sub.body.id}/download?format=json`);
    assert.equal(all.body.samples[1].trajectory.length, 41);
    expectFieldError(await call(url, 'GET', `/api/jobs/${sub.body.id}/samples/0/download?format=pdb`), 400, 'format');
    expectFieldError(await call(url, 'GET', `/api/jobs/${sub.body.id}/samples/2/download`), 400, 'sample');
    expectFieldError(await call(url, 'GET', `/api/jobs/${sub.body.id}/samples/..%2F..%2Fetc/download`), 400, 'sample');

    // the uploaded CIF round trip: parse the downloaded CIF and match it with itself
    const parsed = await call(url, 'POST', '/api/parse', { cif: cif.text });
    assert.equal(parsed.status, 200, parsed.text);
    assert.deepEqual(parsed.body.structure.species, ['Na', 'Na', 'Cl', 'Cl']);
    const m = await call(url, 'POST', '/api/match', { cif_a: cif.text, cif_b: cif.text });
    assert.equal(m.status, 200, m.text);
    assert.equal(m.body.match, true);
    assert.equal(m.body.rms, 0);
  });

  test('a formula with its own multiple combines with z', async () => {
    const sub = await call(url, 'POST', '/api/predict', { formula: 'NaClx2', z: 2, steps: 3, trajectory: false });
    assert.equal(sub.status, 202, sub.text);
    const r = await waitFor(url, sub.body.id, finished);
    assert.equal(r.body.status, 'done', r.text);
    assert.deepEqual(r.body.result.samples[0].structure.species, ['Na', 'Na', 'Na', 'Na', 'Cl', 'Cl', 'Cl', 'Cl']);
  });

  test('same seed gives the same structures; the job list shows the jobs', async () => {
    const a = await call(url, 'POST', '/api/predict', { formula: 'LiF', steps: 10, seed: 3, trajectory: false });
    const b = await call(url, 'POST', '/api/predict', { formula: 'LiF', steps: 10, seed: 3, trajectory: false });
    const ra = await waitFor(url, a.body.id, finished);
    const rb = await waitFor(url, b.body.id, finished);
    assert.deepEqual(ra.body.result.samples[0].structure, rb.body.result.samples[0].structure);
    assert.equal(ra.body.result.samples[0].trajectoryFrames, 0);
    const list = await call(url, 'GET', '/api/jobs');
    const ids = list.body.jobs.map((j: { id: string }) => j.id);
    assert.ok(ids.includes(a.body.id) && ids.includes(b.body.id));
  });

  test('Server-Sent Events stream status, progress, frames and the end', async () => {
    const sub = await call(url, 'POST', '/api/predict', { formula: 'KBr', steps: 30, seed: 1 });
    const res = await fetch(`${url}/api/jobs/${sub.body.id}/events`);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const text = await res.text(); // the server closes the stream after "end"
    const events = [...text.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map((m) => ({ event: m[1]!, data: JSON.parse(m[2]!) }));
    const kinds = new Set(events.map((e) => e.event));
    for (const k of ['status', 'progress', 'frame', 'end']) assert.ok(kinds.has(k), `missing ${k} event`);
    const frames = events.filter((e) => e.event === 'frame');
    assert.equal(frames.length, 31);
    assert.deepEqual(frames.map((f) => f.data.index), [...Array(31).keys()]);
    assert.equal(events.at(-1)!.event, 'end');
    assert.equal(events.at(-1)!.data.status, 'done');
    // after the end the stream replays everything at once
    const again = await (await fetch(`${url}/api/jobs/${sub.body.id}/events`)).text();
    assert.equal([...again.matchAll(/^event: frame$/gm)].length, 31);
  });

  test('an event stream opened mid-run replays the frames so far, then follows live, without gaps or repeats', async () => {
    const sub = await call(url, 'POST', '/api/predict', { formula: 'KBr', steps: 150, seed: 2 });
    await waitFor(url, sub.body.id, (s) => s === 'running');
    for (;;) {
      const r = await call(url, 'GET', `/api/jobs/${sub.body.id}`);
      if (r.body.progress.step >= 20) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    const text = await (await fetch(`${url}/api/jobs/${sub.body.id}/events`)).text();
    const frames = [...text.matchAll(/^event: frame\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as { sample: number; index: number });
    assert.deepEqual(frames.map((f) => f.index), [...Array(151).keys()]);
    const progress = [...text.matchAll(/^event: progress\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as { step: number });
    assert.ok(progress[0]!.step >= 20, 'the first progress event is the state at connect time');
    assert.ok(progress.every((p, i) => i === 0 || p.step >= progress[i - 1]!.step), 'progress never goes back');
  });

  test('malformed and out-of-limit predict requests name the bad field', async () => {
    const bad: [unknown, string][] = [
      [{ formula: 'Xx2O' }, 'formula'],
      [{ formula: '' }, 'formula'],
      [{ formula: 42 }, 'formula'],
      [{}, 'formula'],
      [{ formula: 'NaCl((' }, 'formula'],
      [{ formula: 'NaCl', n: 1000000 }, 'n'],
      [{ formula: 'NaCl', n: 0 }, 'n'],
      [{ formula: 'NaCl', n: '2' }, 'n'],
      [{ formula: 'NaCl', n: 1.5 }, 'n'],
      [{ formula: 'NaCl', steps: 100000 }, 'steps'],
      [{ formula: 'NaCl', steps: true }, 'steps'],
      [{ formula: 'NaCl', seed: -1 }, 'seed'],
      [{ formula: 'NaCl', z: 0 }, 'z'],
      [{ formula: 'NaCl', z: 9 }, 'z'],
      [{ formula: 'Fe2O3', z: 5 }, 'z'],
      [{ formula: 'C30' }, 'formula'],
      [{ formula: 'NaCl', sampler: 'rk4' }, 'sampler'],
      [{ formula: 'NaCl', model: '../../etc/passwd' }, 'model'],
      [{ formula: 'NaCl', model: 'nope' }, 'model'],
      [{ formula: 'NaCl', trajectory: 'yes' }, 'trajectory'],
      [{ formula: 'NaCl', path: '/etc/passwd' }, 'path'],
      [[1, 2], 'body'],
      ['null', 'body'],
    ];
    for (const [body, field] of bad) {
      expectFieldError(await call(url, 'POST', '/api/predict', body), 400, field);
    }
    expectFieldError(await call(url, 'POST', '/api/predict', '{"formula": "NaCl",'), 400, 'body');
    expectFieldError(await call(url, 'POST', '/api/predict', ''), 400, 'body');
    expectFieldError(await call(url, 'POST', '/api/predict', 'formula=NaCl', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'content-type');
  });

  test('oversized body is refused with 413', async () => {
    const huge = JSON.stringify({ formula: 'NaCl', pad: 'x'.repeat(2 << 20) });
    const r = await call(url, 'POST', '/api/predict', huge).catch((err: Error) => ({ status: -1, text: err.message }) as Reply);
    // the server answers 413 and closes; fetch may report the closed socket instead of the answer
    if (r.status !== -1) expectFieldError(r, 413, 'body');
    const m = await call(url, 'POST', '/api/match', { cif_a: 'x'.repeat(1.5 * (1 << 20)), cif_b: '' }).catch(
      (err: Error) => ({ status: -1, text: err.message }) as Reply,
    );
    if (m.status !== -1) expectFieldError(m, 413, 'body');
    assert.ok(r.status === 413 || m.status === 413, 'at least one 413 answer must reach the client');
    assert.equal((await call(url, 'GET', '/api/health')).status, 200, 'server still serves after 413');
  });

  test('unknown ids, routes and methods', async () => {
    expectFieldError(await call(url, 'GET', '/api/jobs/does-not-exist'), 404, 'id');
    expectFieldError(await call(url, 'DELETE', '/api/jobs/does-not-exist'), 404, 'id');
    expectFieldError(await call(url, 'GET', '/api/jobs/does-not-exist/events'), 404, 'id');
    expectFieldError(await call(url, 'GET', '/api/nothing'), 404, 'path');
    expectFieldError(await call(url, 'GET', '/../../etc/passwd'), 404, 'path');
    const r = await call(url, 'PUT', '/api/health');
    expectFieldError(r, 405, 'method');
    assert.equal(r.headers.get('allow'), 'GET');
  });

  test('a foreign Host header is refused (DNS rebinding)', async () => {
    const port = new URL(url).port;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/api/health', headers: { host: 'evil.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 403);
  });

  test('cancel a running job (cooperative abort) and a job that never yields (thread terminated)', async () => {
    const sub = await call(url, 'POST', '/api/predict', { formula: 'NaCl', steps: 500, seed: 2 });
    await waitFor(url, sub.body.id, (s) => s === 'running');
    const del = await call(url, 'DELETE', `/api/jobs/${sub.body.id}`);
    assert.ok(del.status === 202 || del.status === 200);
    const r = await waitFor(url, sub.body.id, finished, 5000);
    assert.equal(r.body.status, 'cancelled');
    assert.equal(r.body.error.code, 'cancelled');
    assert.equal(r.body.result, null);

    const busy = await call(url, 'POST', '/api/predict', { formula: 'NaCl', model: 'fake-busy' });
    await waitFor(url, busy.body.id, (s) => s === 'running');
    await new Promise((res) => setTimeout(res, 200));
    const t0 = Date.now();
    await call(url, 'DELETE', `/api/jobs/${busy.body.id}`);
    const rb = await waitFor(url, busy.body.id, finished, 5000);
    assert.equal(rb.body.status, 'cancelled');
    assert.ok(Date.now() - t0 < 3000);
    assert.equal((await call(url, 'GET', '/api/health')).status, 200);
  });

  test('a predictor input error fails the job with a clear message', async () => {
    const sub = await call(url, 'POST', '/api/predict', { formula: 'NaCl', model: 'fake-error' });
    const r = await waitFor(url, sub.body.id, finished);
    assert.equal(r.body.status, 'failed');
    assert.equal(r.body.error.code, 'invalid_input');
    assert.match(r.body.error.message, /does not support/);
  });

  test('datasets: listing, paging, filters and bounds', async () => {
    const l = await call(url, 'GET', '/api/datasets');
    assert.deepEqual(l.body.datasets, [{ name: 'toy', splits: ['test'] }]);
    const p = await call(url, 'GET', '/api/datasets/toy/test?offset=1&limit=1');
    assert.equal(p.status, 200);
    assert.equal(p.body.total, 3);
    assert.equal(p.body.items.length, 1);
    assert.equal(p.body.items[0].id, 'ds-1');
    const f = await call(url, 'GET', '/api/datasets/toy/test?formula=NaCl');
    assert.deepEqual(f.body.items.map((e: { id: string }) => e.id), ['ds-0']);
    expectFieldError(await call(url, 'GET', '/api/datasets/toy/test?limit=1000'), 400, 'limit');
    expectFieldError(await call(url, 'GET', '/api/datasets/toy/test?offset=-1'), 400, 'offset');
    expectFieldError(await call(url, 'GET', '/api/datasets/nope/test'), 404, 'name');
    expectFieldError(await call(url, 'GET', '/api/datasets/toy/train'), 404, 'split');
    expectFieldError(await call(url, 'GET', '/api/datasets/..%2Fsecret/test'), 400, 'name');
    expectFieldError(await call(url, 'GET', '/api/datasets/toy/test?formula=%3Cscript%3E'), 400, 'formula');
  });

  test('match and parse name the bad CIF field', async () => {
    expectFieldError(await call(url, 'POST', '/api/match', { cif_a: 'not a cif', cif_b: 'x' }), 400, 'cif_a');
    expectFieldError(await call(url, 'POST', '/api/match', { cif_a: 'data_x' }), 400, 'cif_a');
    expectFieldError(await call(url, 'POST', '/api/match', { cif_b: 'x' }), 400, 'cif_a');
    expectFieldError(await call(url, 'POST', '/api/parse', { cif: 12 }), 400, 'cif');
    expectFieldError(await call(url, 'POST', '/api/parse', { cif: 'x', extra: 1 }), 400, 'extra');
  });
});

describe('kldm serve static page', () => {
  test('serves only the files of the web root, from memory, with a CSP; no traversal', async () => {
    const { mkdtempSync, writeFileSync, mkdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const root = mkdtempSync(join(tmpdir(), 'kldm-web-test-'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(root, 'app.js'), 'console.log(1)');
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'sub', 'x.css'), 'body{}');
    writeFileSync(join(root, 'secret.key'), 'not served: unknown type');
    const app = createKldmServer({ port: 0, services: testServices(), webRoot: root, log: () => {} });
    const url = await app.listen();
    try {
      const index = await fetch(url + '/');
      assert.equal(index.status, 200);
      assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.equal(await index.text(), '<!doctype html><title>t</title>');
      assert.equal((await fetch(url + '/app.js')).headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.equal((await fetch(url + '/sub/x.css')).status, 200);
      assert.equal((await fetch(url + '/secret.key')).status, 404);
      writeFileSync(join(root, 'late.js'), 'added after start: not served');
      assert.equal((await fetch(url + '/late.js')).status, 404);
      for (const p of ['/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/etc/passwd', '/sub/../../package.json', '//etc/passwd']) {
        assert.equal((await fetch(url + p)).status, 404, p);
      }
      assert.equal((await call(url, 'POST', '/', { a: 1 })).status, 405);
    } finally {
      await app.close();
    }
  });
});

describe('kldm serve errors from the library', () => {
  test('a KldmError (installation problem) is a 500 with its message; other errors a generic 500', async () => {
    const { KldmError } = await import('../util/errors.js');
    const services = testServices({
      listModels: async () => {
        throw new KldmError('models/x/model.json: not a kldm model manifest');
      },
      listDatasets: async () => {
        throw new TypeError('secret internals');
      },
    });
    const logged: string[] = [];
    const app = createKldmServer({ port: 0, services, webRoot: null, log: (l) => logged.push(l) });
    const url = await app.listen();
    try {
      const m = await call(url, 'GET', '/api/models');
      assert.equal(m.status, 500);
      assert.equal(m.body.error.code, 'server_error');
      assert.match(m.body.error.message, /not a kldm model manifest/);
      const d = await call(url, 'GET', '/api/datasets');
      assert.equal(d.status, 500);
      assert.equal(d.body.error.message, 'internal server error');
      assert.ok(!d.text.includes('secret'));
      assert.ok(logged.some((l) => l.includes('secret internals')), 'the bug is logged on the server');
    } finally {
      await app.close();
    }
  });
});

describe('kldm serve limits', () => {
  test('queue full gives 429 with Retry-After; cancelling a queued job frees its place', async () => {
    const { app, url } = await start({ concurrency: 1, maxQueued: 1 });
    try {
      const a = await call(url, 'POST', '/api/predict', { formula: 'NaCl', model: 'fake-busy' });
      const b = await call(url, 'POST', '/api/predict', { formula: 'NaCl', model: 'fake-busy' });
      assert.equal(a.status, 202);
      assert.equal(b.status, 202);
      assert.equal(b.body.queuePosition, 1);
      const c = await call(url, 'POST', '/api/predict', { formula: 'NaCl' });
      assert.equal(c.status, 429, c.text);
      assert.equal(c.body.error.code, 'queue_full');
      assert.equal(c.headers.get('retry-after'), '5');
      const del = await call(url, 'DELETE', `/api/jobs/${b.body.id}`);
      assert.equal(del.status, 200);
      assert.equal(del.body.status, 'cancelled');
      const d = await call(url, 'POST', '/api/predict', { formula: 'NaCl' });
      assert.equal(d.status, 202);
      assert.equal((await call(url, 'GET', '/api/health')).body.jobs.queued, 1);
    } finally {
      await app.close();
    }
  });

  test('run-time cap stops a job that runs too long', async () => {
    const { app, url } = await start({ maxJobMs: 300 });
    try {
      const a = await call(url, 'POST', '/api/predict', { formula: 'NaCl', model: 'fake-busy' });
      const r = await waitFor(url, a.body.id, finished, 5000);
      assert.equal(r.body.status, 'failed');
      assert.equal(r.body.error.code, 'timeout');
    } finally {
      await app.close();
    }
  });

  test('finished results are evicted after their time-to-live and beyond the memory budget', async () => {
    const { app, url } = await start({ resultTtlMs: 200 });
    try {
      const a = await call(url, 'POST', '/api/predict', { formula: 'NaCl', steps: 5 });
      assert.equal((await waitFor(url, a.body.id, finished)).body.status, 'done');
      await new Promise((res) => setTimeout(res, 1300)); // sweeper runs every max(1 s, ttl/4)
      expectFieldError(await call(url, 'GET', `/api/jobs/${a.body.id}`), 404, 'id');
    } finally {
      await app.close();
    }
    const small = await start({ maxResultBytes: 1 });
    try {
      const a = await call(small.url, 'POST', '/api/predict', { formula: 'NaCl', steps: 5 });
      await waitFor(small.url, a.body.id, finished);
      const b = await call(small.url, 'POST', '/api/predict', { formula: 'NaCl', steps: 5 });
      await waitFor(small.url, b.body.id, finished);
      expectFieldError(await call(small.url, 'GET', `/api/jobs/${a.body.id}`), 404, 'id');
    } finally {
      await small.app.close();
    }
  });
});
