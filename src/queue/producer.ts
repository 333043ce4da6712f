/**
 * The producer side of a queued run (issue #17): splits a run into shards with deterministic
 * ids (run id + shard number), enqueues the ones that are not already there, follows them through
 * the queue's events (with a periodic state check as a safety net), shows progress (shards,
 * crystals, rate, ETA), and when every shard is done writes the merged output in shard order,
 * atomically. Re-running the same command after a crash finds the finished shards in Redis and
 * waits only for the rest; a shard retried after a worker died has one result (its job's), so
 * duplicates cannot reach the output. After the output is written the run's jobs are removed.
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import { KldmError } from '../util/errors.js';
import { Progress } from '../util/progress.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { ShardResult } from './sampleShards.js';
import { DEFAULT_QUEUE_NAME, QUEUE_PREFIX, type ShardJob } from './worker.js';
import { redactQueueUrl, type RedisConnectionOptions } from './url.js';

export interface ProducerOptions<J extends ShardJob = ShardJob> {
  connection: RedisConnectionOptions;
  url: string;
  queueName?: string;
  shards: J[];
  outPath: string;
  /** work items (crystals, structures) per shard, for the progress line */
  crystalsOf: (shard: J) => number;
  /** progress label and unit (default: 'queued run', 'crystals') */
  label?: string;
  unit?: string;
  /** attempts per shard before it counts as failed (default 3) */
  attempts?: number;
  signal?: AbortSignal;
  quiet?: boolean;
  /** how often shard states are polled besides the events (ms) */
  pollMs?: number;
}

export interface ProducerSummary {
  shards: number;
  /** shards found finished in Redis when this producer started (a resumed run) */
  alreadyDone: number;
  /** shards enqueued by this producer */
  enqueued: number;
  lines: number;
  nonFinite: number;
  seconds: number;
  aborted: boolean;
}

function jobId(s: { runId: string; shard: number }): string {
  return `${s.runId}-${String(s.shard).padStart(6, '0')}`;
}

export async function runProducer<J extends ShardJob>(o: ProducerOptions<J>): Promise<ProducerSummary> {
  const name = o.queueName ?? DEFAULT_QUEUE_NAME;
  const queue = new Queue<ShardJob, ShardResult>(name, { connection: o.connection, prefix: QUEUE_PREFIX });
  const events = new QueueEvents(name, { connection: o.connection, prefix: QUEUE_PREFIX });
  const t0 = Date.now();
  const results = new Map<number, ShardResult>();
  const byId = new Map(o.shards.map((s) => [jobId(s), s]));
  const total = o.shards.reduce((n, s) => n + o.crystalsOf(s), 0);
  let doneCrystals = 0;
  let failure: string | null = null;
  let wake: () => void = () => {};
  const record = (s: J, r: ShardResult): void => {
    if (results.has(s.shard)) return; // a retried shard reports once
    results.set(s.shard, r);
    doneCrystals += o.crystalsOf(s);
    wake();
  };
  try {
    await Promise.race([
      Promise.all([queue.waitUntilReady(), events.waitUntilReady()]),
      new Promise((_, rej) => setTimeout(() => rej(new Error('no answer within 15 s')), 15_000).unref()),
    ]).catch((err: Error) => {
      throw new KldmError(`cannot reach the queue at ${redactQueueUrl(o.url)}: ${err.message}`);
    });
    // listen first, then look at the states, so that no completion falls between the two
    events.on('completed', ({ jobId: id, returnvalue }) => {
      const s = byId.get(id);
      if (!s) return;
      const r = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as ShardResult;
      record(s, r);
    });
    events.on('failed', ({ jobId: id }) => {
      if (byId.has(id)) wake(); // the poll below decides whether it is final
    });

    let enqueued = 0;
    const toAdd: J[] = [];
    for (const s of o.shards) {
      const job = await queue.getJob(jobId(s));
      if (!job) {
        toAdd.push(s);
        continue;
      }
      const state = await job.getState();
      if (state === 'completed' && job.returnvalue) record(s, job.returnvalue);
      else if (state === 'failed') await job.retry(); // a rerun retries shards that had run out of attempts
    }
    const alreadyDone = results.size;
    for (let i = 0; i < toAdd.length; i += 500) {
      await queue.addBulk(
        toAdd.slice(i, i + 500).map((s) => ({
          name: s.kind,
          data: s,
          opts: { jobId: jobId(s), attempts: o.attempts ?? 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: false, removeOnFail: false },
        })),
      );
      enqueued += Math.min(500, toAdd.length - i);
    }
    const progress = new Progress({ label: o.label ?? 'queued run', total, unit: o.unit ?? 'crystals', quiet: o.quiet, initial: doneCrystals });
    progress.update(doneCrystals);

    const poll = async (): Promise<void> => {
      for (const s of o.shards) {
        if (results.has(s.shard)) continue;
        const job: Job<ShardJob, ShardResult> | undefined = await queue.getJob(jobId(s));
        if (!job) throw new KldmError(`shard ${s.shard} of run ${s.runId} vanished from the queue (was the queue flushed?); run the command again`);
        const state = await job.getState();
        if (state === 'completed' && job.returnvalue) record(s, job.returnvalue);
        else if (state === 'failed') failure = `shard ${s.shard + 1}/${s.shards} failed after ${job.attemptsMade} attempt(s): ${job.failedReason}`;
      }
    };
    let lastPoll = 0;
    while (results.size < o.shards.length && failure === null) {
      if (o.signal?.aborted) {
        progress.finish();
        return { shards: o.shards.length, alreadyDone, enqueued, lines: 0, nonFinite: 0, seconds: (Date.now() - t0) / 1000, aborted: true };
      }
      await new Promise<void>((res) => {
        wake = res;
        setTimeout(res, 500).unref();
      });
      if (Date.now() - lastPoll > (o.pollMs ?? 5000)) {
        lastPoll = Date.now();
        await poll();
      }
      progress.update(doneCrystals);
    }
    progress.finish();
    if (failure !== null) throw new KldmError(`${failure}; fix the cause and run the same command again (finished shards are kept)`);

    // merge in shard order; the shards' lines are the single-process run's lines in the same order
    let text = '';
    let lines = 0;
    let nonFinite = 0;
    for (let s = 0; s < o.shards.length; s++) {
      const r = results.get(s)!;
      for (const line of r.lines) text += line + '\n';
      lines += r.lines.length;
      nonFinite += r.nonFinite;
    }
    writeFileAtomic(o.outPath, text);
    for (const s of o.shards) await (await queue.getJob(jobId(s)))?.remove().catch(() => {});
    return { shards: o.shards.length, alreadyDone, enqueued, lines, nonFinite, seconds: (Date.now() - t0) / 1000, aborted: false };
  } finally {
    await Promise.allSettled([events.close(), queue.close()]);
  }
}
