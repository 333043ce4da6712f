/**
 * Contract of the prediction API (issue: KLDM for CSP). The CLI `kldm predict`
 * and the web server call this; src/predict/predict.ts implements it.
 */
import type { Structure } from '../crystal/types.js';

export type SamplerName = 'em' | 'pc';

export interface PredictOptions {
  /** number of independent samples (default 1) */
  n?: number;
  /** formula units per cell; the composition is multiplied by z (default 1) */
  z?: number;
  sampler?: SamplerName;
  /** reverse-diffusion steps (default 1000) */
  steps?: number;
  seed?: number;
  /** shipped model name (default: best model for the composition's size) */
  model?: string;
  /** record the denoising trajectory (every `trajectoryStride` steps) */
  trajectory?: boolean;
  trajectoryStride?: number;
  signal?: AbortSignal;
  onProgress?: (p: { step: number; total: number }) => void;
  /** called with each trajectory frame of sample `sample` as soon as it is recorded (live view in the web page) */
  onFrame?: (sample: number, frame: TrajectoryFrame) => void;
}

/** One frame of a denoising trajectory (network time t, positions, velocities, lattice). */
export interface TrajectoryFrame {
  t: number;
  lattice: [number, number, number, number, number, number, number, number, number];
  /** fractional positions wrapped to [0,1), N*3 */
  frac: number[];
  /** network-scale velocities, N*3 */
  vel: number[];
  /** de-novo generation: the species of this frame ('X' where the type is still masked) */
  species?: string[];
}

export interface PredictedStructure {
  structure: Structure;
  /** minimum interatomic distance in Å (periodic images) */
  minDistance: number;
  volume: number;
  /** KLDM structural validity (spec §9.1) */
  valid: boolean;
  trajectory?: TrajectoryFrame[];
}

export interface PredictResult {
  formula: string;
  model: string;
  sampler: SamplerName;
  steps: number;
  seed: number;
  samples: PredictedStructure[];
  warnings: string[];
}
