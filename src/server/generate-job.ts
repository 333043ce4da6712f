/**
 * A generation job (POST /api/generate) as the worker process runs it: the validated request becomes the
 * options of generateStructures (src/predict/generate.ts), and its result the plain job result the server keeps
 * (structures, the validity flags and composition it reports, trajectories whose frames carry the species).
 */
import type { GenerateOptions, GenerateResult } from '../predict/generate.js';
import type { TrajectoryFrame } from '../predict/types.js';
import type { GenerateJobRequest, GenerateJobResult } from './services.js';

export type GenerateFn = (options: GenerateOptions & { model: string }) => Promise<GenerateResult>;

export interface GenerateJobHooks {
  signal: AbortSignal;
  onProgress(step: number, total: number): void;
  onFrame(sample: number, frame: TrajectoryFrame): void;
}

export function generateOptions(request: GenerateJobRequest, hooks: GenerateJobHooks): GenerateOptions & { model: string } {
  const options: GenerateOptions & { model: string } = {
    model: request.model,
    n: request.n,
    sampler: request.sampler,
    steps: request.steps,
    seed: request.seed,
    trajectory: request.trajectory,
    trajectoryStride: request.trajectoryStride,
    signal: hooks.signal,
    onStep: ({ step, total }) => hooks.onProgress(step, total),
  };
  if (request.trajectory) options.onFrame = (index, frame) => hooks.onFrame(index, frame);
  if (request.atoms !== undefined) options.atoms = request.atoms;
  if (request.atomsRange !== undefined) options.atomsRange = request.atomsRange;
  if (request.elements !== undefined) options.elements = request.elements;
  return options;
}

export function generateJobResult(r: GenerateResult): GenerateJobResult {
  return {
    kind: 'generate',
    model: r.model,
    sampler: r.sampler,
    steps: r.steps,
    seed: r.seed,
    atoms: r.atoms,
    elements: r.elements,
    warnings: r.warnings,
    samples: r.samples.map((s) => ({
      structure: s.structure,
      minDistance: s.minDistance,
      volume: s.volume,
      valid: s.structValid,
      id: s.id,
      composition: s.composition,
      numAtoms: s.numAtoms,
      structValid: s.structValid,
      compValid: s.compValid,
      ...(s.trajectory ? { trajectory: s.trajectory } : {}),
    })),
  };
}

/** Runs one generation job; a cancelled run (generateStructures returns `aborted`) rejects as the prediction does. */
export async function runGenerateJob(generate: GenerateFn, request: GenerateJobRequest, hooks: GenerateJobHooks): Promise<GenerateJobResult> {
  const r = await generate(generateOptions(request, hooks));
  if (r.aborted || hooks.signal.aborted) {
    const err = new Error('the job was cancelled');
    err.name = 'AbortError';
    throw err;
  }
  return generateJobResult(r);
}
