/**
 * The fuzzing harness: a target feeds one generated input to a parser or decoder that takes
 * user input; the property is that every input is either accepted or rejected with a clear error
 * (a KldmError/InputError with a message), never another exception (TypeError, RangeError, ...),
 * and never a case slower than the target's time box. fast-check (npm) generates, seeds and
 * shrinks the inputs; a failure is reported with its seed and path, which replay it exactly.
 */
import fc from 'fast-check';
import { KldmError } from '../util/errors.js';
import { cpuMs } from '../util/cpuTime.js';

export interface FuzzTarget<T = unknown> {
  name: string;
  /** one line: what is fed to what */
  description: string;
  /** loads corpora, starts servers; called once before the cases */
  setup?(): Promise<void> | void;
  teardown?(): Promise<void> | void;
  arbitrary(): fc.Arbitrary<T>;
  /**
   * Feeds one input to the code under test. Returns normally when the input was accepted (after
   * checking what was accepted); lets the code's own error escape when it was rejected. Throws a
   * FuzzViolation for a property violation it detects itself (garbage accepted, a 5xx reply, ...).
   */
  run(input: T): Promise<void> | void;
  /** a case slower than this (ms) is a failure: a near-hang on a small input (default 2,000) */
  caseTimeMs?: number;
  /** printable form of a failing input (default: fast-check's) */
  show?(input: T): string;
  /** a line for the report after the run (e.g. known issues met), if any */
  summary?(): string | undefined;
}

/** A property violation detected by the target itself (not an error of the code under test). */
export class FuzzViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuzzViolation';
  }
}

/** Whether an error is a clean rejection: one of kldm's user-facing errors with a non-empty message. */
export function isCleanRejection(err: unknown): boolean {
  return err instanceof KldmError && err.message.trim().length > 0;
}

export interface FuzzOptions {
  seed: number;
  numRuns: number;
  /** replay this fast-check path (from a failure report) */
  path?: string;
  /** called before each case with its 0-based index (heartbeat for the hang watchdog) */
  onCase?: (index: number) => void;
  /** skip shrinking (faster report of the first failure) */
  noShrink?: boolean;
}

export interface FuzzReport {
  target: string;
  seed: number;
  cases: number;
  seconds: number;
  casesPerSecond: number;
  accepted: number;
  rejected: number;
  failure: { path: string; message: string; input: string } | null;
  note?: string;
}

/** Runs `numRuns` cases of a target (setup and teardown included) and reports. */
export async function fuzzTarget<T>(target: FuzzTarget<T>, opts: FuzzOptions): Promise<FuzzReport> {
  await target.setup?.();
  const timeBox = target.caseTimeMs ?? 2000;
  let index = 0;
  let accepted = 0;
  let rejected = 0;
  let initialPhase = true;
  const property = fc.asyncProperty(target.arbitrary(), async (input) => {
    if (initialPhase) opts.onCase?.(index++);
    // CPU time, not wall time: a slow case is one that does too much work, not one that waited for a core
    const t0 = cpuMs();
    let ok = true;
    try {
      await target.run(input);
    } catch (err) {
      if (!isCleanRejection(err)) {
        initialPhase = false;
        throw err;
      }
      ok = false;
    }
    const ms = cpuMs() - t0;
    if (ms > timeBox) {
      initialPhase = false;
      throw new FuzzViolation(`case took ${ms.toFixed(0)} ms of CPU time, over the time box of ${timeBox} ms`);
    }
    if (initialPhase) {
      if (ok) accepted++;
      else rejected++;
    }
  });
  const t0 = performance.now();
  let details: fc.RunDetails<[T]>;
  try {
    details = await fc.check(property, {
      seed: opts.seed,
      numRuns: opts.numRuns,
      ...(opts.path !== undefined ? { path: opts.path } : {}),
      endOnFailure: opts.noShrink ?? false,
    });
  } finally {
    await target.teardown?.();
  }
  const seconds = (performance.now() - t0) / 1000;
  const cases = details.failed ? accepted + rejected + 1 : details.numRuns;
  let failure: FuzzReport['failure'] = null;
  if (details.failed) {
    const err = details.errorInstance;
    const message = err instanceof Error ? `${err.name}: ${err.message}${err.stack ? `\n${err.stack.split('\n').slice(1, 6).join('\n')}` : ''}` : String(err);
    const input = details.counterexample ? (target.show ? target.show(details.counterexample[0]) : fc.stringify(details.counterexample[0])) : '(none)';
    failure = { path: details.counterexamplePath ?? '', message, input: input.length > 2000 ? `${input.slice(0, 2000)}... (${input.length} chars)` : input };
  }
  const note = target.summary?.();
  return { target: target.name, seed: opts.seed, cases, seconds, casesPerSecond: cases / Math.max(seconds, 1e-9), accepted, rejected, failure, ...(note ? { note } : {}) };
}
