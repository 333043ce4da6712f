/**
 * Crystal structure prediction for one composition with a shipped model (issue: sampling /
 * prediction): parse the formula, multiply by z, pick the model, run the sampler (spec §7, PC by
 * default as in the reference's tests, §7.4) on n copies of the composition in one batch, decode
 * (§7.3), and report volume, minimum interatomic distance and KLDM validity (§9) per sample.
 *
 * Site order: each element's sites are contiguous, elements in formula order (SrTiO3 -> Sr Ti O O O).
 */
import type { Structure } from '../crystal/types.js';
import { expandSites, formatFormula, parseFormula } from '../crystal/composition.js';
import { minInteratomicDistance, volume } from '../crystal/lattice.js';
import { elementSymbol } from '../crystal/elements.js';
import { statsForAtomCount } from '../diffusion/latticeFeatures.js';
import { checkValidity } from '../eval/validity.js';
import { makeLayout, type ScoreNetwork } from '../network/types.js';
import { CspSampler } from '../sampling/sampler.js';
import { decodeSamplerResult } from '../sampling/decode.js';
import type { LatticeStats } from '../data/types.js';
import { InputError, KldmError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { chooseModel, dngTypeDiffusion, loadModelNetwork, modelLatticeParameterisation } from './registry.js';
import { checkInt, publicFrame } from './frames.js';
import type { TypeDiffusionSpec } from '../diffusion/typeDiffusion.js';
import type { VpParameterisation } from '../diffusion/latticeVp.js';
import type { PredictedStructure, PredictOptions, PredictResult, SamplerName, TrajectoryFrame } from './types.js';

/** Caps that keep a single request bounded (CLI and web server). */
export const PREDICT_LIMITS = { maxSamples: 1000, maxSteps: 10000, maxZ: 20, maxAtoms: 100 } as const;



/** Summary of one predicted structure: volume, minimum distance, KLDM validity (spec §9). */
export function describeStructure(structure: Structure): Omit<PredictedStructure, 'structure' | 'trajectory'> {
  let minDistance = NaN;
  let vol = NaN;
  try {
    vol = Math.abs(volume(structure.lattice));
    minDistance = structure.species.length > 1 ? minInteratomicDistance(structure.lattice, structure.frac) : NaN;
  } catch {
    // degenerate cell: reported as NaN and invalid below
  }
  return { minDistance, volume: vol, valid: checkValidity(structure, 'kldm').valid };
}

export interface PredictWithNetworkOptions extends PredictOptions {
  /** model name reported in the result */
  modelName: string;
  warnings?: string[];
  /**
   * The network is a DNG model (spec §5): the formula's types are held fixed, CSP-style
   * (typeSampler.ts: masking feeds the clean ids, continuous variants re-noise them at each t).
   */
  typeDiffusion?: TypeDiffusionSpec;
  /** the network's lattice parameterisation (spec §4; default x0): decides the lattice score */
  latticeParameterisation?: VpParameterisation;
}

/** predictStructures over an explicit network and lattice statistics (tests, custom checkpoints). */
export async function predictWithNetwork(
  net: ScoreNetwork,
  stats: LatticeStats,
  atomicNumbers: readonly number[],
  formula: string,
  options: PredictWithNetworkOptions,
): Promise<PredictResult> {
  const n = options.n ?? 1;
  const steps = options.steps ?? 1000;
  const seed = options.seed ?? 1;
  const sampler: SamplerName = options.sampler ?? 'pc';
  checkInt(n, 'n (number of samples)', 1, PREDICT_LIMITS.maxSamples);
  checkInt(steps, 'steps', 1, PREDICT_LIMITS.maxSteps);
  checkInt(seed, 'seed', 0, 2 ** 32 - 1);
  if (sampler !== 'em' && sampler !== 'pc') throw new InputError(`sampler must be em or pc (got ${String(sampler)})`);
  const stride = options.trajectoryStride ?? Math.max(1, Math.round(steps / 100));
  checkInt(stride, 'trajectory stride', 1, steps);
  const wantFrames = Boolean(options.trajectory) || options.onFrame !== undefined;

  const N = atomicNumbers.length;
  if (N === 0) throw new InputError('the composition has no atoms');
  statsForAtomCount(stats, N); // InputError before sampling if the lattice cannot be decoded (§13.13)
  const layout = makeLayout(new Array<number>(n).fill(N));
  const types = new Int32Array(n * N);
  for (let g = 0; g < n; g++) types.set(atomicNumbers, g * N);
  const trajectories: TrajectoryFrame[][] = Array.from({ length: n }, () => []);
  // Drive the sampler step by step (as sampleCsp does) so that frames reach onFrame live and the
  // event loop sees aborts between steps.
  const td = options.typeDiffusion;
  const run = new CspSampler(
    net,
    { layout, types, ...(td ? { typeDiffusion: { kind: td.kind, maskSchedule: td.maskSchedule, fixed: types } } : {}) },
    new Rng(seed),
    { method: sampler, nSteps: steps, latticeParameterisation: options.latticeParameterisation ?? 'x0' },
  );
  const emit = (stepsDone: number): void => {
    const frame = run.frame(stepsDone);
    for (let g = 0; g < n; g++) {
      const pf = publicFrame(frame, g, g * N, (g + 1) * N, stats);
      if (options.trajectory) trajectories[g]!.push(pf);
      options.onFrame?.(g, pf);
    }
  };
  run.prior();
  if (wantFrames) emit(0);
  for (let i = 0; i < steps; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (options.signal?.aborted) throw new KldmError(`prediction aborted at step ${i}/${steps}`, { exitCode: 130 });
    run.step(i);
    if (wantFrames && ((i + 1) % stride === 0 || i + 1 === steps)) emit(i + 1);
    options.onProgress?.({ step: i + 1, total: steps });
  }
  const result = run.result([]);
  const decoded = decodeSamplerResult(result, stats);
  const samples: PredictedStructure[] = decoded.map((d, g) => ({
    structure: d.structure,
    ...describeStructure(d.structure),
    ...(options.trajectory ? { trajectory: trajectories[g] } : {}),
  }));
  return { formula, model: options.modelName, sampler, steps, seed, samples, warnings: options.warnings ?? [] };
}

/**
 * Predicts `n` crystal structures for a formula (× z formula units) with a shipped model.
 * Throws InputError for a bad formula, unknown model, or a cell size no model can decode;
 * elements or sizes outside the model's training range produce warnings in the result.
 */
export async function predictStructures(formula: string, options: PredictOptions = {}): Promise<PredictResult> {
  const z = options.z ?? 1;
  checkInt(z, 'z (formula units per cell)', 1, PREDICT_LIMITS.maxZ);
  const base = parseFormula(formula, { maxAtoms: PREDICT_LIMITS.maxAtoms });
  const composition = { elements: base.elements, counts: base.counts.map((c) => c * z) };
  const total = composition.counts.reduce((s, c) => s + c, 0);
  if (total > PREDICT_LIMITS.maxAtoms) throw new InputError(`${formatFormula(composition)} has ${total} atoms, more than ${PREDICT_LIMITS.maxAtoms}`);
  const sites = expandSites(composition);
  const { entry, warnings } = chooseModel(sites, options.model);
  const net = loadModelNetwork(entry);
  return predictWithNetwork(net, entry.manifest.latticeStats, sites, formatFormula(composition), {
    ...options,
    modelName: entry.manifest.name,
    warnings,
    latticeParameterisation: modelLatticeParameterisation(entry.manifest),
    ...(entry.manifest.task === 'dng' ? { typeDiffusion: dngTypeDiffusion(entry.manifest) } : {}),
  });
}

/** Element symbols of a site list (for messages). */
export function speciesOf(atomicNumbers: readonly number[]): string[] {
  return atomicNumbers.map((z) => elementSymbol(z));
}
