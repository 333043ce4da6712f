/**
 * `kldm worker`: a long-lived process that takes shards from the Redis queue (BullMQ) and runs
 * them with the engine (issue #17). BullMQ gives what a home-made protocol would have to
 * reinvent: a lock per running shard, renewed while the worker lives; a shard whose worker died
 * (SIGKILL, machine lost) is "stalled" when its lock expires and goes back to the queue for
 * another worker; failed shards are retried with back-off.
 *
 * Graceful stop: SIGTERM/SIGINT let the running shard finish, then the worker exits 0; a second
 * signal stops at once, and the shard's lock expires so another worker takes it.
 */
import { Worker, UnrecoverableError, type Job } from 'bullmq';
import { InputError, KldmError } from '../util/errors.js';
import { runSampleShard, type SampleShardJob, type ShardResult } from './sampleShards.js';
import { runRelaxShard, type RelaxShardJob } from './relaxShards.js';
import { runGenerateShard, type GenerateShardJob } from './generateShards.js';
import { redactQueueUrl, type RedisConnectionOptions } from './url.js';

export const DEFAULT_QUEUE_NAME = 'kldm-shards';
/** Redis key prefix of kldm's queues (keys kldm:<queue>:...) */
export const QUEUE_PREFIX = 'kldm';

/** the kinds of shards a worker runs (a tagged union: new kinds join with their planner and runner) */
export type ShardJob = SampleShardJob | RelaxShardJob | GenerateShardJob;

export interface WorkerOptions {
  connection: RedisConnectionOptions;
  /** for messages (password redacted) */
  url: string;
  queueName?: string;
  /** how long a shard's lock lives without renewal: a killed worker's shard is retried after about this long */
  lockDurationMs?: number;
  /** how often workers look for stalled shards */
  stalledIntervalMs?: number;
  log?: (line: string) => void;
}

export interface RunningWorker {
  worker: Worker<ShardJob, ShardResult>;
  /** resolves when the worker has stopped */
  closed: Promise<void>;
  /** graceful stop: finish the running shard; force: stop now (the shard is retried elsewhere) */
  stop(force?: boolean): Promise<void>;
}

async function processShard(job: Job<ShardJob, ShardResult>): Promise<ShardResult> {
  const data = job.data;
  try {
    if (data?.kind === 'sample') {
      return await runSampleShard(data, (done, total) => void job.updateProgress({ batches: done, of: total }));
    }
    if (data?.kind === 'generate') {
      return await runGenerateShard(data, (done, total) => void job.updateProgress({ batches: done, of: total }));
    }
    if (data?.kind === 'relax') {
      return await runRelaxShard(data, (done, total) => void job.updateProgress({ chunks: done, of: total }));
    }
    throw new InputError(`unknown shard kind "${String((data as { kind?: unknown })?.kind)}"; this worker runs sample, generate and relax shards (update kldm on the worker?)`);
  } catch (err) {
    // wrong model or input: retrying elsewhere would fail the same way
    if (err instanceof InputError || err instanceof KldmError) throw new UnrecoverableError(err.message);
    throw err;
  }
}

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const name = o.queueName ?? DEFAULT_QUEUE_NAME;
  const worker = new Worker<ShardJob, ShardResult>(name, processShard, {
    connection: o.connection,
    prefix: QUEUE_PREFIX,
    concurrency: 1, // one shard at a time: sampling is CPU-bound; run more processes for more shards
    lockDuration: o.lockDurationMs ?? 30_000,
    stalledInterval: o.stalledIntervalMs ?? 15_000,
    maxStalledCount: 3,
    autorun: false,
  });
  worker.on('active', (job) => log(`kldm worker: shard ${job.data.shard + 1}/${job.data.shards} of run ${job.data.runId} (attempt ${job.attemptsMade + 1})`));
  worker.on('completed', (job, r) => log(`kldm worker: shard ${job.data.shard + 1}/${job.data.shards} done: ${r.lines.length} lines in ${r.seconds.toFixed(1)} s`));
  worker.on('failed', (job, err) => log(`kldm worker: shard ${job ? `${job.data.shard + 1}/${job.data.shards}` : '?'} failed: ${err.message}`));
  worker.on('error', (err) => log(`kldm worker: queue error: ${err.message}`));
  await Promise.race([
    worker.waitUntilReady(),
    new Promise((_, rej) => setTimeout(() => rej(new Error('no answer within 15 s')), 15_000).unref()),
  ]).catch(async (err: Error) => {
    await worker.close(true).catch(() => {});
    throw new KldmError(`cannot reach the queue at ${redactQueueUrl(o.url)}: ${err.message}`);
  });
  const closed = worker.run();
  let stopping: Promise<void> | null = null;
  return {
    worker,
    closed: closed.then(() => undefined),
    stop: (force = false) => {
      if (force) return worker.close(true);
      return (stopping ??= worker.close());
    },
  };
}
