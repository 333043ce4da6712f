/**
 * Worker-thread entry for one prediction job. Sampling is CPU-bound and
 * synchronous, so it runs here and the HTTP server's event loop stays free.
 * Messages to the parent: progress (throttled), frame, done, error. The parent
 * may send {type:'abort'}; if the sampler never yields, the parent terminates
 * the thread instead.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PredictOptions, PredictResult } from '../predict/types.js';
import type { PredictJobRequest } from './services.js';

export interface PredictWorkerData {
  /** URL of a module exporting predictStructures(formula, options) */
  predictModule: string;
  request: PredictJobRequest;
}

export type WorkerMessage =
  | { type: 'progress'; step: number; total: number }
  | { type: 'frame'; sample: number; frame: import('../predict/types.js').TrajectoryFrame }
  | { type: 'done'; result: PredictResult }
  | { type: 'error'; message: string; input: boolean };

type PredictFn = (formula: string, options: PredictOptions) => Promise<PredictResult>;

const port = parentPort;
if (!port) throw new Error('predict-worker must run in a worker thread');
const { predictModule, request } = workerData as PredictWorkerData;
const controller = new AbortController();
port.on('message', (m: unknown) => {
  if ((m as { type?: string } | null)?.type === 'abort') controller.abort();
});

const PROGRESS_INTERVAL_MS = 100;
let lastProgress = 0;

try {
  const mod = (await import(predictModule)) as { predictStructures?: PredictFn };
  if (typeof mod.predictStructures !== 'function') throw new Error(`${predictModule} does not export predictStructures`);
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
      port.postMessage({ type: 'progress', step, total } satisfies WorkerMessage);
    },
    onFrame: (sample, frame) => port.postMessage({ type: 'frame', sample, frame } satisfies WorkerMessage),
  };
  if (request.model !== undefined) options.model = request.model;
  const result = await mod.predictStructures(request.formula, options);
  port.postMessage({ type: 'done', result } satisfies WorkerMessage);
} catch (err) {
  const e = err as { name?: string; message?: string };
  // KldmError/InputError mean bad user input (e.g. an element the model does not know)
  const input = e?.name === 'InputError' || e?.name === 'KldmError';
  port.postMessage({ type: 'error', message: e?.message ?? String(err), input } satisfies WorkerMessage);
}
