/**
 * JobRunner over a pool of long-lived prediction worker PROCESSES
 * (predict-worker.ts), issue #16.
 *
 * Why processes that live across jobs:
 * - the previous runner started a worker THREAD per job; each thread loaded the
 *   native addon and Node unloaded it (dlclose) when the thread exited, while
 *   the addon's OpenMP threads were still running its code: SIGSEGV of the
 *   whole server after a few jobs. The addon is now loaded resident
 *   (src/engine/native.ts), and workers no longer come and go per job at all;
 * - a worker keeps the models it has loaded (no reload per job);
 * - a process isolates faults a thread cannot: a native crash, an out-of-memory
 *   kill or a job that never yields takes down one worker, which fails only its
 *   own job (with a clear error, logged), and is replaced on the next job.
 *
 * The JobManager never runs more jobs at once than its concurrency limit, so
 * the pool holds at most that many workers: they are started on demand and
 * kept idle between jobs.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InputError } from '../util/errors.js';
import type { JobRequest, JobResult, JobRunner, RunHooks, RunnerStats } from './services.js';
import type { FromWorker, ToWorker } from './predict-worker.js';

const SOURCE_EXT = import.meta.url.endsWith('.ts') ? 'ts' : 'js';

export interface WorkerPoolOptions {
  /** URL of the module exporting predictStructures (default: kldm's src/predict/predict) */
  predictModule?: string;
  /** URL of the module exporting generateStructures, for generation jobs (default: kldm's src/predict/generate) */
  generateModule?: string;
  /** V8 heap cap of each worker process in MB */
  maxHeapMb?: number;
  /** how long a cancelled or timed-out job may take to stop on its own before its worker is killed */
  abortGraceMs?: number;
  /**
   * the same grace for a job that has not reported progress yet: a fresh worker first loads the library and
   * the model (seconds under tsx on a busy machine) and only sees the abort at its first sampler step
   */
  startupGraceMs?: number;
  /** a worker is retired (and replaced on demand) after this many jobs, bounding slow growth of its memory */
  recycleAfterJobs?: number;
  /** where worker crashes and replacements are reported (default: stderr) */
  log?: (line: string) => void;
  /** extra environment of the worker processes (on top of process.env) */
  env?: Record<string, string>;
}

export function defaultPredictModule(): string {
  return new URL(`../predict/predict.${SOURCE_EXT}`, import.meta.url).href;
}

export function defaultGenerateModule(): string {
  return new URL(`../predict/generate.${SOURCE_EXT}`, import.meta.url).href;
}

interface ActiveJob {
  id: number;
  /** the worker has reported progress: it is sampling and sees an abort within a step */
  sampling: boolean;
  hooks: RunHooks;
  resolve(r: JobResult): void;
  reject(e: Error): void;
  onAbort: () => void;
  killTimer?: NodeJS.Timeout;
}

interface PoolWorker {
  pid: number;
  child: ChildProcess;
  job: ActiveJob | null;
  jobsRun: number;
  /** set when the pool itself stops this worker (retire, kill after abort, close): its exit is expected */
  stopping: string | null;
}

export class WorkerPool implements JobRunner {
  private readonly predictModule: string;
  private readonly generateModule: string;
  private readonly maxHeapMb: number;
  private readonly abortGraceMs: number;
  private readonly startupGraceMs: number;
  private readonly recycleAfterJobs: number;
  private readonly log: (line: string) => void;
  private readonly env: Record<string, string>;
  private readonly workers = new Set<PoolWorker>();
  private nextJobId = 1;
  private started = 0;
  private crashed = 0;
  private killed = 0;
  private retired = 0;
  private jobsRun = 0;
  private closed = false;

  constructor(options: WorkerPoolOptions = {}) {
    this.predictModule = options.predictModule ?? defaultPredictModule();
    this.generateModule = options.generateModule ?? defaultGenerateModule();
    this.maxHeapMb = options.maxHeapMb ?? 2048;
    this.abortGraceMs = options.abortGraceMs ?? 1000;
    this.startupGraceMs = Math.max(this.abortGraceMs, options.startupGraceMs ?? 30_000);
    this.recycleAfterJobs = options.recycleAfterJobs ?? 1000;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.env = options.env ?? {};
  }

  run(request: JobRequest, hooks: RunHooks): Promise<JobResult> {
    return new Promise<JobResult>((resolve, reject) => {
      if (this.closed) {
        reject(new Error('the worker pool is closed'));
        return;
      }
      if (hooks.signal.aborted) {
        reject(abortError());
        return;
      }
      const worker = this.idleWorker() ?? this.spawn();
      const job: ActiveJob = {
        id: this.nextJobId++,
        sampling: false,
        hooks,
        resolve,
        reject,
        onAbort: () => {
          this.send(worker, { type: 'abort', id: job.id });
          // a sampler that never yields cannot see the abort: kill its worker
          job.killTimer = setTimeout(() => {
            if (worker.job !== job) return;
            this.killed++;
            this.stop(worker, 'did not stop within the grace period after cancellation', 'SIGKILL');
            this.settle(worker, () => reject(abortError()));
          }, job.sampling ? this.abortGraceMs : this.startupGraceMs);
        },
      };
      worker.job = job;
      worker.child.ref();
      hooks.signal.addEventListener('abort', job.onAbort, { once: true });
      const module = request.kind === 'generate' ? this.generateModule : this.predictModule;
      this.send(worker, { type: 'job', id: job.id, module, request });
    });
  }

  stats(): RunnerStats {
    let busy = 0;
    for (const w of this.workers) if (w.job) busy++;
    return {
      kind: 'process-pool',
      workers: this.workers.size,
      busy,
      started: this.started,
      restarts: this.crashed + this.killed,
      crashed: this.crashed,
      killedAfterCancel: this.killed,
      retired: this.retired,
      jobsRun: this.jobsRun,
      pids: [...this.workers].map((w) => w.pid),
    };
  }

  /** stops every worker; running jobs are rejected */
  async close(): Promise<void> {
    this.closed = true;
    const exits: Promise<void>[] = [];
    for (const w of [...this.workers]) {
      exits.push(new Promise<void>((res) => (w.child.exitCode !== null || w.child.signalCode !== null ? res() : w.child.once('exit', () => res()))));
      const job = w.job;
      this.settle(w, () => job?.reject(new Error('the server is shutting down')));
      this.stop(w, 'pool closed', 'SIGTERM');
    }
    const force = setTimeout(() => {
      for (const w of this.workers) w.child.kill('SIGKILL');
    }, 2000);
    await Promise.all(exits);
    clearTimeout(force);
  }

  private idleWorker(): PoolWorker | undefined {
    for (const w of this.workers) if (!w.job && !w.stopping && w.child.connected) return w;
    return undefined;
  }

  private spawn(): PoolWorker {
    const entry = fileURLToPath(new URL(`./predict-worker.${SOURCE_EXT}`, import.meta.url));
    const execArgv = [
      `--max-old-space-size=${this.maxHeapMb}`,
      // as bin/kldm.mjs: V8 11 may abort when it deoptimises inlined JS->WASM calls (moyo/matterviz)
      '--no-turbo-inline-js-wasm-calls',
    ];
    // under tsx (tests, running from source) the worker must load TypeScript too
    if (SOURCE_EXT === 'ts') execArgv.push('--import', import.meta.resolve('tsx'));
    const child = fork(entry, [this.predictModule, this.generateModule], {
      execArgv,
      env: { ...process.env, ...this.env },
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const worker: PoolWorker = { pid: child.pid ?? -1, child, job: null, jobsRun: 0, stopping: null };
    this.workers.add(worker);
    this.started++;
    child.on('message', (m: FromWorker) => this.onMessage(worker, m));
    child.on('error', (err) => this.onGone(worker, `error: ${err.message}`));
    child.on('exit', (code, signal) => this.onGone(worker, signal ? `killed by ${signal}` : `exited with code ${code}`));
    child.unref();
    return worker;
  }

  private send(worker: PoolWorker, m: ToWorker): void {
    if (!worker.child.connected) return; // its exit handler fails the job
    worker.child.send(m, (err) => {
      if (err) this.onGone(worker, `IPC send failed: ${err.message}`);
    });
  }

  private onMessage(worker: PoolWorker, m: FromWorker): void {
    const job = worker.job;
    if (m.type === 'ready' || !job || m.id !== job.id) return;
    switch (m.type) {
      case 'progress':
        job.sampling = true;
        job.hooks.onProgress(m.step, m.total);
        break;
      case 'frame':
        job.hooks.onFrame(m.sample, m.frame);
        break;
      case 'done':
        this.settle(worker, () => job.resolve(m.result));
        break;
      case 'error':
        this.settle(worker, () =>
          job.reject(job.hooks.signal.aborted ? abortError() : m.input ? new InputError(m.message) : new Error(m.message)),
        );
        break;
    }
  }

  /** ends the worker's current job (once) and makes the worker idle again, or retires it */
  private settle(worker: PoolWorker, fn: () => void): void {
    const job = worker.job;
    if (!job) return;
    worker.job = null;
    job.hooks.signal.removeEventListener('abort', job.onAbort);
    if (job.killTimer) clearTimeout(job.killTimer);
    worker.jobsRun++;
    this.jobsRun++;
    if (!worker.stopping) {
      worker.child.unref();
      if (worker.jobsRun >= this.recycleAfterJobs) {
        this.retired++;
        this.stop(worker, `retired after ${worker.jobsRun} jobs`, 'SIGTERM');
      }
    }
    fn();
  }

  private stop(worker: PoolWorker, why: string, signal: NodeJS.Signals): void {
    if (worker.stopping) return;
    worker.stopping = why;
    this.workers.delete(worker);
    if (worker.child.connected) worker.child.disconnect();
    worker.child.kill(signal);
  }

  /** the worker process ended (or its channel broke): fail its job, forget it; the next job starts a new one */
  private onGone(worker: PoolWorker, how: string): void {
    const expected = worker.stopping !== null;
    if (!expected) {
      worker.stopping = how;
      this.workers.delete(worker);
      this.crashed++;
      const what = worker.job ? `while running job ${worker.job.id}` : 'while idle';
      this.log(`kldm serve: prediction worker ${worker.pid} ${how} ${what}; it is replaced on the next job`);
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    }
    const job = worker.job;
    if (job) {
      this.settle(worker, () =>
        job.reject(
          job.hooks.signal.aborted
            ? abortError()
            : new Error(`the prediction worker process ${how} while running this job; the job failed and the worker was replaced`),
        ),
      );
    }
  }
}

export function abortError(): Error {
  const err = new Error('the job was cancelled');
  err.name = 'AbortError';
  return err;
}
