/**
 * The server's pool of long-lived prediction worker processes (issue #16): a
 * worker serves many jobs (models stay loaded), a worker that crashes or
 * hangs fails only its own job and is replaced, /api/health counts restarts,
 * and the server keeps serving throughout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createKldmServer, type KldmServer } from './app.js';
import { WorkerPool } from './worker-pool.js';
import { ANY_SIZE, fakePredictModule, testServices } from './testing/test-services.js';
import { isGenerateResult, type GenerateJobRequest, type PredictJobRequest } from './services.js';
import type { TrajectoryFrame } from '../predict/types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const request = (model: string, over: Partial<PredictJobRequest> = {}): PredictJobRequest => ({
  formula: 'NaCl', n: 1, z: 1, sampler: 'em', steps: 5, seed: 1, model, trajectory: false, trajectoryStride: 1, ...over,
});

const hooks = (signal = new AbortController().signal) => ({ signal, onProgress: () => {}, onFrame: () => {} });

describe('WorkerPool', () => {
  test('one worker process serves consecutive jobs (no restart, same pid)', async () => {
    const pool = new WorkerPool({ predictModule: fakePredictModule(), log: () => {} });
    try {
      const pids = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const r = await pool.run(request('fake-pid', { seed: i }), hooks());
        pids.add(r.warnings.find((w) => w.startsWith('pid '))!);
      }
      assert.equal(pids.size, 1);
      const s = pool.stats();
      assert.equal(s.started, 1);
      assert.equal(s.jobsRun, 3);
      assert.equal(s.restarts, 0);
      assert.equal(s.busy, 0);
    } finally {
      await pool.close();
    }
  });

  test('a generation request runs generateStructures in the same worker; its frames carry the species of the moment', async () => {
    const pool = new WorkerPool({ predictModule: fakePredictModule(), generateModule: fakePredictModule(), log: () => {} });
    try {
      await pool.run(request('fake'), hooks());
      const frames: TrajectoryFrame[] = [];
      let progress = 0;
      const gen: GenerateJobRequest = {
        kind: 'generate', model: 'fake-dng', n: 1, atoms: 3, elements: ['Li', 'O'], sampler: 'pc', steps: 8, seed: 1, trajectory: true, trajectoryStride: 1,
      };
      const r = await pool.run(gen, { signal: new AbortController().signal, onProgress: (step) => (progress = step), onFrame: (_k, f) => frames.push(f) });
      assert.ok(isGenerateResult(r));
      assert.deepEqual(r.samples[0]!.structure.species, ['Li', 'O', 'Li']);
      assert.equal(r.samples[0]!.compValid, true);
      assert.equal(frames.length, 9);
      assert.deepEqual(frames[0]!.species, ['X', 'X', 'X']);
      assert.deepEqual(frames[8]!.species, ['Li', 'O', 'Li']);
      assert.equal(progress, 8);
      assert.equal(pool.stats().started, 1, 'predictions and generations share the worker');
    } finally {
      await pool.close();
    }
  });

  test('a worker killed by SIGSEGV fails only its job, is logged, and the next job gets a new worker', async () => {
    const lines: string[] = [];
    const pool = new WorkerPool({ predictModule: fakePredictModule(), log: (l) => lines.push(l) });
    try {
      await assert.rejects(pool.run(request('fake-crash'), hooks()), /worker process killed by SIGSEGV while running this job/);
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, /killed by SIGSEGV while running job/);
      const r = await pool.run(request('fake'), hooks());
      assert.equal(r.samples.length, 1);
      const s = pool.stats();
      assert.equal(s.crashed, 1);
      assert.equal(s.restarts, 1);
      assert.equal(s.started, 2);
    } finally {
      await pool.close();
    }
  });

  test('a cancelled job that never yields: its worker is killed after the grace period and replaced', async () => {
    const pool = new WorkerPool({ predictModule: fakePredictModule(), abortGraceMs: 200, startupGraceMs: 200, log: () => {} });
    try {
      const ac = new AbortController();
      const p = pool.run(request('fake-busy'), hooks(ac.signal));
      setTimeout(() => ac.abort(), 300);
      await assert.rejects(p, (e: Error) => e.name === 'AbortError');
      assert.equal(pool.stats().killedAfterCancel, 1);
      assert.equal(pool.stats().workers, 0);
      const r = await pool.run(request('fake'), hooks());
      assert.equal(r.samples.length, 1);
    } finally {
      await pool.close();
    }
  });

  test('a cancelled job that yields stops without killing its worker', async () => {
    const pool = new WorkerPool({ predictModule: fakePredictModule(), log: () => {} });
    try {
      const ac = new AbortController();
      let started = false;
      const p = pool.run(request('fake', { steps: 2000 }), { signal: ac.signal, onProgress: () => { if (!started) { started = true; ac.abort(); } }, onFrame: () => {} });
      await assert.rejects(p, (e: Error) => e.name === 'AbortError');
      assert.equal(pool.stats().killedAfterCancel, 0);
      assert.equal(pool.stats().workers, 1);
    } finally {
      await pool.close();
    }
  });

  test('workers are retired after their job quota and replaced on demand', async () => {
    const pool = new WorkerPool({ predictModule: fakePredictModule(), recycleAfterJobs: 2, log: () => {} });
    try {
      for (let i = 0; i < 5; i++) await pool.run(request('fake'), hooks());
      const s = pool.stats();
      assert.equal(s.retired, 2);
      assert.equal(s.started, 3);
      assert.equal(s.restarts, 0);
    } finally {
      await pool.close();
    }
  });

  test('close() stops the workers and fails a running job', async () => {
    const pool = new WorkerPool({ predictModule: fakePredictModule(), log: () => {} });
    const p = pool.run(request('fake', { steps: 5000 }), hooks());
    const rejected = assert.rejects(p, /shutting down/);
    await new Promise((r) => setTimeout(r, 200));
    const pid = pool.stats().pids[0]!;
    await pool.close();
    await rejected;
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
    await assert.rejects(pool.run(request('fake'), hooks()), /closed/);
  });
});

describe('kldm serve with crashing workers', () => {
  let app: KldmServer;
  let url: string;
  before(async () => {
    const services = testServices();
    const models = await services.listModels();
    const dng = { typeDiffusion: 'masking', trainingAtomCounts: [4] };
    services.listModels = async () => [
      ...models,
      { name: 'fake-crash', task: 'csp', atomCounts: ANY_SIZE, meta: {} },
      { name: 'fake-dng', task: 'dng', atomCounts: ANY_SIZE, dng, meta: {} },
      { name: 'fake-crash-dng', task: 'dng', atomCounts: ANY_SIZE, dng, meta: {} },
      { name: 'fake-busy-dng', task: 'dng', atomCounts: ANY_SIZE, dng, meta: {} },
    ];
    app = createKldmServer({ port: 0, services, webRoot: null, log: () => {} });
    url = await app.listen();
  });
  after(async () => app?.close());

  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'content-type': 'application/json' };
    }
    const r = await fetch(url + path, init);
    return { status: r.status, body: await r.json() };
  };
  const waitDone = async (id: string): Promise<Json> => {
    for (;;) {
      const r = await call('GET', `/api/jobs/${id}`);
      if (!['queued', 'running'].includes(r.body.status)) return r.body;
      await new Promise((res) => setTimeout(res, 20));
    }
  };

  test('a crash fails its own job with a clear error; other jobs and the server go on; health counts the restart', async () => {
    const ok1 = await call('POST', '/api/predict', { formula: 'NaCl', n: 2, steps: 50 });
    const bad = await call('POST', '/api/predict', { formula: 'NaCl', model: 'fake-crash' });
    const ok2 = await call('POST', '/api/predict', { formula: 'SrTiO3', steps: 30 });
    assert.equal(bad.status, 202);
    const jb = await waitDone(bad.body.id);
    assert.equal(jb.status, 'failed');
    assert.equal(jb.error.code, 'prediction_failed');
    assert.match(jb.error.message, /worker process killed by SIGSEGV/);
    assert.equal((await waitDone(ok1.body.id)).status, 'done');
    assert.equal((await waitDone(ok2.body.id)).status, 'done');
    const h = await call('GET', '/api/health');
    assert.equal(h.body.status, 'ok');
    assert.equal(h.body.workers.kind, 'process-pool');
    assert.equal(h.body.workers.crashed, 1);
    assert.ok(h.body.workers.restarts >= 1);
    const after = await call('POST', '/api/predict', { formula: 'NaCl', steps: 10 });
    assert.equal((await waitDone(after.body.id)).status, 'done');
  });

  test('generation jobs share the isolation: a crashing generation fails alone, the next ones run on a new worker', async () => {
    const gen = await call('POST', '/api/generate', { model: 'fake-dng', n: 2, steps: 40 });
    const bad = await call('POST', '/api/generate', { model: 'fake-crash-dng' });
    const pred = await call('POST', '/api/predict', { formula: 'NaCl', steps: 30 });
    assert.equal(bad.status, 202, JSON.stringify(bad.body));
    const jb = await waitDone(bad.body.id);
    assert.equal(jb.status, 'failed');
    assert.equal(jb.error.code, 'prediction_failed');
    assert.match(jb.error.message, /worker process killed by SIGSEGV/);
    const jg = await waitDone(gen.body.id);
    assert.equal(jg.status, 'done');
    assert.equal(jg.result.kind, 'generate');
    assert.equal((await waitDone(pred.body.id)).status, 'done');
    const h = await call('GET', '/api/health');
    assert.equal(h.body.workers.crashed, 2, 'this crash and the one of the test before');
    const again = await call('POST', '/api/generate', { model: 'fake-dng', steps: 10 });
    assert.equal((await waitDone(again.body.id)).status, 'done');
  });

  test('a generation that never yields is killed after the grace period when cancelled', async () => {
    const busy = await call('POST', '/api/generate', { model: 'fake-busy-dng' });
    for (;;) {
      if ((await call('GET', `/api/jobs/${busy.body.id}`)).body.status === 'running') break;
      await new Promise((res) => setTimeout(res, 20));
    }
    await call('DELETE', `/api/jobs/${busy.body.id}`);
    const jb = await waitDone(busy.body.id);
    assert.equal(jb.status, 'cancelled');
    const h = await call('GET', '/api/health');
    assert.ok(h.body.workers.killedAfterCancel >= 1);
  });
});
