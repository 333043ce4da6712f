/**
 * Scale-out benchmark (issue #17): the same `kldm sample` run (i) in one process, (ii) over the
 * queue with 1 worker process and (iii) with 2 worker processes, every process with KLDM_THREADS=1,
 * against a loopback redis-server started here. Prints wall times, the 2-vs-1-worker speed-up and
 * the queue overhead per shard ((1-worker wall - single-process wall) / shards), and checks that
 * both queued outputs equal the single-process output.
 *
 *   npm run bench:queue -- [--materials 120] [--steps 100] [--batch 12] [--shard 12]
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { perovskiteCsv, spawnKldm, startTestRedis } from '../../src/queue/testing.js';

const { values } = parseArgs({
  options: {
    materials: { type: 'string', default: '120' },
    steps: { type: 'string', default: '100' },
    batch: { type: 'string', default: '12' },
    shard: { type: 'string', default: '12' },
  },
});
const csv = perovskiteCsv(Number(values.materials));
const dir = mkdtempSync(join(tmpdir(), 'kldm-bench-queue-'));
const args = ['--model', 'perov5-cpu-small', '--dataset-csv', csv, '--sampler', 'em', '--steps', values.steps!, '--batch-size', values.batch!, '--seed', '1', '--quiet'];
const env = { KLDM_THREADS: '1' };

async function timed(run: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
}

const redis = await startTestRedis();
try {
  const single = join(dir, 'single.jsonl');
  const tSingle = await timed(async () => {
    const p = spawnKldm(['sample', ...args, '--out', single], env);
    if ((await p.exited) !== 0) throw new Error(p.log());
  });
  const rows: { workers: number; seconds: number; exact: boolean }[] = [];
  for (const k of [1, 2]) {
    const name = `bench-${k}`;
    const ws = Array.from({ length: k }, () => spawnKldm(['worker', '--queue', redis.url, '--queue-name', name], env));
    // workers are started and warm (library loaded) before the clock starts, as long-lived workers are
    await new Promise((r) => setTimeout(r, 4000));
    const out = join(dir, `q${k}.jsonl`);
    const seconds = await timed(async () => {
      const p = spawnKldm(['sample', ...args, '--queue', redis.url, '--queue-name', name, '--shard-size', values.shard!, '--out', out], env);
      if ((await p.exited) !== 0) throw new Error(p.log());
    });
    for (const w of ws) w.proc.kill('SIGTERM');
    await Promise.all(ws.map((w) => w.exited));
    rows.push({ workers: k, seconds, exact: readFileSync(out, 'utf8') === readFileSync(single, 'utf8') });
  }
  const shards = Math.ceil(Number(values.materials) / Math.ceil(Number(values.shard) / Number(values.batch)) / Number(values.batch));
  const report = {
    materials: Number(values.materials), steps: Number(values.steps), batch: Number(values.batch), shards,
    singleProcessSeconds: +tSingle.toFixed(2),
    queued: rows.map((r) => ({ ...r, seconds: +r.seconds.toFixed(2) })),
    speedup2vs1: +(rows[0]!.seconds / rows[1]!.seconds).toFixed(2),
    overheadPerShardSeconds: +((rows[0]!.seconds - tSingle) / shards).toFixed(3),
    loadAverage1m: +loadavg()[0]!.toFixed(2),
    note: 'every process KLDM_THREADS=1; the producer and single-process times include process start-up and model load; workers were warm',
  };
  console.log(JSON.stringify(report, null, 2));
} finally {
  await redis.stop();
}
