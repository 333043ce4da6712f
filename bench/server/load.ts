/**
 * Load test of `kldm serve` on loopback (issue #6; a benchmark, not a timed
 * test): N concurrent clients (default 50) for a bounded time (default 60 s)
 * submit predictions, poll their jobs, sometimes cancel them, and call
 * /api/health. Reports p50/p99/max latency per endpoint, 429 counts, errors,
 * finished jobs and the server's peak RSS (VmHWM of the server process).
 *
 *   npm run build && npm run bench:server -- [--clients 50] [--seconds 60] [--real] [--src] [--out out/bench/server-load.json]
 *
 * The server runs from dist/ (compiled, as `kldm serve` does) when built, else from src/ through tsx (--src forces that).
 *
 * The server runs in its own process (bench/server/serve.ts) so its memory and
 * event loop are measured alone. Default: the deterministic fake predictor in
 * worker threads (KLDM_FAKE_STEP_MS per step), which measures the server, not the model.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

// `npm run bench:server -- --soak`: the soak of the real server (bench/server/soak.ts) instead of this load test
if (process.argv.includes('--soak')) {
  await import('./soak.js');
  await new Promise(() => {}); // soak.ts exits the process itself
}

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '60' },
    real: { type: 'boolean', default: false },
    src: { type: 'boolean', default: false },
    out: { type: 'string', default: 'out/bench/server-load.json' },
  },
});
const CLIENTS = Math.min(500, Number(values.clients));
const SECONDS = Math.min(600, Number(values.seconds));

const FORMULAS = ['NaCl', 'SrTiO3', 'Li3PS4', 'Fe2O3', 'CsPbI3', 'MgAl2O4', 'GaN', 'BaTiO3'];

const server = spawn(
  process.execPath,
  ['--import', 'tsx', 'bench/server/serve.ts', ...(values.real ? ['--real'] : []), ...(values.src ? ['--src'] : [])],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KLDM_FAKE_STEP_MS: process.env.KLDM_FAKE_STEP_MS ?? '5' } },
);
const url: string = await new Promise((res, rej) => {
  let buf = '';
  server.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const m = /URL (\S+)/.exec(buf);
    if (m) res(m[1]!);
  });
  server.on('exit', (code) => rej(new Error(`server exited (${code})`)));
});

type Kind = 'health' | 'predict' | 'job' | 'cancel';
const lat: Record<Kind, number[]> = { health: [], predict: [], job: [], cancel: [] };
const counts = { s429: 0, errors: 0, accepted: 0, done: 0, cancelled: 0, failed: 0 };
const errorSamples: string[] = [];
let peakRss = 0;
let rssFromHealth = 0;
let loopDelay: unknown = null;

function readHwm(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function timed(kind: Kind, path: string, init?: RequestInit): Promise<Response | null> {
  const t0 = performance.now();
  try {
    const res = await fetch(url + path, init);
    await res.arrayBuffer().then((b) => {
      if (kind === 'health' && res.ok) {
        const h = JSON.parse(Buffer.from(b).toString()) as { memory?: { rssBytes: number }; eventLoopDelayMs?: unknown };
        rssFromHealth = Math.max(rssFromHealth, h.memory?.rssBytes ?? 0);
        loopDelay = h.eventLoopDelayMs ?? loopDelay;
      }
      (res as Response & { bodyBytes?: ArrayBuffer }).bodyBytes = b;
    });
    lat[kind].push(performance.now() - t0);
    if (res.status === 429) counts.s429++;
    else if (res.status >= 400 && res.status !== 404) {
      counts.errors++;
      if (errorSamples.length < 5) errorSamples.push(`${kind} ${res.status}`);
    }
    return res;
  } catch (err) {
    counts.errors++;
    if (errorSamples.length < 5) errorSamples.push(`${kind}: ${(err as Error).message}`);
    return null;
  }
}

const deadline = Date.now() + SECONDS * 1000;

async function client(id: number): Promise<void> {
  let i = 0;
  while (Date.now() < deadline) {
    i++;
    await timed('health', '/api/health');
    const body = {
      formula: FORMULAS[(id + i) % FORMULAS.length],
      n: 1 + ((id + i) % 2),
      steps: 50 + ((id * 7 + i * 13) % 150),
      seed: id * 1000 + i,
      trajectory: i % 3 === 0,
    };
    const res = await timed('predict', '/api/predict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res || res.status !== 202) {
      await sleep(250 + Math.random() * 250);
      continue;
    }
    counts.accepted++;
    const job = JSON.parse(Buffer.from((res as Response & { bodyBytes: ArrayBuffer }).bodyBytes).toString()) as { id: string };
    const cancelAfter = i % 10 === 0 ? 2 : Infinity;
    for (let poll = 0; Date.now() < deadline; poll++) {
      await sleep(200);
      if (poll === cancelAfter) await timed('cancel', `/api/jobs/${job.id}`, { method: 'DELETE' });
      const r = await timed('job', `/api/jobs/${job.id}`);
      if (!r || r.status !== 200) break;
      const s = (JSON.parse(Buffer.from((r as Response & { bodyBytes: ArrayBuffer }).bodyBytes).toString()) as { status: string }).status;
      if (s === 'done' || s === 'failed' || s === 'cancelled') {
        counts[s]++;
        break;
      }
    }
  }
}

const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, readHwm())), 500);
const t0 = Date.now();
await Promise.all(Array.from({ length: CLIENTS }, (_, k) => client(k)));
clearInterval(rssTimer);
peakRss = Math.max(peakRss, readHwm());
const wall = (Date.now() - t0) / 1000;
server.kill('SIGTERM');

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const report = {
  clients: CLIENTS,
  seconds: wall,
  predictor: values.real ? 'real' : `fake (${process.env.KLDM_FAKE_STEP_MS ?? '5'} ms/step)`,
  latencyMs: Object.fromEntries(
    (Object.keys(lat) as Kind[]).map((k) => [
      k,
      { count: lat[k].length, p50: +pct(lat[k], 50).toFixed(2), p99: +pct(lat[k], 99).toFixed(2), max: +pct(lat[k], 100).toFixed(2) },
    ]),
  ),
  status429: counts.s429,
  errors: counts.errors,
  errorSamples,
  jobs: { accepted: counts.accepted, done: counts.done, cancelled: counts.cancelled, failed: counts.failed },
  serverPeakRssMiB: +((peakRss || rssFromHealth) / 2 ** 20).toFixed(1),
  serverPeakRssSource: peakRss ? '/proc VmHWM' : '/api/health rss samples',
  serverEventLoopDelayMs: loopDelay,
};
console.log(JSON.stringify(report, null, 2));
const out = resolve(values.out!);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
console.log(`bench/server/load: report written to ${out}`);
