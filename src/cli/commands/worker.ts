/**
 * `kldm worker`: a long-lived process that runs shards of queued `kldm sample` runs from a Redis
 * queue (issue #17; src/queue/). With --concurrency k it starts k worker processes (each one shard
 * at a time, KLDM_THREADS = cores / k unless set) and supervises them.
 */
import { parseArgs } from 'node:util';
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { Command } from '../command.js';
import { InputError } from '../../util/errors.js';
import { parseDuration } from '../../util/progress.js';
import { intOptionOr as intFlag } from '../args.js';
import { parseQueueUrl, redactQueueUrl } from '../../queue/url.js';
import { DEFAULT_QUEUE_NAME, startWorker, type RunningWorker } from '../../queue/worker.js';

const usage = `Usage: kldm worker --queue <redis://[user:password@]host:port[/db]> [options]

Takes shards of queued runs (kldm sample ... --queue URL) from Redis, runs them with this
machine's engine and models, and stores each shard's lines back in the queue. Runs until stopped:
SIGTERM or Ctrl-C finishes the running shard and exits 0; a second signal stops at once (the shard
goes back to the queue when its lock expires). A worker killed outright has its shard retried by
another worker after --lock-duration.

Options:
  --queue <url>            redis:// or rediss:// (TLS); a password in the URL is used for AUTH, never printed
  --queue-name <name>      default ${DEFAULT_QUEUE_NAME}
  --concurrency <k>        worker processes on this machine (default 1), each one shard at a time;
                           KLDM_THREADS defaults to cores/k in each
  --lock-duration <dur>    lock of a running shard (default 30s): a dead worker's shard is retried after this
  --stalled-interval <dur> how often workers look for shards of dead workers (default 15s)
`;

function durationMs(flag: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  let s: number;
  try {
    s = parseDuration(raw);
  } catch (err) {
    throw new InputError(`${flag}: ${(err as Error).message}`);
  }
  if (!(s >= 0.5)) throw new InputError(`${flag} must be at least 0.5s, got "${raw}"`);
  return Math.round(s * 1000);
}

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run shards of queued sample runs from a Redis queue (scale-out over machines)',
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        queue: { type: 'string' },
        'queue-name': { type: 'string' },
        concurrency: { type: 'string' },
        'lock-duration': { type: 'string' },
        'stalled-interval': { type: 'string' },
      },
    });
    if (!values.queue) throw new InputError('--queue <redis://host:port> is required');
    const connection = parseQueueUrl(values.queue);
    const k = intFlag('--concurrency', values.concurrency, 1, 1);
    const lockDurationMs = durationMs('--lock-duration', values['lock-duration'], 30_000);
    const stalledIntervalMs = durationMs('--stalled-interval', values['stalled-interval'], 15_000);
    if (k > 1) return superviseWorkers(k, argv);

    // Signals are taken from before the worker connects: a SIGTERM while it starts up (a service
    // manager stopping it early, a supervisor's Ctrl-C) must stop it cleanly with exit 0, not kill it
    // with Node's default action. A first signal lets a shard taken meanwhile finish; a second stops now.
    let w: RunningWorker | null = null;
    let signals = 0;
    const onSignal = (): void => {
      signals++;
      process.stderr.write(signals === 1 ? `kldm worker ${process.pid}: stopping after the running shard (signal again to stop now)\n` : `kldm worker ${process.pid}: stopping now\n`);
      if (w) void w.stop(signals > 1);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // a long-lived worker logs a stray rejection of the queue library (e.g. a connection dropped while
    // stopping) instead of dying with it; the shard it concerned is retried by the queue
    const onRejection = (reason: unknown): void => {
      process.stderr.write(`kldm worker ${process.pid}: ignored an unhandled rejection: ${reason instanceof Error ? reason.message : String(reason)}\n`);
    };
    process.on('unhandledRejection', onRejection);
    try {
      w = await startWorker({ connection, url: values.queue, queueName: values['queue-name'], lockDurationMs, stalledIntervalMs });
      if (signals > 0) void w.stop(signals > 1); // signalled while starting up
      else process.stderr.write(`kldm worker ${process.pid}: waiting for shards on ${redactQueueUrl(values.queue)} (queue ${values['queue-name'] ?? DEFAULT_QUEUE_NAME}); Ctrl-C stops\n`);
      await w.closed;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('unhandledRejection', onRejection);
    }
    return 0;
  },
};

/** k worker processes of this same command with --concurrency 1; signals are passed on; exit 0 when all exit 0. */
async function superviseWorkers(k: number, argv: string[]): Promise<number> {
  const childArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--concurrency') i++;
    else if (!a.startsWith('--concurrency=')) childArgs.push(a);
  }
  const threads = process.env['KLDM_THREADS'] ?? String(Math.max(1, Math.floor(availableParallelism() / k)));
  const children: ChildProcess[] = [];
  const exits: Promise<number>[] = [];
  for (let i = 0; i < k; i++) {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'worker', ...childArgs, '--concurrency', '1'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, KLDM_THREADS: threads },
    });
    children.push(child);
    exits.push(new Promise((res) => child.on('exit', (code, signal) => res(code ?? (signal ? 128 : 1)))));
  }
  const forward = (sig: NodeJS.Signals) => (): void => {
    for (const c of children) if (c.exitCode === null) c.kill(sig);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const codes = await Promise.all(exits);
    return codes.every((c) => c === 0) ? 0 : 1;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
