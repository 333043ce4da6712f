/**
 * JobManager with an in-process runner double whose jobs finish only when the
 * test says so: concurrency is never exceeded, jobs start in FIFO order, the
 * queue bound gives 429, cancellation and the run-time cap end jobs, and
 * eviction honours the time-to-live, the memory budget and the count cap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobManager, etaSeconds, type Job } from './jobs.js';
import { defaultLimits, type ServerLimits } from './limits.js';
import { HttpError } from './http-error.js';
import type { JobRunner, PredictJobRequest, RunHooks } from './services.js';
import type { PredictResult } from '../predict/types.js';

interface Pending {
  request: PredictJobRequest;
  hooks: RunHooks;
  finish(): void;
}

class ControlledRunner implements JobRunner {
  running = 0;
  maxRunning = 0;
  started: number[] = [];
  pending: Pending[] = [];

  run(request: PredictJobRequest, hooks: RunHooks): Promise<PredictResult> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.started.push(request.seed);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.running--;
      };
      hooks.signal.addEventListener('abort', () => {
        done();
        reject(new Error('aborted'));
      });
      this.pending.push({
        request,
        hooks,
        finish: () => {
          done();
          resolve({
            formula: request.formula, model: 'm', sampler: request.sampler, steps: request.steps, seed: request.seed, warnings: [],
            samples: [{ structure: { lattice: [1, 0, 0, 0, 1, 0, 0, 0, 1], species: ['Na'], frac: new Float64Array(3) }, minDistance: 1, volume: 1, valid: true }],
          });
        },
      });
    });
  }
}

const req = (seed: number): PredictJobRequest => ({
  formula: 'Na', n: 1, z: 1, sampler: 'em', steps: 10, seed, trajectory: false, trajectoryStride: 1,
});
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const limits = (patch: Partial<ServerLimits>): ServerLimits => ({ ...defaultLimits(), ...patch });

test('at most `concurrency` jobs run; the others start in submission order; a full queue is 429', async () => {
  const runner = new ControlledRunner();
  const jm = new JobManager(runner, limits({ concurrency: 2, maxQueued: 3 }));
  const jobs: Job[] = [];
  for (let s = 0; s < 5; s++) jobs.push(jm.submit(req(s)));
  assert.throws(() => jm.submit(req(99)), (e: unknown) => e instanceof HttpError && e.status === 429);
  assert.deepEqual(jm.stats(), { queued: 3, running: 2, kept: 5, resultBytes: jm.stats().resultBytes });
  assert.deepEqual(jobs.map((j) => jm.queuePosition(j)), [0, 0, 1, 2, 3]);
  while (runner.pending.length > 0) {
    runner.pending.shift()!.finish();
    await tick();
    await tick();
  }
  assert.equal(runner.maxRunning, 2);
  assert.deepEqual(runner.started, [0, 1, 2, 3, 4]);
  assert.ok(jobs.every((j) => j.status === 'done' && j.result !== undefined));
  jm.close();
});

test('cancel: a queued job at once, a running job through its AbortSignal', async () => {
  const runner = new ControlledRunner();
  const jm = new JobManager(runner, limits({ concurrency: 1, maxQueued: 4 }));
  const a = jm.submit(req(1));
  const b = jm.submit(req(2));
  jm.cancel(b);
  assert.equal(b.status, 'cancelled');
  assert.equal(jm.queuePosition(b), 0);
  jm.cancel(a);
  await tick();
  assert.equal(a.status, 'cancelled');
  assert.equal(a.error?.code, 'cancelled');
  assert.equal(runner.running, 0);
  assert.deepEqual(runner.started, [1], 'the cancelled queued job never started');
  jm.close();
});

test('the run-time cap fails a job with code "timeout"', async () => {
  const runner = new ControlledRunner();
  const jm = new JobManager(runner, limits({ maxJobMs: 30 }));
  const a = jm.submit(req(1));
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(a.status, 'failed');
  assert.equal(a.error?.code, 'timeout');
  jm.close();
});

test('progress gives an ETA from the mean rate so far', () => {
  const job = { status: 'running', startedAt: 1000, step: 25, total: 100 } as Job;
  assert.equal(etaSeconds(job, 11_000), 30); // 10 s for 25 steps -> 30 s for the other 75
  assert.equal(etaSeconds({ ...job, step: 0 } as Job, 11_000), null);
});

test('eviction: time-to-live, memory budget and count cap, oldest finished first; running jobs are kept', async () => {
  let now = 0;
  const runner = new ControlledRunner();
  const jm = new JobManager(runner, limits({ concurrency: 4, resultTtlMs: 1000, maxJobsKept: 3, maxResultBytes: 1e9 }), () => now);
  const jobs = [jm.submit(req(1)), jm.submit(req(2)), jm.submit(req(3))];
  for (const [i, p] of runner.pending.splice(0).entries()) {
    now = 100 * (i + 1);
    p.finish();
    await tick();
  }
  assert.equal(jm.stats().kept, 3);
  const running = jm.submit(req(4)); // count cap 3: the oldest finished job goes
  assert.equal(jm.get(jobs[0]!.id), undefined);
  assert.ok(jm.get(jobs[1]!.id));
  now = 1250; // job 2 finished at 200: expired; job 3 at 300: not yet
  jm.evict();
  assert.equal(jm.get(jobs[1]!.id), undefined);
  assert.ok(jm.get(jobs[2]!.id));
  now = 10_000;
  jm.evict();
  assert.equal(jm.get(jobs[2]!.id), undefined);
  assert.equal(jm.get(running.id), running, 'a running job is never evicted');

  const small = new JobManager(new ControlledRunner(), limits({ maxResultBytes: 1 }));
  const r = small['runner'] as ControlledRunner;
  const x = small.submit(req(5));
  r.pending.shift()!.finish();
  await tick();
  assert.equal(small.get(x.id), undefined, 'over the memory budget the finished result is dropped');
  jm.close();
  small.close();
});
