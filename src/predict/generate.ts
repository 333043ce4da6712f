/**
 * De-novo generation with a DNG model (spec §5, §7; docs/dng.md): atom counts from the prior of
 * §5.4 (the training split's empirical distribution, or a fixed count / range), types, positions
 * and lattice all from their priors, the EM or PC sampler, decoding of §7.3.
 *
 * Beyond the paper:
 * - `elements` restricts the generated types to a chemical system inside every type update
 *   (typeSampler.ts), not by rejection;
 * - `formula` generates that composition with fixed types, CSP-style.
 *
 * Work is done in batches (about 20,480 edges at H = 128, edgeBudgetBatchSize). With `outPath` the
 * samples are appended to a JSON Lines file after each batch and a re-run of the same request
 * skips the indices already there (resume; a torn last line is cut off). Sample i's atom count is
 * the i-th draw of Rng(seed) from the prior, whatever the batching; the batches are cut from the
 * whole index list (planGeneration) and each batch's sampler noise comes from (seed, index of its
 * first sample), so a run is reproducible bit for bit, also when it was interrupted and resumed
 * (a half-written batch is sampled again whole) and when it is sharded over a queue.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { readResumableJsonl } from '../util/resumableJsonl.js';
import { basename, dirname } from 'node:path';
import type { LatticeStats } from '../data/types.js';
import type { Structure } from '../crystal/types.js';
import { writeCif } from '../crystal/io/cif.js';
import { atomicNumber, elementSymbol } from '../crystal/elements.js';
import { compositionOf, expandSites, formatFormula, parseFormula } from '../crystal/composition.js';
import { minInteratomicDistance, volume } from '../crystal/lattice.js';
import type { TypeDiffusionSpec } from '../diffusion/typeDiffusion.js';
import type { VpParameterisation } from '../diffusion/latticeVp.js';
import { compositionValidity, structuralValidity } from '../eval/validity.js';
import { makeLayout, type ScoreNetwork } from '../network/types.js';
import { CspSampler } from '../sampling/sampler.js';
import { decodeSamplerResult } from '../sampling/decode.js';
import { allowedClassesOf } from '../sampling/typeSampler.js';
import { checkPriorAgainstStats, drawAtomCounts, type AtomCountHistogram, type AtomCountPrior } from '../sampling/atomCountPrior.js';
import { edgeBudgetBatchSize } from '../training/batches.js';
import { InputError, KldmError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { checkInt, publicFrame } from './frames.js';
import { dngTypeDiffusion, getModel, loadModelNetwork, modelLatticeParameterisation } from './registry.js';
import { readCheckpoint } from '../training/trainer.js';
import { paramsFromTensors } from '../training/model.js';
import { latticeParameterisationOf } from '../training/config.js';
import { CSPVNet } from '../network/cspvnet.js';
import type { SamplerName, TrajectoryFrame } from './types.js';

/** Caps of one request (the CLI writes to a file and may go far beyond the in-memory cap). */
export const GENERATE_LIMITS = { maxInMemory: 10_000, maxSteps: 10_000, maxAtoms: 100 } as const;

export interface GenerateOptions {
  /** shipped DNG model (kldm predict --list-models) */
  model?: string;
  /** number of structures (default 1) */
  n?: number;
  /** every structure has this many atoms (default: the training split's distribution, §5.4) */
  atoms?: number;
  /** atom counts uniform over lo..hi inclusive */
  atomsRange?: [number, number];
  /** chemical system: only these element symbols are generated */
  elements?: string[];
  /** generate this composition (× z) with fixed types, CSP-style */
  formula?: string;
  z?: number;
  sampler?: SamplerName;
  /** reverse-diffusion steps (default 1000) */
  steps?: number;
  /** final time t_f (default 1e-3, spec §7) */
  tFinal?: number;
  seed?: number;
  /** crystals per sampler batch (default: ~20,480 edges at H = 128) */
  batchSize?: number;
  /** record each structure's denoising trajectory, types included (in-memory results only) */
  trajectory?: boolean;
  trajectoryStride?: number;
  /** append JSON Lines here instead of returning the structures (resumable) */
  outPath?: string;
  /** called with each batch's structures as they are decoded (also in outPath mode) */
  onBatch?: (samples: GeneratedStructure[]) => void;
  /**
   * run only these planned batches (a queue shard, src/queue/generateShards.ts): the batches are cut
   * from the whole request's index list, so a shard samples exactly what one process would; the
   * structures are not kept in memory (use onLines), so n may exceed the in-memory cap
   */
  batches?: { first: number; count: number };
  /** each batch's output lines (the JSON Lines of outPath mode, without newlines), in index order */
  onLines?: (lines: string[]) => void;
  onProgress?: (p: { done: number; total: number }) => void;
  /**
   * sampler steps done over all the batches this call samples (step of total = steps × batches), after
   * every step: a finer measure than onProgress, whose count of finished structures moves once per batch
   * for small requests (the web server's progress bar and ETA)
   */
  onStep?: (p: { step: number; total: number }) => void;
  /** each trajectory frame of structure `index` as soon as it is recorded (with trajectory; live view of the web page) */
  onFrame?: (index: number, frame: TrajectoryFrame) => void;
  signal?: AbortSignal;
}

export interface GeneratedStructure {
  /** 0-based index in the request */
  index: number;
  /** `<model>-s<seed>-<index>`: names the structure and where it came from */
  id: string;
  structure: Structure;
  /** formula of the cell in site order, e.g. "Sr1 Ti1 O3" style from formatFormula */
  composition: string;
  numAtoms: number;
  /** structural validity (interatomic distances ≥ 0.5 Å, volume ≥ 0.1 Å³; spec §10.1) */
  structValid: boolean;
  /** SMACT composition validity (DiffCSP, spec §10.1) */
  compValid: boolean;
  minDistance: number;
  volume: number;
  trajectory?: TrajectoryFrame[];
}

export interface GenerateResult {
  model: string;
  sampler: SamplerName;
  steps: number;
  seed: number;
  /** how atom counts were chosen */
  atoms: string;
  elements: string[] | null;
  formula: string | null;
  total: number;
  /** in-memory mode: the structures; outPath mode: empty */
  samples: GeneratedStructure[];
  /** outPath mode: lines already present before this call */
  alreadyDone: number;
  /** the plan: crystals per batch and number of batches of the whole request */
  batchSize: number;
  batches: number;
  written: number;
  seconds: number;
  aborted: boolean;
  warnings: string[];
}

/** What generation needs to know about a DNG model besides its network. */
export interface DngModelInfo {
  name: string;
  stats: LatticeStats;
  types: TypeDiffusionSpec;
  /** training split's atom-count histogram (the default prior) */
  atomCounts: AtomCountHistogram | null;
  /** elements seen in training (for warnings) */
  trainingElements: readonly number[];
  /** the lattice parameterisation the model was trained with (spec §4; default x0) */
  latticeParameterisation?: VpParameterisation;
}



function describe(structure: Structure): { minDistance: number; volume: number; structValid: boolean; compValid: boolean } {
  let minDistance = NaN;
  let vol = NaN;
  try {
    vol = Math.abs(volume(structure.lattice));
    minDistance = structure.species.length > 1 ? minInteratomicDistance(structure.lattice, structure.frac) : NaN;
  } catch {
    // degenerate cell: NaN and invalid
  }
  return { minDistance, volume: vol, structValid: structuralValidity(structure, null).valid, compValid: compositionValidity(structure.species).valid };
}

/** Indices already in a generation JSONL (and a clean end of file); refuses a file of another request. */
function existingIndices(path: string, model: string, seed: number): Set<number> {
  const done = new Set<number>();
  for (const { line, value: v } of readResumableJsonl(path, 'kldm generate')) {
    if (!Number.isInteger(v['index'])) throw new KldmError(`${path}: line ${line} has no index; not a kldm generate output (refusing to append)`);
    if (v['model'] !== model || v['seed'] !== seed) {
      throw new InputError(`${path} holds structures of model ${String(v['model'])} seed ${String(v['seed'])}; this request is model ${model} seed ${seed} (use another --out)`);
    }
    done.add(v['index'] as number);
  }
  return done;
}

/** generateStructures over an explicit network (tests, checkpoints). */
export async function generateWithNetwork(net: ScoreNetwork, info: DngModelInfo, options: GenerateOptions = {}): Promise<GenerateResult> {
  const n = options.n ?? 1;
  const steps = options.steps ?? 1000;
  const seed = options.seed ?? 42;
  const sampler: SamplerName = options.sampler ?? 'pc';
  const tFinal = options.tFinal ?? 1e-3;
  checkInt(n, 'n (number of structures)', 1, options.outPath || options.batches ? 100_000_000 : GENERATE_LIMITS.maxInMemory);
  checkInt(steps, 'steps', 1, GENERATE_LIMITS.maxSteps);
  checkInt(seed, 'seed', 0, 2 ** 32 - 1);
  if (sampler !== 'em' && sampler !== 'pc') throw new InputError(`sampler must be em or pc (got ${String(sampler)})`);
  if (!(tFinal >= 0 && tFinal < 1)) throw new InputError(`final time t_f must be in [0, 1), got ${tFinal}`);
  if (options.trajectory && options.outPath) throw new InputError('trajectories are returned in memory only (drop outPath, or generate fewer structures without a file)');
  const warnings: string[] = [];

  // what to generate: atom counts and (optionally) fixed types or an element restriction
  let fixedSites: number[] | null = null;
  let formula: string | null = null;
  let prior: AtomCountPrior;
  if (options.formula !== undefined) {
    if (options.elements || options.atoms !== undefined || options.atomsRange) {
      throw new InputError('a formula fixes the composition: do not combine it with elements, atoms or an atoms range');
    }
    const z = options.z ?? 1;
    checkInt(z, 'z (formula units per cell)', 1, 20);
    const base = parseFormula(options.formula, { maxAtoms: GENERATE_LIMITS.maxAtoms });
    const comp = { elements: base.elements, counts: base.counts.map((c) => c * z) };
    fixedSites = expandSites(comp);
    if (fixedSites.length > GENERATE_LIMITS.maxAtoms) throw new InputError(`${formatFormula(comp)} has ${fixedSites.length} atoms, more than ${GENERATE_LIMITS.maxAtoms}`);
    formula = formatFormula(comp);
    prior = { kind: 'fixed', count: fixedSites.length };
  } else if (options.atoms !== undefined && options.atomsRange) {
    throw new InputError('give at most one of atoms and atomsRange');
  } else if (options.atoms !== undefined) {
    checkInt(options.atoms, 'atoms', 1, GENERATE_LIMITS.maxAtoms);
    prior = { kind: 'fixed', count: options.atoms };
  } else if (options.atomsRange) {
    const [lo, hi] = options.atomsRange;
    checkInt(lo, 'atoms range start', 1, GENERATE_LIMITS.maxAtoms);
    checkInt(hi, 'atoms range end', lo, GENERATE_LIMITS.maxAtoms);
    prior = { kind: 'range', lo, hi };
  } else {
    if (!info.atomCounts) throw new InputError(`model ${info.name} has no training atom-count distribution; give atoms or an atoms range`);
    prior = { kind: 'empirical', histogram: info.atomCounts };
  }
  checkPriorAgainstStats(prior, info.stats, `model ${info.name}`);
  let allowed: Uint8Array | undefined;
  let elements: string[] | null = null;
  if (options.elements) {
    if (options.elements.length === 0) throw new InputError('the element list is empty');
    const zs = [...new Set(options.elements.map((e) => atomicNumber(e.trim(), 'elements')))].sort((a, b) => a - b);
    try {
      allowed = allowedClassesOf(zs);
    } catch (err) {
      throw new InputError((err as Error).message);
    }
    elements = zs.map((z) => elementSymbol(z));
    const known = new Set(info.trainingElements);
    const unseen = zs.filter((z) => !known.has(z));
    if (unseen.length > 0) warnings.push(`model ${info.name} never saw ${unseen.map((z) => elementSymbol(z)).join(', ')} in training; it will rarely or unreliably generate them`);
  }
  const atomsText = prior.kind === 'fixed' ? `${prior.count} atoms` : prior.kind === 'range' ? `${prior.lo}-${prior.hi} atoms (uniform)` : 'training distribution of atom counts';

  const { counts, batchSize, batches } = planGeneration(net, prior, n, seed, options.batchSize);
  const done = options.outPath ? existingIndices(options.outPath, info.name, seed) : new Set<number>();
  if (options.outPath) mkdirSync(dirname(options.outPath), { recursive: true });
  const alreadyDone = done.size;
  const stride = options.trajectoryStride ?? Math.max(1, Math.round(steps / 100));
  checkInt(stride, 'trajectory stride', 1, steps);

  const samples: GeneratedStructure[] = [];
  const t0 = Date.now();
  let written = 0;
  let aborted = false;
  options.onProgress?.({ done: alreadyDone, total: n });
  const first = options.batches?.first ?? 0;
  const last = options.batches ? Math.min(batches.length, first + options.batches.count) : batches.length;
  let samplerStepsTotal = 0;
  for (let b = first; b < last; b++) if (!batches[b]!.every((i) => done.has(i))) samplerStepsTotal += steps;
  let samplerSteps = 0;
  for (let b = first; b < last && !aborted; b++) {
    // batches are planned over the whole request: a batch cut short by a kill is sampled again whole
    // (same noise, same lines) and only its missing lines are appended
    const chunk = batches[b]!;
    if (chunk.every((i) => done.has(i))) continue;
    const layout = makeLayout(chunk.map((i) => counts[i]!));
    const fixed = fixedSites ? new Int32Array(layout.numAtoms) : undefined;
    if (fixed) for (let g = 0; g < chunk.length; g++) fixed.set(fixedSites!, layout.atomOffsets[g]!);
    const run = new CspSampler(
      net,
      {
        layout,
        types: new Int32Array(layout.numAtoms),
        typeDiffusion: { kind: info.types.kind, maskSchedule: info.types.maskSchedule, ...(allowed ? { allowed } : {}), ...(fixed ? { fixed } : {}) },
      },
      new Rng((seed * 1_000_003 + chunk[0]!) >>> 0),
      { method: sampler, nSteps: steps, tFinal, latticeParameterisation: info.latticeParameterisation ?? 'x0' },
    );
    const trajectories: TrajectoryFrame[][] = chunk.map(() => []);
    const record = (stepsDone: number): void => {
      const frame = run.frame(stepsDone);
      for (let g = 0; g < chunk.length; g++) {
        const f = publicFrame(frame, g, layout.atomOffsets[g]!, layout.atomOffsets[g + 1]!, info.stats, true);
        trajectories[g]!.push(f);
        options.onFrame?.(chunk[g]!, f);
      }
    };
    run.prior();
    if (options.trajectory) record(0);
    const before = alreadyDone + written;
    for (let i = 0; i < steps; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (options.signal?.aborted) {
        aborted = true;
        break;
      }
      run.step(i);
      if (options.trajectory && ((i + 1) % stride === 0 || i + 1 === steps)) record(i + 1);
      samplerSteps++;
      options.onStep?.({ step: samplerSteps, total: samplerStepsTotal });
      options.onProgress?.({ done: before + Math.floor((chunk.length * (i + 1)) / steps), total: n });
    }
    if (aborted) break;
    const decoded = decodeSamplerResult(run.result([]), info.stats);
    // a non-finite sample is written with an empty CIF, so it counts as invalid, not missing
    const cifs = decoded.map((d, g) => (d.finite ? writeCif(d.structure, `${info.name}-s${seed}-${chunk[g]!}`) : ''));
    const batch: GeneratedStructure[] = decoded.map((d, g) => {
      const index = chunk[g]!;
      return {
        index,
        id: `${info.name}-s${seed}-${index}`,
        structure: d.structure,
        composition: formatFormula(compositionOf(d.structure.species)),
        numAtoms: d.structure.species.length,
        ...describe(d.structure),
        ...(d.finite ? {} : { structValid: false }),
        ...(options.trajectory ? { trajectory: trajectories[g] } : {}),
      };
    });
    const lines = batch.map((s, g) => JSON.stringify({
      index: s.index, id: s.id, model: info.name, seed, num_atoms: s.numAtoms, composition: s.composition,
      struct_valid: s.structValid, comp_valid: s.compValid, cif: cifs[g],
    }));
    const missing = batch.filter((s) => !done.has(s.index));
    if (options.outPath) {
      appendFileSync(options.outPath, batch.map((s, g) => (done.has(s.index) ? '' : lines[g]! + '\n')).join(''));
    } else if (!options.batches) {
      samples.push(...batch);
    }
    options.onLines?.(lines);
    options.onBatch?.(batch);
    written += missing.length;
    options.onProgress?.({ done: alreadyDone + written, total: n });
  }
  return {
    model: info.name, sampler, steps, seed, atoms: atomsText, elements, formula, total: n,
    samples, alreadyDone, batchSize, batches: batches.length, written, seconds: (Date.now() - t0) / 1000, aborted, warnings,
  };
}

/**
 * The plan of a request: atom counts (the i-th draw of Rng(seed) from the prior), the batch size, and the
 * batches cut from the whole index list 0..n-1 (each batch's noise comes from its first index).
 */
export function planGeneration(net: ScoreNetwork, prior: AtomCountPrior, n: number, seed: number, batchSizeOption?: number): { counts: ArrayLike<number>; batchSize: number; batches: number[][] } {
  const counts = drawAtomCounts(prior, n, new Rng(seed));
  const batchSize = batchSizeOption ?? edgeBudgetBatchSize(counts, net.config?.hidden);
  checkInt(batchSize, 'batch size', 1, 100_000);
  const batches: number[][] = [];
  for (let start = 0; start < n; start += batchSize) batches.push(Array.from({ length: Math.min(batchSize, n - start) }, (_, k) => start + k));
  return { counts, batchSize, batches };
}

/** The DngModelInfo of a shipped model. */
export function dngModelInfo(name: string): { net: ScoreNetwork; info: DngModelInfo } {
  const entry = getModel(name);
  const m = entry.manifest;
  const types = dngTypeDiffusion(m);
  return {
    net: loadModelNetwork(entry),
    info: {
      name: m.name, stats: m.latticeStats, types, atomCounts: m.trainingRange.atomCounts ?? null, trainingElements: m.trainingRange.elements,
      latticeParameterisation: modelLatticeParameterisation(m),
    },
  };
}

/**
 * The network and DngModelInfo of a DNG training checkpoint (EMA weights when present, as
 * `kldm sample --checkpoint`); named after its run directory.
 */
export function dngCheckpointInfo(path: string): { net: ScoreNetwork; info: DngModelInfo; usedEma: boolean } {
  const { meta, tensors } = readCheckpoint(path);
  if (meta.config.task !== 'dng') throw new InputError(`${path} is a crystal-structure-prediction checkpoint; de-novo generation needs a DNG run (kldm train --task dng)`);
  const { params, usedEma } = paramsFromTensors(meta.netConfig, tensors, true, path);
  const name = basename(dirname(path)).replace(/[^A-Za-z0-9._-]+/g, '_') || 'checkpoint';
  return {
    net: new CSPVNet(meta.netConfig, params),
    info: {
      name, stats: meta.latticeStats, types: meta.config.types, atomCounts: meta.trainingRange.atomCounts ?? null, trainingElements: meta.trainingRange.elements,
      latticeParameterisation: latticeParameterisationOf(meta.config, path),
    },
    usedEma,
  };
}

/**
 * Generates new crystals with a shipped DNG model (de-novo generation). Throws InputError for an
 * unknown or CSP model, bad options, or atom counts the model cannot decode.
 */
export async function generateStructures(options: GenerateOptions & { model: string }): Promise<GenerateResult> {
  if (!options.model) throw new InputError('a DNG model name is required (kldm predict --list-models)');
  const { net, info } = dngModelInfo(options.model);
  return generateWithNetwork(net, info, options);
}
