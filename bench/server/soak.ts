/**
 * Soak of a live `kldm serve` with the real shipped models (issue #16): >= 1,000
 * real prediction jobs on loopback (mixed sizes and samplers, trajectories on
 * and off, cancellations, bursts beyond the queue cap, bad requests mixed in),
 * then a clean shutdown. Prints and writes a JSON report: completed / failed /
 * cancelled / rejected / lost counts, latency percentiles, peak RSS and RSS
 * drift after warm-up (server + worker processes), worker restarts, and
 * whether the server survived.
 *
 *   npm run build && npm run bench:server -- --soak [--jobs 1000] [--clients 3] [--max-queue 4] [--result-ttl 10s] [--minutes 60] [--out out/bench/server-soak.json]
 *
 * Finished results are kept for --result-ttl (the server's default is 1 h, up to 500 jobs / 256 MiB): with the
 * default the server's memory grows by design until that store is full, which is not a leak; the soak uses 10 s so
 * that the store reaches its steady state early and the drift measures leaks only.
 * The server is the real CLI (bin/kldm.mjs serve, from dist/), in its own process.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runSoak } from '../../src/server/testing/soak.js';

const { values } = parseArgs({
  options: {
    soak: { type: 'boolean', default: true },
    jobs: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '3' },
    'max-queue': { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '2' },
    minutes: { type: 'string', default: '60' },
    'result-ttl': { type: 'string', default: '10s' },
    'warmup-fraction': { type: 'string', default: '0.25' },
    out: { type: 'string', default: 'out/bench/server-soak.json' },
  },
});

const server = spawn(
  process.execPath,
  ['bin/kldm.mjs', 'serve', '--port', '0', '--max-queue', values['max-queue']!, '--concurrency', values.concurrency!, '--result-ttl', values['result-ttl']!],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
server.on('exit', (code, signal) => (exit = { code, signal }));
let serverLog = '';
server.stderr!.on('data', (d: Buffer) => (serverLog += d.toString()));
const url: string = await new Promise((res, rej) => {
  let buf = '';
  server.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const m = /listening on (http:\/\/\S+?)\/\s/.exec(buf);
    if (m) res(m[1]!);
  });
  server.on('exit', (code) => rej(new Error(`server exited (${code}) before listening: ${serverLog}`)));
});
console.error(`soak: server pid ${server.pid} at ${url}`);

const report = await runSoak({
  url,
  jobs: Number(values.jobs),
  clients: Number(values.clients),
  serverPid: server.pid!,
  deadlineMs: Number(values.minutes) * 60_000,
  alive: () => exit === null,
  warmupFraction: Number(values['warmup-fraction']),
  onProgress: (line) => console.error(line),
});
const diedDuringRun = exit !== null;
const stopped = new Promise<void>((res) => (exit ? res() : server.once('exit', () => res())));
server.kill('SIGINT');
await stopped;
const full = {
  ...report,
  server: {
    survived: !diedDuringRun,
    exit,
    cleanShutdown: !diedDuringRun && (exit as { code: number | null } | null)?.code === 0,
    stderrTail: serverLog.split('\n').slice(-10).join('\n'),
  },
  settings: { resultTtl: values['result-ttl'], clients: Number(values.clients), maxQueue: Number(values['max-queue']), concurrency: Number(values.concurrency) },
};
console.log(JSON.stringify(full, null, 2));
const out = resolve(values.out!);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(full, null, 2) + '\n');
console.error(`soak: report written to ${out}`);
const ok = full.server.survived && full.server.cleanShutdown && report.lost === 0 && report.badRequestsMishandled.length === 0;
process.exit(ok ? 0 : 1);
