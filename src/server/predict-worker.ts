/**
 * Entry of a long-lived prediction worker PROCESS (forked by worker-pool.ts).
 * It runs one job at a time, for as many jobs as the pool sends, prediction
 * (predictStructures) and generation (generateStructures, generate-job.ts)
 * alike, and keeps what it loaded between jobs (the modules and, through the model
 * registry's cache, the networks of the models it has used), so a job pays no
 * model load after the first. Sampling is CPU-bound and synchronous between
 * progress callbacks, so it runs here, away from the HTTP server's event loop;
 * being a process, a native crash (SIGSEGV) or a runaway job takes down only
 * this worker, never the server (issue #16).
 *
 * Protocol (IPC, advanced serialisation so typed arrays cross unchanged):
 *   parent -> worker: {type:'job', id, module, request} | {type:'abort', id}
 *     (module: URL of the module exporting predictStructures, or generateStructures for a generate request)
 *   worker -> parent: {type:'ready'} | {type:'progress', id, step, total} | {type:'frame', id, sample, frame}
 *                     | {type:'done', id, result} | {type:'error', id, message, input}
 * The worker exits when its IPC channel closes (the server stopped or died).
 */
import type { PredictOptions, PredictResult, TrajectoryFrame } from '../predict/types.js';
import type { JobRequest, JobResult } from './services.js';
import { runGenerateJob, type GenerateFn } from './generate-job.js';

export type ToWorker =
  | { type: 'job'; id: number; module: string; request: JobRequest }
  | { type: 'abort'; id: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: number; step: number; total: number }
  | { type: 'frame'; id: number; sample: number; frame: TrajectoryFrame }
  | { type: 'done'; id: number; result: JobResult }
  | { type: 'error'; id: number; message: string; input: boolean };

type PredictFn = (formula: string, options: PredictOptions) => Promise<PredictResult>;

const PROGRESS_INTERVAL_MS = 100;

const send = (m: FromWorker): void => {
  if (process.connected) process.send!(m);
};

if (!process.send) throw new Error('predict-worker must run as a forked child process with an IPC channel');

interface LibraryModule {
  predictStructures?: PredictFn;
  generateStructures?: GenerateFn;
}

const modules = new Map<string, LibraryModule>();
let current: { id: number; controller: AbortController } | null = null;

async function loadModule(url: string): Promise<LibraryModule> {
  let mod = modules.get(url);
  if (!mod) {
    mod = (await import(url)) as LibraryModule;
    modules.set(url, mod);
  }
  return mod;
}

async function libraryFn<K extends keyof LibraryModule>(url: string, name: K): Promise<NonNullable<LibraryModule[K]>> {
  const fn = (await loadModule(url))[name];
  if (typeof fn !== 'function') throw new Error(`${url} does not export ${name}`);
  return fn as NonNullable<LibraryModule[K]>;
}

async function runJob(id: number, module: string, request: JobRequest): Promise<void> {
  const controller = new AbortController();
  current = { id, controller };
  let lastProgress = 0;
  const progress = (step: number, total: number): void => {
    const now = Date.now();
    if (step < total && now - lastProgress < PROGRESS_INTERVAL_MS) return;
    lastProgress = now;
    send({ type: 'progress', id, step, total });
  };
  const frame = (sample: number, f: TrajectoryFrame): void => send({ type: 'frame', id, sample, frame: f });
  try {
    if (request.kind === 'generate') {
      const generate = await libraryFn(module, 'generateStructures');
      const result = await runGenerateJob(generate, request, { signal: controller.signal, onProgress: progress, onFrame: frame });
      send({ type: 'done', id, result });
      return;
    }
    const predict = await libraryFn(module, 'predictStructures');
    const options: PredictOptions = {
      n: request.n,
      z: request.z,
      sampler: request.sampler,
      steps: request.steps,
      seed: request.seed,
      trajectory: request.trajectory,
      trajectoryStride: request.trajectoryStride,
      signal: controller.signal,
      onProgress: ({ step, total }) => progress(step, total),
      onFrame: frame,
    };
    if (request.model !== undefined) options.model = request.model;
    const result = await predict(request.formula, options);
    send({ type: 'done', id, result });
  } catch (err) {
    const e = err as { name?: string; message?: string };
    // KldmError/InputError mean bad user input (e.g. an element the model does not know)
    const input = e?.name === 'InputError' || e?.name === 'KldmError';
    send({ type: 'error', id, message: e?.message ?? String(err), input });
  } finally {
    current = null;
  }
}

process.on('message', (m: ToWorker) => {
  if (m?.type === 'job') {
    if (current) {
      send({ type: 'error', id: m.id, message: `worker busy with job ${current.id}`, input: false });
      return;
    }
    void runJob(m.id, m.module, m.request);
  } else if (m?.type === 'abort' && current?.id === m.id) {
    current.controller.abort();
  }
});
// the server closed the channel (shutdown) or died: nothing is left to do here
process.on('disconnect', () => process.exit(0));
// load the library modules (prediction, generation) before the first job asks for them
for (const preload of process.argv.slice(2)) await loadModule(preload).catch(() => {}); // a failure is reported to the job that needs the module
send({ type: 'ready' });
