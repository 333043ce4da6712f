/**
 * Soak driver for a live `kldm serve` (issue #16): many real prediction jobs
 * from a few concurrent clients, with mixed cell sizes, sample counts, step
 * counts and samplers, trajectories on and off, cancellations (queued and
 * running), malformed and invalid requests mixed in, and bursts that push the
 * queue to its cap. It counts what became of every accepted job (a job that
 * disappears or never finishes is "lost"), latencies, and the resident memory
 * of the server and its worker processes over the run (peak and drift after
 * warm-up). Used by `npm run bench:server -- --soak` and, in a short version,
 * by the CI test src/server/soak.slow.test.ts. Loopback only; bounded in jobs
 * and time.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SoakOptions {
  /** base URL of the server, e.g. http://127.0.0.1:8080 */
  url: string;
  /** prediction jobs to get accepted (202) in total */
  jobs: number;
  /** concurrent clients; 1 = strictly sequential jobs */
  clients: number;
  /** pid of the server process (its RSS is sampled from /proc) */
  serverPid: number;
  /** the run stops here even if not all jobs were submitted */
  deadlineMs: number;
  /** formulas to draw from (cell sizes the shipped models serve) */
  formulas?: string[];
  /** step counts are drawn from [min, max] */
  steps?: [number, number];
  /** every k-th job is cancelled (alternately at once and after its first progress) */
  cancelEvery?: number;
  /** every k-th job is a de-novo generation (POST /api/generate, the default DNG model; 0 = none; default 5) */
  generateEvery?: number;
  /** a bad request is sent before every k-th job */
  badEvery?: number;
  /** every k-th job of client 0 is preceded by a burst of submissions beyond the queue cap */
  burstEvery?: number;
  /** checked between jobs: false stops the run (the server died) */
  alive?: () => boolean;
  /**
   * fraction of the jobs counted as warm-up for the drift (default 0.25): workers start, each model's work
   * buffers grow to the largest batch seen (a high-water mark, by design), the result store fills to its TTL
   */
  warmupFraction?: number;
  onProgress?: (line: string) => void;
}

export interface SoakReport {
  jobsAccepted: number;
  /** of which de-novo generations (POST /api/generate) */
  generationsAccepted: number;
  done: number;
  failed: number;
  failedCodes: Record<string, number>;
  cancelled: number;
  /** accepted jobs whose record vanished or that never finished before the deadline */
  lost: number;
  rejected: { badRequest: number; queueFull: number; other: number };
  badRequestsSent: number;
  /** bad requests that were not answered with a 4xx carrying a JSON error message */
  badRequestsMishandled: string[];
  transportErrors: string[];
  latencyMs: {
    submit: { p50: number; p90: number; p99: number; max: number };
    job: { p50: number; p90: number; p99: number; max: number };
  };
  memory: {
    samples: number;
    peakTotalMiB: number;
    peakServerMiB: number;
    /** mean total RSS (server + workers) over the first sampled decile after warm-up vs over the last decile */
    warmMiB: number;
    endMiB: number;
    driftPercent: number;
    /** the server process alone (job records and kept results live here) */
    serverWarmMiB: number;
    serverEndMiB: number;
  };
  workerRestarts: number | null;
  wallSeconds: number;
  jobsPerSecond: number;
}

const DEFAULT_FORMULAS = ['SrTiO3', 'BaTiO3', 'CaZrO3', 'NaCl', 'GaN', 'Si', 'Li2O', 'Fe2O3', 'MgAl2O4', 'LiFePO4', 'Li3PS4', 'CsPbI3', 'ZnS', 'TiO2', 'Ca(OH)2'];

/** Malformed or invalid requests: each must get a 4xx with a JSON error message, never a crash. */
const BAD_REQUESTS: { name: string; body: string; contentType?: string; path?: string }[] = [
  { name: 'malformed JSON', body: '{"formula": "NaCl", "n": ' },
  { name: 'not an object', body: '[1,2,3]' },
  { name: 'wrong type', body: JSON.stringify({ formula: 42 }) },
  { name: 'unknown element', body: JSON.stringify({ formula: 'Xx2O' }) },
  { name: 'huge n', body: JSON.stringify({ formula: 'NaCl', n: 1e308 }) },
  { name: 'negative steps', body: JSON.stringify({ formula: 'NaCl', steps: -5 }) },
  { name: 'too many atoms', body: JSON.stringify({ formula: 'C1000' }) },
  { name: 'unknown field', body: JSON.stringify({ formula: 'NaCl', bogus: true }) },
  { name: 'unknown model', body: JSON.stringify({ formula: 'NaCl', model: '../../etc/passwd' }) },
  { name: 'wrong content type', body: 'formula=NaCl', contentType: 'application/x-www-form-urlencoded' },
  { name: 'generate: unknown element', path: '/api/generate', body: JSON.stringify({ elements: ['Sr', 'Xq'] }) },
  { name: 'generate: zero atoms', path: '/api/generate', body: JSON.stringify({ atoms: 0 }) },
  { name: 'generate: formula field', path: '/api/generate', body: JSON.stringify({ formula: 'SrTiO3' }) },
  { name: 'generate: model path', path: '/api/generate', body: JSON.stringify({ model: '../../etc/passwd' }) },
];

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(1);
}

export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Small deterministic generator, so a soak run is the same sequence of requests every time. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const formulas = o.formulas ?? DEFAULT_FORMULAS;
  const [sMin, sMax] = o.steps ?? [10, 120];
  const cancelEvery = o.cancelEvery ?? 10;
  const badEvery = o.badEvery ?? 7;
  const burstEvery = o.burstEvery ?? 50;
  const generateEvery = o.generateEvery ?? 5;
  const t0 = Date.now();
  const r: SoakReport = {
    jobsAccepted: 0, generationsAccepted: 0, done: 0, failed: 0, failedCodes: {}, cancelled: 0, lost: 0,
    rejected: { badRequest: 0, queueFull: 0, other: 0 }, badRequestsSent: 0, badRequestsMishandled: [], transportErrors: [],
    latencyMs: { submit: { p50: 0, p90: 0, p99: 0, max: 0 }, job: { p50: 0, p90: 0, p99: 0, max: 0 } },
    memory: { samples: 0, peakTotalMiB: 0, peakServerMiB: 0, warmMiB: 0, endMiB: 0, driftPercent: 0, serverWarmMiB: 0, serverEndMiB: 0 },
    workerRestarts: null, wallSeconds: 0, jobsPerSecond: 0,
  };
  const submitLat: number[] = [];
  const jobLat: number[] = [];
  const mem: { jobs: number; total: number; server: number }[] = [];
  let workerPids: number[] = [];
  let submitted = 0;
  let finished = 0;
  let bursts = 0;
  let nextSample = 0;
  const dead = (): boolean => Date.now() > t0 + o.deadlineMs || (o.alive !== undefined && !o.alive());

  const note = (e: unknown, what: string): void => {
    if (r.transportErrors.length < 20) r.transportErrors.push(`${what}: ${(e as Error).message}`);
  };
  const getJson = async (path: string, init?: RequestInit): Promise<{ status: number; body: any }> => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const res = await fetch(o.url + path, init);
    const text = await res.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, body };
  };

  const sampleMemory = async (): Promise<void> => {
    try {
      const h = await getJson('/api/health');
      workerPids = (h.body?.workers?.pids as number[] | undefined) ?? workerPids;
      r.workerRestarts = (h.body?.workers?.restarts as number | undefined) ?? r.workerRestarts;
    } catch (e) {
      note(e, 'health');
    }
    const server = rssBytes(o.serverPid);
    const total = server + workerPids.reduce((s, p) => s + rssBytes(p), 0);
    r.memory.peakServerMiB = Math.max(r.memory.peakServerMiB, server / 2 ** 20);
    r.memory.peakTotalMiB = Math.max(r.memory.peakTotalMiB, total / 2 ** 20);
    mem.push({ jobs: finished, total, server });
  };

  const sendBad = async (k: number): Promise<void> => {
    const bad = BAD_REQUESTS[k % BAD_REQUESTS.length]!;
    r.badRequestsSent++;
    try {
      const res = await getJson(bad.path ?? '/api/predict', { method: 'POST', headers: { 'content-type': bad.contentType ?? 'application/json' }, body: bad.body });
      const msg = res.body?.error?.message;
      if (res.status >= 400 && res.status < 500 && typeof msg === 'string' && msg.length > 0) r.rejected.badRequest++;
      else if (res.status === 429) r.rejected.queueFull++;
      else r.badRequestsMishandled.push(`${bad.name}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
    } catch (e) {
      note(e, `bad request ${bad.name}`);
    }
  };

  const burst = async (rand: () => number): Promise<void> => {
    // submissions well beyond the queue's cap: the excess must be 429, the accepted ones are cancelled at once
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) {
      try {
        const res = await getJson('/api/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ formula: formulas[Math.floor(rand() * formulas.length)], steps: 200, sampler: 'em' }) });
        if (res.status === 202) ids.push(res.body.id);
        else if (res.status === 429) r.rejected.queueFull++;
        else r.rejected.other++;
      } catch (e) {
        note(e, 'burst');
      }
    }
    r.jobsAccepted += ids.length;
    for (const id of ids) {
      try {
        await getJson(`/api/jobs/${id}`, { method: 'DELETE' });
      } catch (e) {
        note(e, 'burst cancel');
      }
    }
    for (const id of ids) await waitJob(id, Date.now());
  };

  const waitJob = async (id: string, submittedAt: number, cancel?: 'now' | 'running'): Promise<void> => {
    if (cancel === 'now') {
      try {
        await getJson(`/api/jobs/${id}`, { method: 'DELETE' });
      } catch (e) {
        note(e, 'cancel');
      }
    }
    let cancelled = cancel === 'now';
    for (;;) {
      if (dead()) {
        r.lost++;
        return;
      }
      let res;
      try {
        res = await getJson(`/api/jobs/${id}`);
      } catch (e) {
        note(e, 'poll');
        await sleep(100);
        continue;
      }
      if (res.status !== 200) {
        r.lost++;
        return;
      }
      const s = res.body.status as string;
      if (!cancelled && cancel === 'running' && s === 'running' && res.body.progress.step > 0) {
        cancelled = true;
        await getJson(`/api/jobs/${id}`, { method: 'DELETE' }).catch((e) => note(e, 'cancel'));
      }
      if (s === 'done' || s === 'failed' || s === 'cancelled') {
        finished++;
        jobLat.push(Date.now() - submittedAt);
        if (s === 'done') r.done++;
        else if (s === 'cancelled') r.cancelled++;
        else {
          r.failed++;
          const code = String(res.body.error?.code ?? 'unknown');
          r.failedCodes[code] = (r.failedCodes[code] ?? 0) + 1;
        }
        return;
      }
      await sleep(s === 'queued' ? 50 : 25);
    }
  };

  const client = async (c: number): Promise<void> => {
    const rand = lcg(1000 + c);
    for (;;) {
      if (dead() || submitted >= o.jobs) return;
      const k = submitted++;
      if (badEvery > 0 && k % badEvery === 0) await sendBad(k);
      if (c === 0 && burstEvery > 0 && bursts < Math.floor(k / burstEvery)) {
        bursts++;
        await burst(rand);
      }
      const generate = generateEvery > 0 && k % generateEvery === generateEvery - 1;
      const common = {
        n: 1 + Math.floor(rand() * 3),
        steps: sMin + Math.floor(rand() * (sMax - sMin + 1)),
        sampler: rand() < 0.7 ? 'em' : 'pc',
        seed: k,
        trajectory: k % 3 === 0,
      };
      // a generation: the default DNG model, its training distribution of atom counts, half of them in a chemical system
      const body = generate ? { ...common, ...(rand() < 0.5 ? { elements: ['Sr', 'Ti', 'O'] } : {}) } : { formula: formulas[Math.floor(rand() * formulas.length)], ...common };
      const ts = Date.now();
      let res;
      try {
        res = await getJson(generate ? '/api/generate' : '/api/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      } catch (e) {
        note(e, 'submit');
        submitted--;
        await sleep(200);
        continue;
      }
      submitLat.push(Date.now() - ts);
      if (res.status === 429) {
        r.rejected.queueFull++;
        submitted--; // not a job: try again after the server's hint
        await sleep(200);
        continue;
      }
      if (res.status !== 202) {
        r.rejected.other++;
        if (r.badRequestsMishandled.length < 20) r.badRequestsMishandled.push(`valid request ${JSON.stringify(body)}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`);
        continue;
      }
      r.jobsAccepted++;
      if (generate) r.generationsAccepted++;
      const cancel = cancelEvery > 0 && k % cancelEvery === 0 ? ((k / cancelEvery) % 2 === 0 ? 'now' : 'running') : undefined;
      await waitJob(res.body.id, ts, cancel);
      if (c === 0 && finished >= nextSample) {
        nextSample = finished + 10;
        await sampleMemory();
        o.onProgress?.(`soak: ${finished} jobs finished of ${o.jobs} (${r.done} done, ${r.cancelled} cancelled, ${r.failed} failed), ${((Date.now() - t0) / 1000).toFixed(0)} s, RSS ${(mem.at(-1)!.total / 2 ** 20).toFixed(0)} MiB`);
      }
    }
  };

  await sampleMemory();
  await Promise.all(Array.from({ length: o.clients }, (_, c) => client(c)));
  await sampleMemory();

  r.wallSeconds = +((Date.now() - t0) / 1000).toFixed(1);
  r.jobsPerSecond = +(finished / r.wallSeconds).toFixed(2);
  r.latencyMs.submit = { p50: pct(submitLat, 50), p90: pct(submitLat, 90), p99: pct(submitLat, 99), max: pct(submitLat, 100) };
  r.latencyMs.job = { p50: pct(jobLat, 50), p90: pct(jobLat, 90), p99: pct(jobLat, 99), max: pct(jobLat, 100) };
  // drift: after warm-up (see warmupFraction), the first decile of the memory samples vs the last decile
  const warm = mem.filter((m) => m.jobs >= (o.warmupFraction ?? 0.25) * finished);
  const dec = Math.max(1, Math.floor(warm.length / 10));
  const mean = (xs: typeof mem, key: 'total' | 'server' = 'total'): number => xs.reduce((s, m) => s + m[key], 0) / Math.max(1, xs.length) / 2 ** 20;
  r.memory.serverWarmMiB = +mean(warm.slice(0, dec), 'server').toFixed(1);
  r.memory.serverEndMiB = +mean(warm.slice(-dec), 'server').toFixed(1);
  r.memory.samples = mem.length;
  r.memory.warmMiB = +mean(warm.slice(0, dec)).toFixed(1);
  r.memory.endMiB = +mean(warm.slice(-dec)).toFixed(1);
  r.memory.driftPercent = r.memory.warmMiB > 0 ? +((100 * (r.memory.endMiB - r.memory.warmMiB)) / r.memory.warmMiB).toFixed(1) : 0;
  r.memory.peakTotalMiB = +r.memory.peakTotalMiB.toFixed(1);
  r.memory.peakServerMiB = +r.memory.peakServerMiB.toFixed(1);
  return r;
}
