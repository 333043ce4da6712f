/**
 * Short soak of a live server with the real shipped models (issue #16, CI's
 * version of `npm run bench:server -- --soak`): the server runs in its own
 * process, 36 sequential jobs then 60 from three concurrent clients (every
 * fifth a de-novo generation with the shipped DNG model), with
 * cancellations (queued and running), bad requests and bursts beyond the queue
 * cap. Fails if the server dies, loses a job, mishandles a request, or does not
 * shut down cleanly.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { runSoak } from './testing/soak.js';

describe('soak: a live server with real models survives its own jobs', () => {
  let server: ChildProcess;
  let url: string;
  let exit: { code: number | null; signal: string | null } | null = null;
  let stderr = '';

  before(async () => {
    server = spawn(process.execPath, ['--import', 'tsx', 'bench/server/serve.ts', '--real', '--src', '--concurrency', '2', '--max-queue', '3'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.on('exit', (code, signal) => (exit = { code, signal }));
    server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    url = await new Promise((res, rej) => {
      let buf = '';
      server.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /URL (\S+)/.exec(buf);
        if (m) res(m[1]!);
      });
      server.on('exit', (code) => rej(new Error(`server exited (${code}): ${stderr}`)));
    });
  });

  after(() => {
    if (exit === null) server.kill('SIGKILL');
  });

  const check = (r: Awaited<ReturnType<typeof runSoak>>, jobs: number): void => {
    assert.equal(exit, null, `the server died: ${JSON.stringify(exit)}\n${stderr}`);
    assert.ok(r.jobsAccepted >= jobs, JSON.stringify(r));
    assert.equal(r.lost, 0, JSON.stringify(r));
    assert.deepEqual(r.badRequestsMishandled, []);
    assert.deepEqual(r.transportErrors, []);
    assert.equal(r.failed, 0, JSON.stringify(r.failedCodes));
    assert.ok(r.cancelled >= 3, `cancellations: ${r.cancelled}`);
    assert.equal(r.done + r.cancelled + r.failed + r.lost, r.jobsAccepted);
    assert.equal(r.workerRestarts, 0, `worker restarts; server stderr:\n${stderr}`);
    assert.ok(r.generationsAccepted >= Math.floor(jobs / 5), `generations among the jobs: ${r.generationsAccepted}`);
  };

  test('36 sequential jobs', async () => {
    const r = await runSoak({ url, jobs: 36, clients: 1, serverPid: server.pid!, deadlineMs: 240_000, steps: [5, 40], cancelEvery: 6, badEvery: 4, burstEvery: 0, alive: () => exit === null });
    check(r, 36);
  });

  test('60 jobs from 3 concurrent clients with bursts beyond the queue cap', async () => {
    const r = await runSoak({ url, jobs: 60, clients: 3, serverPid: server.pid!, deadlineMs: 240_000, steps: [5, 40], cancelEvery: 8, badEvery: 5, burstEvery: 20, alive: () => exit === null });
    check(r, 60);
    assert.ok(r.rejected.queueFull > 0, 'the bursts should have hit the queue cap');
  });

  test('the server shuts down cleanly on SIGTERM', async () => {
    const done = new Promise<void>((res) => (exit ? res() : server.once('exit', () => res())));
    server.kill('SIGTERM');
    await done;
    assert.deepEqual(exit, { code: 0, signal: null }, stderr);
  });
});
