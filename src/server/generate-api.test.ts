/**
 * POST /api/generate over the whole real library: the default services (generateStructures in the worker
 * processes of the pool) with the shipped DNG model perov5-dng-masking, small n and steps so that it stays fast.
 * Checks the model list (CSP vs DNG), a generation from submit to downloads equal to an in-process call with the
 * same seed, trajectory frames whose species change from masked to the final types (also in the event stream),
 * the element restriction, every validation error naming its field, cancellation, the queue cap (429) and health.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createKldmServer, type KldmServer } from './app.js';
import { defaultServices } from './default-services.js';
import type { ServerLimits } from './limits.js';
import { generateStructures } from '../predict/generate.js';
import { call, type Reply } from './testing/http-call.js';

const DNG = 'perov5-dng-masking';
/** the highest-ranked shipped DNG model: what a request without a model gets */
const DEFAULT_DNG = 'mp20-dng-masking';
const CSP = 'perov5-cpu-small';



const finished = (s: string): boolean => s === 'done' || s === 'failed' || s === 'cancelled';

async function waitFor(url: string, id: string, done: (body: any) => boolean, timeoutMs = 60_000): Promise<Reply> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const t0 = Date.now();
  for (;;) {
    const r = await call(url, 'GET', `/api/jobs/${id}`);
    if (r.status !== 200 || done(r.body)) return r;
    if (Date.now() - t0 > timeoutMs) throw new Error(`job ${id} still ${r.body.status} after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

function expectFieldError(r: Reply, status: number, field: string, message?: RegExp): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body.error.field, field, r.text);
  if (message) assert.match(r.body.error.message, message);
}

async function start(limits: Partial<ServerLimits> = {}): Promise<{ app: KldmServer; url: string }> {
  const app = createKldmServer({ port: 0, services: defaultServices(), webRoot: null, limits, log: () => {} });
  return { app, url: await app.listen() };
}

describe('POST /api/generate with the shipped DNG model', () => {
  let app: KldmServer;
  let url: string;
  before(async () => ({ app, url } = await start({ concurrency: 1, maxN: 20, maxSteps: 2000 })));
  after(async () => app.close());

  test('the model list says which models are CSP and which DNG, with the atom counts they know', async () => {
    const { body } = await call(url, 'GET', '/api/models');
    const dng = body.models.find((m: { name: string }) => m.name === DNG);
    const csp = body.models.find((m: { name: string }) => m.name === CSP);
    assert.equal(dng.task, 'dng');
    assert.deepEqual(dng.atomCounts, [5]);
    assert.deepEqual(dng.dng, { typeDiffusion: 'masking', trainingAtomCounts: [5] });
    assert.equal(csp.task, 'csp');
    assert.equal(csp.dng, undefined);
    assert.ok(csp.atomCounts.includes(5));
    const o = await call(url, 'GET', '/api/openapi.json');
    assert.ok(o.body.paths['/api/generate'].post);
    assert.equal(o.body.components.schemas.GenerateRequest.properties.n.maximum, 20);
    assert.deepEqual(o.body.components.schemas.Model.properties.task.enum, ['csp', 'dng']);
  });

  test('a generation runs in a worker, equals an in-process call with the same seed, and its trajectory types change', async () => {
    const sub = await call(url, 'POST', '/api/generate', { model: DNG, n: 2, atoms: 5, steps: 30, seed: 3 });
    assert.equal(sub.status, 202, sub.text);
    assert.equal(sub.headers.get('location'), `/api/jobs/${sub.body.id}`);
    assert.deepEqual(sub.body.request, {
      kind: 'generate', model: DNG, n: 2, sampler: 'pc', steps: 30, seed: 3, trajectory: true, trajectoryStride: 1, atoms: 5,
    });
    const r = await waitFor(url, sub.body.id, (b) => finished(b.status));
    assert.equal(r.body.status, 'done', r.text);
    assert.equal(r.body.progress.step, r.body.progress.total);
    const result = r.body.result;
    assert.equal(result.kind, 'generate');
    assert.equal(result.model, DNG);
    assert.equal(result.atoms, '5 atoms');
    const direct = await generateStructures({ model: DNG, n: 2, atoms: 5, steps: 30, seed: 3, sampler: 'pc' });
    assert.equal(result.samples.length, 2);
    for (let k = 0; k < 2; k++) {
      const s = result.samples[k];
      const d = direct.samples[k]!;
      assert.equal(s.id, `${DNG}-s3-${k}`);
      assert.deepEqual(s.structure.species, d.structure.species);
      assert.deepEqual(s.structure.frac, Array.from(d.structure.frac));
      assert.deepEqual(s.structure.lattice, Array.from(d.structure.lattice));
      assert.equal(s.composition, d.composition);
      assert.equal(s.numAtoms, 5);
      assert.equal(s.structValid, d.structValid);
      assert.equal(s.valid, d.structValid);
      assert.equal(s.compValid, d.compValid);
      assert.ok(!s.structure.species.includes('X'));
      assert.equal(s.trajectoryFrames, 31);
    }

    // the trajectory: the prior (every type masked) to the decoded types, each frame with its species
    const traj = await call(url, 'GET', `/api/jobs/${sub.body.id}/samples/0/trajectory`);
    assert.equal(traj.status, 200);
    const frames = traj.body.frames as { t: number; species: string[]; frac: number[] }[];
    assert.equal(frames.length, 31);
    assert.equal(frames[0]!.t, 1);
    assert.deepEqual(frames[0]!.species, ['X', 'X', 'X', 'X', 'X']);
    assert.ok(frames.every((f) => f.species.length === 5 && f.frac.length === 15));
    const last = frames.at(-1)!.species;
    assert.notDeepEqual(last, frames[0]!.species, 'the types change along the trajectory');
    // unmasking only ever reveals types: a type once drawn stays (spec §5.3, masking)
    for (let i = 1; i < frames.length; i++) {
      frames[i - 1]!.species.forEach((sp, a) => {
        if (sp !== 'X') assert.equal(frames[i]!.species[a], sp, `frame ${i} atom ${a}`);
      });
    }
    // atoms unmasked by the last frame have their final type (the rest take the argmax at decoding, §13.11)
    last.forEach((sp, a) => {
      if (sp !== 'X') assert.equal(sp, result.samples[0].structure.species[a]);
    });

    // the event stream replays the frames, species included
    const events = await (await fetch(`${url}/api/jobs/${sub.body.id}/events`)).text();
    const streamed = [...events.matchAll(/^event: frame\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as { sample: number; frame: { species: string[] } });
    assert.equal(streamed.length, 62);
    assert.deepEqual(streamed.filter((e) => e.sample === 0).map((e) => e.frame.species), frames.map((f) => f.species));

    // downloads: named after the model and seed, titled with the composition and id
    const cif = await fetch(`${url}/api/jobs/${sub.body.id}/samples/1/download?format=cif`);
    assert.equal(cif.status, 200);
    assert.match(cif.headers.get('content-disposition') ?? '', new RegExp(`filename="${DNG}-s3-[0-9a-f]{8}-1\\.cif"`));
    assert.match(await cif.text(), /_cell_length_a\s+\d/);
    const all = await call(url, 'GET', `/api/jobs/${sub.body.id}/download?format=json`);
    assert.equal(all.body.kind, 'generate');
    assert.deepEqual(all.body.samples[0].trajectory.map((f: { species: string[] }) => f.species), frames.map((f) => f.species));
    const list = await call(url, 'GET', '/api/jobs');
    const item = list.body.jobs.find((j: { id: string }) => j.id === sub.body.id);
    assert.deepEqual({ kind: item.kind, formula: item.formula, model: item.model }, { kind: 'generate', formula: null, model: DNG });
  });

  test('default atom counts come from the training distribution; elements restrict the types; no trajectory when not asked', async () => {
    const sub = await call(url, 'POST', '/api/generate', { n: 3, steps: 20, seed: 1, sampler: 'em', elements: ['Sr', 'Ti', 'O'], trajectory: false });
    assert.equal(sub.status, 202, sub.text);
    assert.equal(sub.body.request.model, DEFAULT_DNG, 'the default is the highest-ranked DNG model');
    const r = await waitFor(url, sub.body.id, (b) => finished(b.status));
    assert.equal(r.body.status, 'done', r.text);
    assert.equal(r.body.result.atoms, 'training distribution of atom counts');
    assert.deepEqual([...r.body.result.elements].sort(), ['O', 'Sr', 'Ti']);
    for (const s of r.body.result.samples) {
      assert.equal(s.trajectoryFrames, 0);
      // MP-20's training distribution: 1 to 20 atoms per cell
      assert.ok(s.structure.species.length >= 1 && s.structure.species.length <= 20, `${s.structure.species.length} atoms`);
      assert.ok(s.structure.species.every((e: string) => ['Sr', 'Ti', 'O'].includes(e)), s.structure.species.join());
    }
    const traj = await call(url, 'GET', `/api/jobs/${sub.body.id}/samples/0/trajectory`);
    assert.deepEqual(traj.body.frames, []);
  });

  test('bad generate requests are 4xx naming the field', async () => {
    const bad: [unknown, string, RegExp?][] = [
      [{ model: CSP }, 'model', /crystal-structure-prediction \(CSP\) model.*POST \/api\/predict.*perov5-dng-masking/],
      [{ model: 'nope' }, 'model', /unknown model "nope" \(DNG models: [^)]*perov5-dng-masking[^)]*\)/],
      [{ model: '../../etc/passwd' }, 'model'],
      [{ model: 42 }, 'model'],
      [{ n: 0 }, 'n'],
      [{ n: 1_000_000 }, 'n', /between 1 and 20/],
      [{ n: '2' }, 'n'],
      [{ steps: 0 }, 'steps'],
      [{ steps: 100_000 }, 'steps'],
      [{ seed: -1 }, 'seed'],
      [{ sampler: 'rk4' }, 'sampler'],
      [{ model: DNG, atoms: 6 }, 'atoms', /cannot generate cells of 6 atoms \(it knows N = 5\)/],
      [{ atoms: 1000 }, 'atoms', /at most/],
      [{ atoms: 2.5 }, 'atoms'],
      [{ atoms: 0 }, 'atoms'],
      [{ model: DNG, atomsRange: [4, 6] }, 'atomsRange', /cannot generate cells of 4 atoms/],
      [{ atomsRange: [5] }, 'atomsRange'],
      [{ atomsRange: [6, 5] }, 'atomsRange', /greater/],
      [{ atomsRange: '4-6' }, 'atomsRange'],
      [{ atomsRange: [5, 500] }, 'atomsRange', /at most/],
      [{ atoms: 5, atomsRange: [5, 5] }, 'atomsRange', /at most one/],
      [{ elements: [] }, 'elements'],
      [{ elements: 'Sr' }, 'elements'],
      [{ elements: ['Sr', 'Xq'] }, 'elements', /unknown element symbol "Xq"/],
      [{ elements: ['Sr', 3] }, 'elements'],
      [{ elements: ['Fm'] }, 'elements', /Z = 100/],
      [{ trajectory: 'yes' }, 'trajectory'],
      [{ formula: 'SrTiO3' }, 'formula', /unknown field/],
      [[1, 2], 'body'],
    ];
    for (const [body, field, message] of bad) expectFieldError(await call(url, 'POST', '/api/generate', body), 400, field, message);
    expectFieldError(await call(url, 'POST', '/api/generate', '{"n": 2,'), 400, 'body');
    expectFieldError(await call(url, 'POST', '/api/generate', 'n=2', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'content-type');
    expectFieldError(await call(url, 'GET', '/api/generate'), 405, 'method');
  });

  test('a running generation is cancelled; its worker stays and serves the next job', async () => {
    const sub = await call(url, 'POST', '/api/generate', { model: DNG, n: 20, steps: 2000, seed: 1 });
    assert.equal(sub.status, 202, sub.text);
    const running = await waitFor(url, sub.body.id, (b) => b.progress.step > 0 || finished(b.status));
    assert.equal(running.body.status, 'running');
    assert.equal(running.body.progress.total, 2000, 'progress counts sampler steps');
    const del = await call(url, 'DELETE', `/api/jobs/${sub.body.id}`);
    assert.ok(del.status === 202 || del.status === 200, del.text);
    const r = await waitFor(url, sub.body.id, (b) => finished(b.status), 10_000);
    assert.equal(r.body.status, 'cancelled');
    assert.equal(r.body.error.code, 'cancelled');
    const next = await call(url, 'POST', '/api/generate', { model: DNG, n: 1, steps: 5, seed: 2, trajectory: false });
    assert.equal((await waitFor(url, next.body.id, (b) => finished(b.status))).body.status, 'done');
    const health = await call(url, 'GET', '/api/health');
    assert.equal(health.body.workers.restarts, 0, 'a cooperative cancel keeps the worker');
    assert.equal(health.body.workers.started, 1, 'one worker served predictions and generations');
  });
});

describe('POST /api/generate shares the job limits of predictions', () => {
  test('a full queue answers 429 to generate and predict alike; cancelling a queued generation frees its place', async () => {
    const { app, url } = await start({ concurrency: 1, maxQueued: 1 });
    try {
      const a = await call(url, 'POST', '/api/generate', { model: DNG, n: 20, steps: 2000, seed: 1 });
      const b = await call(url, 'POST', '/api/generate', { model: DNG, n: 20, steps: 2000, seed: 2 });
      assert.equal(a.status, 202, a.text);
      assert.equal(b.status, 202, b.text);
      assert.equal(b.body.queuePosition, 1);
      const c = await call(url, 'POST', '/api/generate', { model: DNG, n: 1, steps: 5 });
      assert.equal(c.status, 429, c.text);
      assert.equal(c.body.error.code, 'queue_full');
      assert.equal(c.headers.get('retry-after'), '5');
      const p = await call(url, 'POST', '/api/predict', { formula: 'SrTiO3', steps: 5 });
      assert.equal(p.status, 429, p.text);
      const del = await call(url, 'DELETE', `/api/jobs/${b.body.id}`);
      assert.equal(del.body.status, 'cancelled');
      const d = await call(url, 'POST', '/api/generate', { model: DNG, n: 1, steps: 5 });
      assert.equal(d.status, 202, d.text);
      const health = await call(url, 'GET', '/api/health');
      assert.deepEqual([health.body.jobs.running, health.body.jobs.queued], [1, 1]);
      await call(url, 'DELETE', `/api/jobs/${a.body.id}`);
      assert.equal((await waitFor(url, d.body.id, (x) => finished(x.status))).body.status, 'done');
    } finally {
      await app.close();
    }
  });

  test('the run-time cap stops a generation that runs too long', async () => {
    const { app, url } = await start({ maxJobMs: 1500 });
    try {
      const a = await call(url, 'POST', '/api/generate', { model: DNG, n: 20, steps: 2000 });
      const r = await waitFor(url, a.body.id, (b) => finished(b.status), 20_000);
      assert.equal(r.body.status, 'failed');
      assert.equal(r.body.error.code, 'timeout');
    } finally {
      await app.close();
    }
  });
});
