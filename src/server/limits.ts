/**
 * Resource caps of the server (issue #6 "Limits and safety"). Every cap is a
 * plain number so that tests and `kldm serve` flags can override it.
 */
import { availableParallelism } from 'node:os';

export interface ServerLimits {
  /** predictions running at once; sampling is CPU-bound, so one per core by default */
  concurrency: number;
  /** jobs waiting for a free slot; a predict request beyond this gets 429 */
  maxQueued: number;
  /** request body size in bytes (413 beyond) */
  maxBodyBytes: number;
  /** atoms per cell after multiplying the formula by z */
  maxAtoms: number;
  /** samples per job */
  maxN: number;
  /** formula units per cell */
  maxZ: number;
  /** reverse-diffusion steps per sample */
  maxSteps: number;
  /** wall-clock run time of one job before it is stopped, in ms */
  maxJobMs: number;
  /** recorded trajectory frames per sample (the stride is chosen to stay under this) */
  maxFramesPerSample: number;
  /** finished jobs are kept this long (ms) after they finish */
  resultTtlMs: number;
  /** estimated bytes of all finished results kept in memory; the oldest are evicted beyond this */
  maxResultBytes: number;
  /** job records (any state) kept at most; the oldest finished ones are evicted first */
  maxJobsKept: number;
  /** open Server-Sent-Event streams at most */
  maxEventStreams: number;
  /** dataset page size at most */
  maxPageSize: number;
}

export function defaultLimits(): ServerLimits {
  return {
    concurrency: Math.max(1, availableParallelism()),
    maxQueued: 16,
    maxBodyBytes: 1 << 20,
    maxAtoms: 64,
    maxN: 20,
    maxZ: 8,
    maxSteps: 2000,
    maxJobMs: 15 * 60_000,
    maxFramesPerSample: 200,
    resultTtlMs: 60 * 60_000,
    maxResultBytes: 256 << 20,
    maxJobsKept: 500,
    maxEventStreams: 64,
    maxPageSize: 100,
  };
}
