/**
 * Entry of a long-lived prediction worker PROCESS (forked by worker-pool.ts).
 * It runs one job at a time, for as many jobs as the pool sends, and keeps
 * what it loaded between jobs (the prediction module and, through the model
 * registry's cache, the networks of the models it has used), so a job pays no
 * model load after the first. Sampling is CPU-bound and synchronous between
 * progress callbacks, so it runs here, away from the HTTP server's event loop;
 * being a process, a native crash (SIGSEGV) or a runaway job takes down only
 * this worker, never the server (issue #16).
 *
 * Protocol (IPC, advanced serialisation so typed arrays cross unchanged):
 *   parent -> worker: {type:'job', id, predictModule, request} | {type:'abort', id}
 *   worker -> parent: {type:'ready'} | {type:'progress', id, step, total} | {type:'frame', id, sample, frame}
 *                     | {type:'done', id, result} | {type:'error', id, message, input}
 * The worker exits when its IPC channel closes (the server stopped or died).
 */
import type { PredictOptions, PredictResult, TrajectoryFrame } from '../predict/types.js';
import type { PredictJobRequest } from './services.js';

export type ToWorker =
  | { type: 'job'; id: number; predictModule: string; request: PredictJobRequest }
  | { type: 'abort'; id: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: number; step: number; total: number }
  | { type: 'frame'; id: number; sample: number; frame: TrajectoryFrame }
  | { type: 'done'; id: number; result: PredictResult }
  | { type: 'error'; id: number; message: string; input: boolean };

type PredictFn = (formula: string, options: PredictOptions) => Promise<PredictResult>;

const PROGRESS_INTERVAL_MS = 100;

const send = (m: FromWorker): void => {
  if (process.connected) process.send!(m);
};

if (!process.send) throw new Error('predict-worker must run as a forked child process with an IPC channel');

const modules = new Map<string, PredictFn>();
let current: { id: number; controller: AbortController } | null = null;

async function predictFn(url: string): Promise<PredictFn> {
  let fn = modules.get(url);
  if (!fn) {
    const mod = (await import(url)) as { predictStructures?: PredictFn };
    if (typeof mod.predictStructures !== 'function') throw new Error(`${url} does not export predictStructures`);
    fn = mod.predictStructures;
    modules.set(url, fn);
  }
  return fn;
}

async function runJob(id: number, predictModule: string, request: PredictJobRequest): Promise<void> {
  const controller = new AbortController();
  current = { id, controller };
  let lastProgress = 0;
  try {
    const predict = await predictFn(predictModule);
    const options: PredictOptions = {
      n: request.n,
      z: request.z,
      sampler: request.sampler,
      steps: request.steps,
      seed: request.seed,
      trajectory: request.trajectory,
      trajectoryStride: request.trajectoryStride,
      signal: controller.signal,
      onProgress: ({ step, total }) => {
        const now = Date.now();
        if (step < total && now - lastProgress < PROGRESS_INTERVAL_MS) return;
        lastProgress = now;
        send({ type: 'progress', id, step, total });
      },
      onFrame: (sample, frame) => send({ type: 'frame', id, sample, frame }),
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
    void runJob(m.id, m.predictModule, m.request);
  } else if (m?.type === 'abort' && current?.id === m.id) {
    current.controller.abort();
  }
});
// the server closed the channel (shutdown) or died: nothing is left to do here
process.on('disconnect', () => process.exit(0));
// load the prediction module (the library) before the first job asks for it
const preload = process.argv[2];
if (preload) await predictFn(preload).catch(() => {}); // a failure is reported to the job that needs the module
send({ type: 'ready' });
