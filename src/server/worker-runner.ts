/**
 * JobRunner that runs each prediction in its own worker thread (one thread per
 * job: a crashed or stuck sampler is simply terminated, and its memory is
 * returned to the system). Under tsx (tests, `npm run` from source) the worker
 * registers tsx itself, since Node 20 workers do not inherit `--import tsx`.
 */
import { Worker } from 'node:worker_threads';
import { InputError } from '../util/errors.js';
import type { PredictResult } from '../predict/types.js';
import type { JobRunner, PredictJobRequest, RunHooks } from './services.js';
import type { PredictWorkerData, WorkerMessage } from './predict-worker.js';

const SOURCE_EXT = import.meta.url.endsWith('.ts') ? 'ts' : 'js';

// Evaluated as a CommonJS script inside the worker: optional tsx registration, then the real entry.
const BOOTSTRAP = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  if (workerData.tsxApi) { const { register } = await import(workerData.tsxApi); register(); }
  await import(workerData.entry);
})().catch((err) => parentPort.postMessage({ type: 'error', message: String((err && err.message) || err), input: false }));
`;

export interface WorkerRunnerOptions {
  /** URL of the module exporting predictStructures (default: kldm's src/predict/predict) */
  predictModule?: string;
  /** heap cap of each worker in MB */
  maxHeapMb?: number;
  /** how long a cancelled job may take to stop on its own before its thread is terminated */
  abortGraceMs?: number;
}

export function defaultPredictModule(): string {
  return new URL(`../predict/predict.${SOURCE_EXT}`, import.meta.url).href;
}

export class WorkerJobRunner implements JobRunner {
  private readonly predictModule: string;
  private readonly maxHeapMb: number;
  private readonly abortGraceMs: number;

  constructor(options: WorkerRunnerOptions = {}) {
    this.predictModule = options.predictModule ?? defaultPredictModule();
    this.maxHeapMb = options.maxHeapMb ?? 2048;
    this.abortGraceMs = options.abortGraceMs ?? 1000;
  }

  run(request: PredictJobRequest, hooks: RunHooks): Promise<PredictResult> {
    const data: PredictWorkerData & { entry: string; tsxApi: string | null } = {
      entry: new URL(`./predict-worker.${SOURCE_EXT}`, import.meta.url).href,
      tsxApi: SOURCE_EXT === 'ts' ? import.meta.resolve('tsx/esm/api') : null,
      predictModule: this.predictModule,
      request,
    };
    return new Promise<PredictResult>((resolve, reject) => {
      if (hooks.signal.aborted) {
        reject(abortError());
        return;
      }
      const worker = new Worker(BOOTSTRAP, {
        eval: true,
        workerData: data,
        resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb },
        stdout: false,
        stderr: false,
      });
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        hooks.signal.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
        void worker.terminate();
        fn();
      };
      const onAbort = (): void => {
        worker.postMessage({ type: 'abort' });
        // a sampler that never yields cannot see the signal: stop its thread
        killTimer = setTimeout(() => settle(() => reject(abortError())), this.abortGraceMs);
      };
      hooks.signal.addEventListener('abort', onAbort, { once: true });
      worker.on('message', (m: WorkerMessage) => {
        if (settled) return;
        switch (m.type) {
          case 'progress':
            hooks.onProgress(m.step, m.total);
            break;
          case 'frame':
            hooks.onFrame(m.sample, m.frame);
            break;
          case 'done':
            settle(() => resolve(m.result));
            break;
          case 'error':
            settle(() =>
              reject(hooks.signal.aborted ? abortError() : m.input ? new InputError(m.message) : new Error(m.message)),
            );
            break;
        }
      });
      worker.on('error', (err) => settle(() => reject(hooks.signal.aborted ? abortError() : err)));
      worker.on('exit', (code) =>
        settle(() => reject(hooks.signal.aborted ? abortError() : new Error(`prediction worker exited (code ${code})`))),
      );
    });
  }
}

export function abortError(): Error {
  const err = new Error('the job was cancelled');
  err.name = 'AbortError';
  return err;
}
