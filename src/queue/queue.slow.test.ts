/**
 * Scale-out over Redis (issue #17), end to end with real processes: a local redis-server on
 * loopback, `kldm worker` processes from the sources, the shipped perov5-cpu-small model. The
 * merged output of a queued `kldm sample` must equal, byte for byte, the output of the same command
 * run in one process: with two workers, after a worker is SIGKILLed in the middle of a shard
 * (its shard is retried elsewhere), and after the producer itself is killed and run again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { sampleCommand } from '../cli/commands/sample.js';
import { relaxCommand } from '../cli/commands/relax.js';
import { generateCommand } from '../cli/commands/generate.js';
import { train } from '../training/trainer.js';
import { miniPerov5, tinyConfig } from '../training/testFixtures.js';
import { exportModel } from '../predict/registry.js';
import { writeCif } from '../crystal/io/cif.js';
import { cubicCrystal } from '../relax/testing/cubicCrystals.js';
import { assetStatus } from '../assets/index.js';
import { haveRedisServer, perovskiteCsv, spawnKldm, startTestRedis, type TestRedis } from './testing.js';
import { parseQueueUrl } from './url.js';
import { QUEUE_PREFIX } from './worker.js';

const skip = haveRedisServer() ? false : 'redis-server is not installed (apt-get install redis-server; .ci/run installs it)';

describe('queued kldm sample equals the single-process output', { skip }, () => {
  let redis: TestRedis;
  let csv: string;
  let expected: string;
  const dir = mkdtempSync(join(tmpdir(), 'kldm-queue-test-'));
  const common = (): string[] => ['--model', 'perov5-cpu-small', '--dataset-csv', csv, '--samples-per-material', '2', '--sampler', 'em', '--steps', '40', '--batch-size', '6', '--seed', '7', '--quiet'];
  const workers: ReturnType<typeof spawnKldm>[] = [];
  // short locks make a killed worker's shard come back quickly; the tests without kills keep the default (30 s),
  // so that a worker busy loading the potential is never taken for dead
  const worker = (queueName: string, shortLocks = true): ReturnType<typeof spawnKldm> => {
    const locks = shortLocks ? ['--lock-duration', '2s', '--stalled-interval', '1s'] : [];
    const w = spawnKldm(['worker', '--queue', redis.url, '--queue-name', queueName, ...locks], { KLDM_THREADS: '1' });
    workers.push(w);
    return w;
  };
  const waitFor = async (what: string, cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> => {
    const t0 = Date.now();
    while (!(await cond())) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  // A worker answers SIGTERM with a graceful exit 0 once its handler is installed (before it connects, so surely
  // once it says it is waiting for shards); before that (Node and tsx still loading the sources) SIGTERM kills it. Workers that
  // are signalled after a run therefore have to be ready before the run starts: on a loaded machine one
  // worker can do all of a small run while the other is still loading (the exit-code-null flake).
  const ready = (...ws: ReturnType<typeof spawnKldm>[]): Promise<void[]> =>
    Promise.all(ws.map((w) => waitFor(`worker ${w.proc.pid} to wait for shards`, () => /waiting for shards/.test(w.log()))));

  // The single-process reference runs in a process of its own with the workers' thread count: on some CPUs
  // (seen on an AVX2-only AMD EPYC) oneDNN's f32 GEMM rounds differently with 1 and 2 threads, so the output
  // is bit-identical for the same CPU kind and KLDM_THREADS only (docs/scale-out.md, "Exactness").
  const singleProcess = async (args: string[], env: Record<string, string> = {}): Promise<void> => {
    const p = spawnKldm(args, { KLDM_THREADS: '1', ...env });
    assert.equal(await p.exited, 0, p.log());
  };

  before(async () => {
    redis = await startTestRedis();
    csv = perovskiteCsv(21); // 42 pairs = 7 batches of 6
    const single = join(dir, 'single.jsonl');
    await singleProcess(['sample', ...common(), '--out', single]);
    expected = readFileSync(single, 'utf8');
    assert.equal(expected.trim().split('\n').length, 42);
  });

  after(async () => {
    for (const w of workers) if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
    await redis?.stop();
  });

  test('1 producer + 2 workers', async () => {
    const a = worker('q-two');
    const b = worker('q-two');
    await ready(a, b);
    const out = join(dir, 'two.jsonl');
    assert.equal(await sampleCommand.run([...common(), '--queue', redis.url, '--queue-name', 'q-two', '--shard-size', '6', '--out', out]), 0);
    assert.equal(readFileSync(out, 'utf8'), expected);
    // both took shards, and they stop gracefully on SIGTERM with exit 0
    assert.match(a.log() + b.log(), /shard \d+\/7 done/);
    a.proc.kill('SIGTERM');
    b.proc.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.log());
    assert.equal(await b.exited, 0, b.log());
    // the same command again: the output is complete, nothing is enqueued
    assert.equal(await sampleCommand.run([...common(), '--queue', redis.url, '--queue-name', 'q-two', '--shard-size', '6', '--out', out]), 0);
    assert.equal(readFileSync(out, 'utf8'), expected);
  });

  test('a worker SIGKILLed in the middle of a shard: the shard is retried by another worker, the merge is exact', async () => {
    const victim = worker('q-kill');
    const out = join(dir, 'kill.jsonl');
    const producer = sampleCommand.run([...common(), '--queue', redis.url, '--queue-name', 'q-kill', '--shard-size', '12', '--out', out]);
    await waitFor('the first shard to start', () => /shard 1\/4 of run/.test(victim.log()));
    await new Promise((r) => setTimeout(r, 300)); // inside the shard's sampling
    victim.proc.kill('SIGKILL');
    await victim.exited;
    assert.doesNotMatch(victim.log(), /shard 1\/4 done/);
    const rescuer = worker('q-kill');
    await ready(rescuer);
    assert.equal(await producer, 0);
    assert.equal(readFileSync(out, 'utf8'), expected);
    assert.match(rescuer.log(), /shard 1\/4 of run \w+ \(attempt 1\)/); // a stalled shard keeps its attempt count
    rescuer.proc.kill('SIGTERM');
    assert.equal(await rescuer.exited, 0, rescuer.log());
  });

  test('queued kldm relax --jsonl: 2 workers give the single-process lines', { skip: assetStatus('m3gnet-mp-2021.2.8').installed ? false : 'M3GNet weights not installed' }, async () => {
    const input = join(dir, 'relax-in.jsonl');
    const rows = [
      ['KCl', 'Halite', 6.1], ['Cu', 'FCC', 3.7], ['Si', 'Diamond (FCC)', 5.5], ['NaCl', 'Halite', 5.5], ['W', 'BCC', 3.1],
    ].map(([f, kind, a], k) => ({ material_id: `r${k}`, sample: 0, cif: writeCif(cubicCrystal(f as string, kind as string, a as number)) }));
    rows.push({ material_id: 'broken', sample: 0, cif: '' });
    writeFileSync(input, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const args = ['--jsonl', input, '--batch-size', '2', '--max-steps', '60', '--quiet'];
    const single = join(dir, 'relax-single.jsonl');
    await singleProcess(['relax', ...args, '--out', single]);
    const a = worker('q-relax', false);
    const b = worker('q-relax', false);
    await ready(a, b);
    const queued = join(dir, 'relax-queued.jsonl');
    assert.equal(await relaxCommand.run([...args, '--out', queued, '--queue', redis.url, '--queue-name', 'q-relax', '--shard-size', '2']), 0);
    assert.equal(readFileSync(queued, 'utf8'), readFileSync(single, 'utf8'));
    assert.equal(readFileSync(queued, 'utf8').trim().split('\n').length, 6);
    a.proc.kill('SIGTERM');
    b.proc.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.log());
    assert.equal(await b.exited, 0, b.log());
  });

  test('queued kldm generate: 2 workers give the single-process file (a tiny DNG model of this test)', async () => {
    const models = mkdtempSync(join(tmpdir(), 'kldm-queue-models-'));
    const runDir = mkdtempSync(join(tmpdir(), 'kldm-queue-dngrun-'));
    const data = miniPerov5();
    await train({ dataset: 'perov_5', config: tinyConfig({ task: 'dng', optim: { batchSize: 8 }, validation: { everyEpochs: 0 } }), runDir, maxSteps: 4, train: data.train, stats: data.stats, statusStream: null });
    exportModel(join(runDir, 'last.ckpt'), { name: 'queue-dng', description: 'test', root: models });
    const prev = process.env['KLDM_MODELS_DIR'];
    process.env['KLDM_MODELS_DIR'] = models;
    try {
      const args = ['--model', 'queue-dng', '--n', '23', '--steps', '12', '--seed', '5', '--batch-size', '4', '--quiet'];
      const single = join(dir, 'gen-single.jsonl');
      await singleProcess(['generate', ...args, '--out', single], { KLDM_MODELS_DIR: models });
      const ws = [0, 1].map(() => {
        const w = spawnKldm(['worker', '--queue', redis.url, '--queue-name', 'q-gen'], { KLDM_THREADS: '1', KLDM_MODELS_DIR: models });
        workers.push(w);
        return w;
      });
      await ready(...ws);
      const queued = join(dir, 'gen-queued.jsonl');
      assert.equal(await generateCommand.run([...args, '--out', queued, '--queue', redis.url, '--queue-name', 'q-gen', '--shard-size', '8']), 0);
      assert.equal(readFileSync(queued, 'utf8'), readFileSync(single, 'utf8'));
      assert.equal(readFileSync(queued, 'utf8').trim().split('\n').length, 23);
      for (const w of ws) w.proc.kill('SIGTERM');
      for (const w of ws) assert.equal(await w.exited, 0, w.log());
    } finally {
      if (prev === undefined) delete process.env['KLDM_MODELS_DIR'];
      else process.env['KLDM_MODELS_DIR'] = prev;
    }
  });

  test('a producer killed and run again resumes from the finished shards', async () => {
    const queueName = 'q-producer';
    const out = join(dir, 'producer.jsonl');
    const args = [...common(), '--queue', redis.url, '--queue-name', queueName, '--shard-size', '6', '--out', out];
    const w = worker(queueName);
    await ready(w);
    const first = spawnKldm(['sample', ...args]);
    const queue = new Queue(queueName, { connection: parseQueueUrl(redis.url), prefix: QUEUE_PREFIX });
    try {
      await waitFor('two finished shards', async () => (await queue.getCompletedCount()) >= 2);
      first.proc.kill('SIGKILL');
      await first.exited;
      // workers go on without a producer; stop this one so some shards are left for the second producer
      w.proc.kill('SIGTERM');
      assert.equal(await w.exited, 0, w.log());
      const doneBefore = await queue.getCompletedCount();
      assert.ok(doneBefore >= 2 && doneBefore < 7, `completed ${doneBefore}`);
      worker(queueName);
      const second = spawnKldm(['sample', ...args]);
      assert.equal(await second.exited, 0, second.log());
      assert.match(second.log(), new RegExp(`${doneBefore} finished before this run, 0 enqueued`));
      assert.equal(readFileSync(out, 'utf8'), expected);
      // the run's jobs are removed once its output is written
      assert.equal(await queue.getCompletedCount(), 0);
    } finally {
      await queue.close();
    }
  });
});
