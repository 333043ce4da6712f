/**
 * Job queue of predictions (CSP) and generations (DNG) alike: bounded concurrency (jobs run through the JobRunner,
 * worker threads by default), a bounded waiting queue (429 beyond), a run-time
 * cap per job, cancellation through AbortSignal, and eviction of finished
 * results after a time-to-live or when their estimated memory passes a budget.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { errorMessage, InputError } from '../util/errors.js';
import type { TrajectoryFrame } from '../predict/types.js';
import { HttpError } from './http-error.js';
import type { ServerLimits } from './limits.js';
import type { JobRequest, JobResult, JobRunner } from './services.js';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface Job {
  id: string;
  request: JobRequest;
  status: JobStatus;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  step: number;
  total: number;
  result?: JobResult;
  error?: { code: string; message: string };
  /** live trajectory frames per sample while running; moved into result.samples[k].trajectory at the end */
  liveFrames: TrajectoryFrame[][];
  /** estimated bytes held by this job's result and frames */
  bytes: number;
  controller: AbortController;
  timedOut: boolean;
  /** 'progress' | 'frame' (sample, index, frame) | 'status' */
  events: EventEmitter;
}

export function isFinished(job: Job): boolean {
  return job.status === 'done' || job.status === 'failed' || job.status === 'cancelled';
}

/** seconds until done, from the mean rate so far; null before the first step */
export function etaSeconds(job: Job, now: number): number | null {
  if (job.status !== 'running' || job.startedAt === undefined || job.step <= 0 || job.total <= 0) return null;
  const elapsed = (now - job.startedAt) / 1000;
  return (elapsed * (job.total - job.step)) / job.step;
}

function frameBytes(frame: TrajectoryFrame): number {
  const atoms = frame.frac.length / 3;
  // two N*3 number arrays, the lattice and t; ~8 bytes per number plus object overhead;
  // generation frames also hold N species (interned short strings: a pointer each, ~8 bytes, plus the array)
  return atoms * 6 * 8 + 10 * 8 + 64 + (frame.species ? atoms * 8 + 32 : 0);
}

function resultBytes(result: JobResult): number {
  let bytes = 512;
  for (const s of result.samples) {
    const atoms = s.structure.species.length;
    bytes += atoms * 40 + 256;
    for (const f of s.trajectory ?? []) bytes += frameBytes(f);
  }
  return bytes;
}

export class JobManager {
  private readonly jobs = new Map<string, Job>();
  private readonly queue: Job[] = [];
  private running = 0;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly runner: JobRunner,
    private readonly limits: ServerLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.evict(), Math.min(30_000, Math.max(1000, limits.resultTtlMs / 4)));
    this.sweeper.unref();
  }

  submit(request: JobRequest): Job {
    if (this.closed) throw new HttpError(503, 'shutting_down', 'the server is shutting down');
    if (this.queue.length >= this.limits.maxQueued && this.running >= this.limits.concurrency) {
      throw new HttpError(
        429,
        'queue_full',
        `the job queue is full (${this.limits.maxQueued} waiting, ${this.running} running); try again later`,
        undefined,
        { 'Retry-After': '5' },
      );
    }
    this.evict(1); // make room for this job under the count cap
    const job: Job = {
      id: randomUUID(),
      request,
      status: 'queued',
      createdAt: this.now(),
      step: 0,
      total: request.steps * request.n,
      liveFrames: [],
      bytes: 1024,
      controller: new AbortController(),
      timedOut: false,
      events: new EventEmitter(),
    };
    job.events.setMaxListeners(this.limits.maxEventStreams + 4);
    this.jobs.set(job.id, job);
    this.queue.push(job);
    this.pump();
    return job;
  }

  /** every kept job, oldest first */
  list(): Job[] {
    return [...this.jobs.values()];
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** 1-based place in the waiting queue, or 0 when not waiting */
  queuePosition(job: Job): number {
    return this.queue.indexOf(job) + 1;
  }

  cancel(job: Job): void {
    if (isFinished(job)) return;
    if (job.status === 'queued') {
      this.queue.splice(this.queue.indexOf(job), 1);
      this.finish(job, 'cancelled', { code: 'cancelled', message: 'cancelled before it started' });
      return;
    }
    job.controller.abort();
  }

  stats(): { queued: number; running: number; kept: number; resultBytes: number } {
    let bytes = 0;
    for (const j of this.jobs.values()) bytes += j.bytes;
    return { queued: this.queue.length, running: this.running, kept: this.jobs.size, resultBytes: bytes };
  }

  /** cancels everything; used on server shutdown */
  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const job of [...this.jobs.values()]) this.cancel(job);
  }

  private pump(): void {
    while (this.running < this.limits.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      void this.start(job);
    }
  }

  private async start(job: Job): Promise<void> {
    this.running++;
    job.status = 'running';
    job.startedAt = this.now();
    job.events.emit('status', job.status);
    const timer = setTimeout(() => {
      job.timedOut = true;
      job.controller.abort();
    }, this.limits.maxJobMs);
    try {
      const result = await this.runner.run(job.request, {
        signal: job.controller.signal,
        onProgress: (step, total) => {
          job.step = step;
          job.total = total;
          job.events.emit('progress');
        },
        onFrame: (sample, frame) => {
          if (!Number.isInteger(sample) || sample < 0 || sample >= job.request.n) return;
          const frames = (job.liveFrames[sample] ??= []);
          if (frames.length >= this.limits.maxFramesPerSample + 1) return; // +1: the final frame
          frames.push(frame);
          job.bytes += frameBytes(frame);
          job.events.emit('frame', sample, frames.length - 1, frame);
        },
      });
      // keep the live frames when the predictor did not return its own trajectory
      for (let k = 0; k < result.samples.length; k++) {
        const s = result.samples[k]!;
        const live = job.liveFrames[k];
        if ((!s.trajectory || s.trajectory.length === 0) && live && live.length > 0) s.trajectory = live;
        if (!job.request.trajectory) delete s.trajectory;
      }
      job.liveFrames = [];
      job.result = result;
      job.bytes = resultBytes(result);
      job.step = job.total;
      this.finish(job, 'done');
    } catch (err) {
      job.liveFrames = [];
      job.bytes = 1024;
      if (job.timedOut) {
        this.finish(job, 'failed', {
          code: 'timeout',
          message: `the job ran longer than the server's limit of ${Math.round(this.limits.maxJobMs / 1000)} s`,
        });
      } else if (job.controller.signal.aborted) {
        this.finish(job, 'cancelled', { code: 'cancelled', message: 'cancelled while running' });
      } else if (err instanceof InputError) {
        this.finish(job, 'failed', { code: 'invalid_input', message: errorMessage(err) });
      } else {
        this.finish(job, 'failed', { code: 'prediction_failed', message: errorMessage(err) });
      }
    } finally {
      clearTimeout(timer);
      this.running--;
      this.pump();
    }
  }

  private finish(job: Job, status: JobStatus, error?: { code: string; message: string }): void {
    job.status = status;
    job.finishedAt = this.now();
    if (error) job.error = error;
    job.events.emit('status', status);
    this.evict();
  }

  /** drops finished jobs past their time-to-live, then the oldest ones while over the memory or count budget (keeping `reserve` places free) */
  evict(reserve = 0): void {
    const now = this.now();
    const finished = [...this.jobs.values()]
      .filter(isFinished)
      .sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0));
    let { resultBytes: bytes } = this.stats();
    let count = this.jobs.size;
    for (const job of finished) {
      const expired = now - (job.finishedAt ?? now) > this.limits.resultTtlMs;
      if (!expired && bytes <= this.limits.maxResultBytes && count + reserve <= this.limits.maxJobsKept) break;
      this.jobs.delete(job.id);
      job.events.removeAllListeners();
      bytes -= job.bytes;
      count--;
    }
  }
}
