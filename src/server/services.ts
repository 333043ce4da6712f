/**
 * What the server needs from the rest of kldm, as one injectable object. The
 * defaults (default-services.ts) are the real library functions; tests inject
 * small deterministic doubles so that the HTTP layer can be checked in
 * milliseconds.
 */
import type { Structure } from '../crystal/types.js';
import type { PredictResult, PredictedStructure, SamplerName, TrajectoryFrame } from '../predict/types.js';

/** A validated prediction request, as the job runner receives it. */
export interface PredictJobRequest {
  /** absent on prediction requests (the original job kind; kept out of their JSON) */
  kind?: 'predict';
  formula: string;
  n: number;
  z: number;
  sampler: SamplerName;
  steps: number;
  seed: number;
  model?: string;
  trajectory: boolean;
  trajectoryStride: number;
}

/** A validated de-novo generation request (POST /api/generate; src/predict/generate.ts's generateStructures). */
export interface GenerateJobRequest {
  kind: 'generate';
  /** a shipped DNG model */
  model: string;
  n: number;
  /** every structure has this many atoms; with neither atoms nor atomsRange, the model's training distribution (spec §5.4) */
  atoms?: number;
  /** atom counts uniform over [lo, hi] */
  atomsRange?: [number, number];
  /** chemical system: only these element symbols are generated */
  elements?: string[];
  sampler: SamplerName;
  steps: number;
  seed: number;
  trajectory: boolean;
  trajectoryStride: number;
}

/** What the job queue runs: a prediction (CSP) or a generation (DNG). */
export type JobRequest = PredictJobRequest | GenerateJobRequest;

export function isGenerateRequest(r: JobRequest): r is GenerateJobRequest {
  return r.kind === 'generate';
}

/** One generated crystal: a predicted structure (valid = structural validity) plus what generateStructures reports. */
export interface GeneratedJobSample extends PredictedStructure {
  /** `<model>-s<seed>-<index>` */
  id: string;
  /** formula of the cell, e.g. "SrTiO3" */
  composition: string;
  numAtoms: number;
  /** structural validity (spec §10.1); equals `valid` */
  structValid: boolean;
  /** SMACT composition validity (spec §10.1) */
  compValid: boolean;
}

/** Result of a generation job (trajectory frames carry the species of each frame, 'X' = still masked). */
export interface GenerateJobResult {
  kind: 'generate';
  model: string;
  sampler: SamplerName;
  steps: number;
  seed: number;
  /** how atom counts were chosen, e.g. "5 atoms" or "training distribution of atom counts" */
  atoms: string;
  elements: string[] | null;
  samples: GeneratedJobSample[];
  warnings: string[];
}

export type JobResult = PredictResult | GenerateJobResult;

export function isGenerateResult(r: JobResult): r is GenerateJobResult {
  return 'kind' in r && r.kind === 'generate';
}

export interface RunHooks {
  signal: AbortSignal;
  onProgress(step: number, total: number): void;
  /** a trajectory frame of sample `sample`, as soon as the sampler records it */
  onFrame(sample: number, frame: TrajectoryFrame): void;
}

/** Counters of a runner's workers, reported by /api/health. */
export interface RunnerStats {
  kind: string;
  /** live workers, busy ones among them */
  workers: number;
  busy: number;
  /** worker processes started since the server started */
  started: number;
  /** workers replaced after a fault: crashed + killedAfterCancel */
  restarts: number;
  /** workers that died on their own (native crash, out of memory, killed from outside) */
  crashed: number;
  /** workers killed because a cancelled or timed-out job did not stop within the grace period */
  killedAfterCancel: number;
  /** workers retired after their job quota (normal turnover, not a fault) */
  retired: number;
  jobsRun: number;
  pids: number[];
}

/** Runs one prediction or generation job (by default in a pool of worker processes, see worker-pool.ts). */
export interface JobRunner {
  run(request: JobRequest, hooks: RunHooks): Promise<JobResult>;
  stats?(): RunnerStats;
  /** stops the runner's workers (server shutdown) */
  close?(): Promise<void>;
}

export type StructureFormat = 'cif' | 'poscar' | 'extxyz' | 'json';

export interface ModelInfo {
  name: string;
  /** 'csp': predicts a given composition (POST /api/predict); 'dng': generates new crystals (POST /api/generate) */
  task: 'csp' | 'dng';
  /** atom counts per cell the model can decode (its lattice statistics, spec §13.13), ascending */
  atomCounts: number[];
  /** DNG models: the type diffusion and the training split's atom counts (the default prior of §5.4, ascending; null when unknown) */
  dng?: { typeDiffusion: string; trainingAtomCounts: number[] | null };
  /** parsed models/<name>/model.json (free-form) */
  meta: Record<string, unknown>;
  /** MODEL_CARD.md text, when shipped */
  card?: string;
}

export interface DatasetInfo {
  name: string;
  splits: string[];
}

export interface DatasetEntry {
  id: string;
  formula: string;
  structure: Structure;
  /** the CIF text as stored in the benchmark CSV */
  cif?: string;
}

export interface DatasetPage {
  dataset: string;
  split: string;
  offset: number;
  limit: number;
  /** entries matching the filter */
  total: number;
  items: DatasetEntry[];
}

export interface MatchResult {
  match: boolean;
  /** normalised rms displacement (spec §9 step 2), null when no match */
  rms: number | null;
}

export interface Services {
  runner: JobRunner;
  /** element -> count of one formula unit; throws InputError on a bad formula */
  parseFormula(formula: string): Promise<Record<string, number>>;
  /** parse CIF text; throws InputError on bad input */
  parseCif(text: string): Promise<Structure>;
  /** structure text in one of the download formats (json is handled by the server itself) */
  writeStructure(structure: Structure, format: Exclude<StructureFormat, 'json'>, title: string): Promise<string>;
  /** the CSP evaluator's matcher (spec §9 step 2) on two CIF texts, read as the evaluator reads them */
  matchCifs(cifA: string, cifB: string): Promise<MatchResult>;
  listModels(): Promise<ModelInfo[]>;
  /**
   * Optional check at submit time that a model can serve the request (cell size, model name),
   * so that the client gets a 400 at once instead of a failed job; throws InputError.
   */
  precheck?(request: PredictJobRequest): Promise<void>;
  listDatasets(): Promise<DatasetInfo[]>;
  /** throws InputError for an unknown dataset/split */
  datasetPage(name: string, split: string, q: { offset: number; limit: number; formula?: string }): Promise<DatasetPage>;
}
