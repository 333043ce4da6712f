/**
 * The producer side shared by `kldm sample|generate|relax ... --queue URL` (src/queue/): banner, Ctrl-C,
 * running the producer, and the closing line. Each command plans its own shards.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { runProducer } from '../queue/producer.js';
import { parseQueueUrl, redactQueueUrl } from '../queue/url.js';
import type { ShardJob } from '../queue/worker.js';

/** the usage lines of the three queue flags (unit: what a shard holds) */
export function queueUsage(unit: string): string {
  return `  --queue <url>               redis://[user:password@]host:port[/db] or rediss:// (TLS); the merged file equals,
                              line for line, the file the same command writes without --queue
  --queue-name <name>         default kldm-shards
  --shard-size <n>            ${unit} per shard, rounded up to whole batches (default: one batch)`;
}

export async function runQueuedCommand<J extends ShardJob>(a: {
  command: string;
  url: string;
  queueName: string | undefined;
  shards: J[];
  out: string;
  quiet: boolean | undefined;
  /** what a line is ("predictions", "structures") and how many a shard holds */
  unit: string;
  itemsOf: (shard: J) => number;
  /** a short description of the run for the banner */
  what: string;
  signal?: AbortSignal;
}): Promise<number> {
  const connection = parseQueueUrl(a.url);
  mkdirSync(dirname(resolve(a.out)), { recursive: true });
  if (!a.quiet) {
    process.stderr.write(`kldm ${a.command}: ${a.what} as ${a.shards.length} shard(s) on ${redactQueueUrl(a.url)} (run ${a.shards[0]?.runId ?? '-'}); start workers with: kldm worker --queue <url>\n`);
  }
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  a.signal?.addEventListener('abort', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const r = await runProducer({
      connection, url: a.url, queueName: a.queueName, shards: a.shards, outPath: a.out, signal: controller.signal, quiet: a.quiet,
      crystalsOf: a.itemsOf, label: `queued ${a.command}`, unit: a.unit,
    });
    if (r.aborted) {
      console.log(`${a.out}: interrupted; the shards stay in the queue (workers go on): run the same command to collect them`);
      return 130;
    }
    console.log(`${a.out}: ${r.lines} ${a.unit} from ${r.shards} shard(s) (${r.alreadyDone} finished before this run, ${r.enqueued} enqueued) in ${r.seconds.toFixed(0)} s${r.nonFinite ? `, ${r.nonFinite} non-finite or failed` : ''}`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    a.signal?.removeEventListener('abort', onSignal);
  }
}
