/**
 * Deterministic stand-in for src/predict/predict.ts with the same signature,
 * used by the server tests, the browser test and the load benchmark so that
 * they exercise the HTTP layer, worker threads, progress, trajectories and
 * cancellation without a trained model. It is NOT a crystal generator: atoms
 * move on straight lines (wrapped into the cell) from seeded random positions
 * to a simple-cubic-like grid while a cubic lattice shrinks to its final size.
 *
 * `generateStructures` is the same stand-in for src/predict/generate.ts: the
 * atoms move as above while their types are unmasked one by one ('X' = masked),
 * so that a generation job's frames carry changing species.
 *
 * Special model names drive the failure paths (of both functions; generateStructures
 * also takes them with a "-dng" suffix, e.g. "fake-crash-dng"):
 *   "fake-busy"  : a synchronous loop that never yields (only thread termination stops it)
 *   "fake-error" : throws an InputError, as the real predictor does for unsupported elements
 *   "fake-crash" : kills its own worker process with SIGSEGV, as a native fault would
 *   "fake-pid"   : a normal prediction whose warnings carry the worker's pid (worker reuse tests)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Rng } from '../../util/rng.js';
import { InputError } from '../../util/errors.js';
import { expandSites, parseFormula, totalAtoms } from '../../crystal/composition.js';
import { elementSymbol } from '../../crystal/elements.js';
import { minInteratomicDistance, volume } from '../../crystal/lattice.js';
import type { Matrix3 } from '../../crystal/types.js';
import type { PredictOptions, PredictResult, PredictedStructure, TrajectoryFrame } from '../../predict/types.js';
import type { GenerateOptions, GenerateResult, GeneratedStructure } from '../../predict/generate.js';

/** per-step delay in ms, so that tests can watch a job run (default 2) */
const STEP_MS = Number(process.env.KLDM_FAKE_STEP_MS ?? 2);

function abortError(): Error {
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}

export async function predictStructures(formula: string, options: PredictOptions = {}): Promise<PredictResult> {
  const n = options.n ?? 1;
  const z = options.z ?? 1;
  const steps = options.steps ?? 1000;
  const seed = options.seed ?? 0;
  const stride = options.trajectoryStride ?? 1;
  const model = options.model ?? 'fake';
  if (model === 'fake-error') throw new InputError(`model ${model} does not support the elements of ${formula}`);
  if (model === 'fake-crash') process.kill(process.pid, 'SIGSEGV');
  if (model === 'fake-busy') {
    for (;;) {
      // never yields: only Worker.terminate() ends this
    }
  }
  // site order as the real predictor: each element's sites contiguous, in formula order (expandSites)
  const base = parseFormula(formula, { maxAtoms: 100_000 });
  const comp = { elements: base.elements, counts: base.counts.map((c) => c * z) };
  const species = expandSites(comp).map((Z) => elementSymbol(Z));
  const atoms = species.length;
  if (atoms !== totalAtoms(comp)) throw new Error('fake predictor: site expansion mismatch');
  const side = Math.ceil(Math.cbrt(atoms));
  const samples: PredictedStructure[] = [];
  for (let k = 0; k < n; k++) {
    const rng = new Rng(seed * 1000 + k);
    const start = new Float64Array(atoms * 3);
    rng.fillUniform(start);
    const target = new Float64Array(atoms * 3);
    for (let i = 0; i < atoms; i++) {
      target[3 * i] = (i % side) / side + 0.02 * k;
      target[3 * i + 1] = (Math.floor(i / side) % side) / side;
      target[3 * i + 2] = Math.floor(i / (side * side)) / side;
    }
    const aFinal = 2.5 * side;
    const trajectory: TrajectoryFrame[] = [];
    const frac = new Float64Array(atoms * 3);
    for (let step = 0; step <= steps; step++) {
      if (options.signal?.aborted) throw abortError();
      const s = step / steps; // 0 = noise, 1 = final
      const a = aFinal * (1.6 - 0.6 * s);
      for (let j = 0; j < atoms * 3; j++) {
        const d = target[j]! - start[j]!;
        const x = start[j]! + s * d;
        frac[j] = x - Math.floor(x);
      }
      if (options.trajectory && (step % stride === 0 || step === steps)) {
        const frame: TrajectoryFrame = {
          t: 1 - s,
          lattice: [a, 0, 0, 0, a, 0, 0, 0, a],
          frac: Array.from(frac),
          vel: Array.from(target, (v, j) => v - start[j]!),
        };
        trajectory.push(frame);
        options.onFrame?.(k, frame);
      }
      if (step > 0) options.onProgress?.({ step: k * steps + step, total: n * steps });
      if (STEP_MS > 0 && step < steps) await sleep(STEP_MS);
    }
    const lattice: Matrix3 = [aFinal, 0, 0, 0, aFinal, 0, 0, 0, aFinal];
    const minDistance = atoms > 1 ? minInteratomicDistance(lattice, frac) : aFinal;
    const v = volume(lattice);
    const sample: PredictedStructure = {
      structure: { lattice, species: [...species], frac: Float64Array.from(frac) },
      minDistance,
      volume: v,
      valid: minDistance >= 0.5 && v >= 0.1,
    };
    if (options.trajectory) sample.trajectory = trajectory;
    samples.push(sample);
  }
  return { formula, model, sampler: options.sampler ?? 'em', steps, seed, samples, warnings: ['fake predictor: not a crystal model', ...(model === 'fake-pid' ? [`pid ${process.pid}`] : [])] };
}

/** Deterministic stand-in for generateStructures (see the header): types unmask one atom at a time along the trajectory. */
export async function generateStructures(options: GenerateOptions & { model: string }): Promise<GenerateResult> {
  const n = options.n ?? 1;
  const steps = options.steps ?? 1000;
  const seed = options.seed ?? 42;
  const atoms = options.atoms ?? options.atomsRange?.[0] ?? 4;
  const pool = options.elements ?? ['Na', 'Cl'];
  const final = Array.from({ length: atoms }, (_, i) => pool[i % pool.length]!);
  const composition = final.join('');
  // the positions and lattice of a fake prediction of the same atoms (their order there does not matter)
  const r = await predictStructures(composition, {
    n,
    steps,
    seed,
    // "fake-crash-dng" crashes as "fake-crash" does, and so on
    model: options.model.replace(/-dng$/, ''),
    ...(options.sampler ? { sampler: options.sampler } : {}),
    ...(options.trajectory ? { trajectory: true } : {}),
    ...(options.trajectoryStride ? { trajectoryStride: options.trajectoryStride } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: ({ step, total }) => options.onStep?.({ step, total }),
    onFrame: (k, f) => options.onFrame?.(k, { ...f, species: unmasked(final, f.t) }),
  });
  const samples: GeneratedStructure[] = r.samples.map((s, index) => ({
    index,
    id: `${options.model}-s${seed}-${index}`,
    structure: { ...s.structure, species: [...final] },
    composition,
    numAtoms: atoms,
    structValid: s.valid,
    compValid: true,
    minDistance: s.minDistance,
    volume: s.volume,
    ...(s.trajectory ? { trajectory: s.trajectory.map((f) => ({ ...f, species: unmasked(final, f.t) })) } : {}),
  }));
  return {
    model: options.model, sampler: options.sampler ?? 'pc', steps, seed, atoms: `${atoms} atoms`, elements: options.elements ?? null, formula: null,
    total: n, samples, alreadyDone: 0, batchSize: n, batches: 1, written: n, seconds: 0, aborted: false, warnings: ['fake generator: not a crystal model'],
  };
}

/** atom i is unmasked once t < 1 - (i + 1) / (N + 1): all masked at t = 1, none at t = 0 */
function unmasked(final: string[], t: number): string[] {
  return final.map((s, i) => (t < 1 - (i + 1) / (final.length + 1) ? s : 'X'));
}
