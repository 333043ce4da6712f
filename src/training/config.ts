/**
 * Training configuration: a JSON file format with named presets (spec §2, §8, §13.2/13.4).
 *
 * A config is `{ task, types, model, optim, schedule, validation, checkpoint, engine, lattice }`.
 * It is resolved in three layers: a named preset (or a JSON file that may name a `base` preset),
 * then overrides given as dotted keys (`optim.lr=5e-4`, from `--set` flags). Every field is
 * validated with a message that names the field and the source.
 *
 * Presets:
 * - `paper`: the published MP-20 CSP configuration (spec §2 H=512, D_t=256, L=6, F=128; §8 AdamW
 *   lr 1e-3, betas (0.9, 0.999), eps 1e-8, wd 1e-12, AMSGrad, batch 256, EMA 0.999 from epoch 500,
 *   validation every 100 epochs with the EM sampler, 1000 steps, on the first 1024 val crystals).
 * - `cpu-small` (Perov-5) and `cpu-medium` (MP-20): narrower networks sized so that a model converges
 *   in roughly 4-8 CPU-hours on 2 cores (measured step times in docs/training.md). Same optimiser as
 *   the paper; EMA starts early (in epochs, §13.4) so that it matters within the short run; validation
 *   uses a smaller subset and fewer sampler steps to stay affordable on CPU.
 */
import { existsSync, readFileSync } from 'node:fs';
import { InputError, KldmError } from '../util/errors.js';
import { DEFAULT_TYPE_DIFFUSION, isTypeDiffusionKind, type TypeDiffusionSpec } from '../diffusion/typeDiffusion.js';
import { PRECISIONS, type Precision } from '../engine/precision.js';
import type { VpParameterisation } from '../diffusion/latticeVp.js';

export interface ModelConfig {
  /** hidden width H (spec §2) */
  hidden: number;
  /** time-feature width D_t = 2 × (number of random Fourier frequencies) (spec §2.1) */
  timeDim: number;
  /** message-passing layers L */
  layers: number;
  /** edge Fourier frequencies F (edge feature width 6F) */
  frequencies: number;
}

export interface OptimConfig {
  batchSize: number;
  /** crystals per forward/backward pass, gradients accumulated over the batch (0 = whole batch); see step.ts */
  microBatch: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  /**
   * Linear learning-rate warm-up over the first N optimiser steps of a run (0 = none, the spec §8
   * setting). Meant for warm starts (`--init-from`): fresh Adam moments make the first updates
   * sign-sized (lr per weight), which would shake a trained network.
   */
  warmupSteps: number;
  /**
   * Cosine learning-rate decay over this many steps after the warm-up, down to lr · minLrRatio, held
   * there afterwards (0 = none, the spec §8 constant rate; lrSchedule.ts). For annealing a long run.
   */
  decaySteps: number;
  /** floor of the cosine decay as a fraction of lr (only with decaySteps > 0) */
  minLrRatio: number;
}

export interface ScheduleConfig {
  /** stop after this many epochs; -1 = no limit (spec §8: the reference sets none) */
  maxEpochs: number;
  emaDecay: number;
  /** EMA updates start once the epoch counter exceeds this value (epochs, not steps: spec §8, §13.4) */
  emaStartEpoch: number;
}

export interface ValidationConfig {
  /** validate every N epochs (0 = never) */
  everyEpochs: number;
  /** validation loss on the first `lossSubset` validation crystals (spec §1.7/§13.14: 1024) */
  lossSubset: number;
  /**
   * CSP: match rate on the first `matchSubset` validation crystals (0 = skip sampling).
   * DNG: number of structures generated (atom counts drawn from the training split) and scored for
   * structural validity.
   */
  matchSubset: number;
  sampler: 'em' | 'pc';
  /** reverse-diffusion steps of the validation sampler (spec §7.4: 1000) */
  samplerSteps: number;
  /** sampler final time t_f (spec §7.4: 1e-3 for validation) */
  finalTime: number;
  /**
   * What picks `best.ckpt`: 'match' (the reference's `val/match_rate`, ties by loss; runs without a match
   * rate use the loss) or 'loss' (the validation loss on the fixed `lossSubset` crystals with fixed noise:
   * far steadier than a match rate on a few hundred crystals, docs/training.md "Shipping a model, step by step").
   */
  bestBy: 'match' | 'loss';
}

export interface CheckpointConfig {
  /** write `last` at most this often (seconds); also at the end, on budget expiry and on validation */
  everySeconds: number;
}

/** What the model learns: crystal-structure prediction (types given) or de-novo generation (spec §6). */
export type TrainTask = 'csp' | 'dng';
export interface EngineConfig {
  /**
   * 'f32' (default) or 'bf16': bf16 GEMM operands with f32 accumulation, f32 weights, optimiser
   * state and elementwise kernels (docs/engine.md "Precision"); falls back to f32, with one line
   * saying so, where the CPU has no native bf16. KLDM_PRECISION overrides it.
   */
  precision: Precision;
}

/** The lattice parameterisations of spec §4 (names as in the config). */
export const LATTICE_PARAMETERISATIONS: readonly VpParameterisation[] = ['x0', 'eps'];

export interface LatticeConfig {
  /**
   * What the lattice head learns (spec §4): 'x0' (default; target l_0, score (α·l̂_0 − l_t)/σ²,
   * the paper's "KLDM-x0") or 'eps' (target ε, score −ε̂/σ, "KLDM-ε"). Training loss, validation
   * sampling and every sampler that loads the model follow it; the velocity part is unaffected.
   */
  parameterisation: VpParameterisation;
}

export interface TrainConfig {
  /** preset name or file this config came from */
  name: string;
  /** 'csp' (default) or 'dng' (types diffused too, spec §5-6) */
  task: TrainTask;
  /** DNG type diffusion (spec §5; ignored for CSP) */
  types: TypeDiffusionSpec;
  model: ModelConfig;
  optim: OptimConfig;
  schedule: ScheduleConfig;
  validation: ValidationConfig;
  checkpoint: CheckpointConfig;
  engine: EngineConfig;
  lattice: LatticeConfig;
}

const PAPER: TrainConfig = {
  name: 'paper',
  task: 'csp',
  types: { ...DEFAULT_TYPE_DIFFUSION },
  model: { hidden: 512, timeDim: 256, layers: 6, frequencies: 128 },
  optim: { batchSize: 256, microBatch: 0, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-12, amsgrad: true, warmupSteps: 0, decaySteps: 0, minLrRatio: 0.01 },
  schedule: { maxEpochs: -1, emaDecay: 0.999, emaStartEpoch: 500 },
  validation: { everyEpochs: 100, lossSubset: 1024, matchSubset: 1024, sampler: 'em', samplerSteps: 1000, finalTime: 1e-3, bestBy: 'match' },
  checkpoint: { everySeconds: 300 },
  engine: { precision: 'f32' },
  lattice: { parameterisation: 'x0' },
};

/** Perov-5 on 2 CPU cores (see docs/training.md for the measured step time). */
const CPU_SMALL: TrainConfig = {
  name: 'cpu-small',
  task: 'csp',
  types: { ...DEFAULT_TYPE_DIFFUSION },
  model: { hidden: 128, timeDim: 64, layers: 4, frequencies: 32 },
  optim: { ...PAPER.optim },
  schedule: { maxEpochs: -1, emaDecay: 0.999, emaStartEpoch: 50 },
  validation: { everyEpochs: 100, lossSubset: 1024, matchSubset: 128, sampler: 'em', samplerSteps: 200, finalTime: 1e-3, bestBy: 'match' },
  checkpoint: { everySeconds: 300 },
  engine: { precision: 'f32' },
  lattice: { parameterisation: 'x0' },
};

/** MP-20 on 2 CPU cores. */
const CPU_MEDIUM: TrainConfig = {
  name: 'cpu-medium',
  task: 'csp',
  types: { ...DEFAULT_TYPE_DIFFUSION },
  model: { hidden: 192, timeDim: 64, layers: 4, frequencies: 32 },
  optim: { ...PAPER.optim },
  schedule: { maxEpochs: -1, emaDecay: 0.999, emaStartEpoch: 20 },
  validation: { everyEpochs: 20, lossSubset: 1024, matchSubset: 128, sampler: 'em', samplerSteps: 200, finalTime: 1e-3, bestBy: 'match' },
  checkpoint: { everySeconds: 300 },
  engine: { precision: 'f32' },
  lattice: { parameterisation: 'x0' },
};

/** A tiny network for tests and smoke runs (seconds per epoch on Perov-5). */
const TINY: TrainConfig = {
  name: 'tiny',
  task: 'csp',
  types: { ...DEFAULT_TYPE_DIFFUSION },
  model: { hidden: 16, timeDim: 8, layers: 2, frequencies: 4 },
  optim: { ...PAPER.optim, batchSize: 32 },
  schedule: { maxEpochs: 2, emaDecay: 0.999, emaStartEpoch: 0 },
  validation: { everyEpochs: 1, lossSubset: 64, matchSubset: 8, sampler: 'em', samplerSteps: 20, finalTime: 1e-3, bestBy: 'match' },
  checkpoint: { everySeconds: 60 },
  engine: { precision: 'f32' },
  lattice: { parameterisation: 'x0' },
};

export const PRESETS: Readonly<Record<string, TrainConfig>> = {
  paper: PAPER,
  'cpu-small': CPU_SMALL,
  'cpu-medium': CPU_MEDIUM,
  tiny: TINY,
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merges `patch` into `base` (only keys that exist in base; unknown keys are an error). */
function mergeInto(base: Record<string, unknown>, patch: Record<string, unknown>, source: string, prefix = ''): void {
  for (const [key, value] of Object.entries(patch)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!(key in base)) throw new InputError(`${source}: unknown config field "${path}"`);
    const cur = base[key];
    if (isObject(cur)) {
      if (!isObject(value)) throw new InputError(`${source}: config field "${path}" must be an object`);
      mergeInto(cur, value, source, path);
    } else {
      base[key] = value;
    }
  }
}

/**
 * Parses `key=value` overrides (dotted keys into the config, values as JSON or bare strings),
 * e.g. `optim.lr=5e-4`, `model.hidden=256`, `validation.sampler=pc`.
 */
export function parseOverrides(items: string[]): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new InputError(`--set "${item}": expected key=value, e.g. optim.lr=5e-4`);
    const keys = item.slice(0, eq).trim().split('.');
    const raw = item.slice(eq + 1).trim();
    let value: Json;
    try {
      value = JSON.parse(raw) as Json;
    } catch {
      value = raw;
    }
    let node = patch;
    for (let i = 0; i < keys.length - 1; i++) {
      const k = keys[i]!;
      if (!isObject(node[k])) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]!] = value;
  }
  return patch;
}

/**
 * Resolves `spec` (a preset name or a path to a JSON config file) and applies `overrides`.
 * A config file may contain `"base": "<preset>"` and any subset of the fields; missing fields
 * come from the base preset (default `paper`).
 */
export function resolveConfig(spec: string, overrides: Record<string, unknown> = {}): TrainConfig {
  let config: TrainConfig;
  if (spec in PRESETS) {
    config = clone(PRESETS[spec]!);
  } else if (spec.endsWith('.json') || existsSync(spec)) {
    if (!existsSync(spec)) throw new InputError(`config file not found: ${spec}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(spec, 'utf8'));
    } catch (err) {
      throw new InputError(`config file ${spec}: invalid JSON (${(err as Error).message})`);
    }
    if (!isObject(parsed)) throw new InputError(`config file ${spec}: expected a JSON object`);
    const { base, ...rest } = parsed;
    const baseName = base === undefined ? 'paper' : base;
    if (typeof baseName !== 'string' || !(baseName in PRESETS)) {
      throw new InputError(`config file ${spec}: "base" must be one of ${presetNames().join(', ')}`);
    }
    config = clone(PRESETS[baseName]!);
    config.name = spec;
    mergeInto(config as unknown as Record<string, unknown>, rest, `config file ${spec}`);
  } else {
    throw new InputError(`unknown config "${spec}": use a preset (${presetNames().join(', ')}) or a .json file`);
  }
  mergeInto(config as unknown as Record<string, unknown>, overrides, 'override');
  validateConfig(config, spec);
  return config;
}

/**
 * The config a run was saved with (a checkpoint's `config`), with `overrides` applied: what
 * `kldm train --resume` uses when no --config is given. Fields added to kldm after the checkpoint was
 * written take their preset's (or the paper's) default.
 */
export function resolveSavedConfig(saved: TrainConfig, overrides: Record<string, unknown> = {}): TrainConfig {
  const config = clone(PRESETS[saved.name] ?? PAPER);
  const { name, ...fields } = clone(saved);
  config.name = name;
  mergeInto(config as unknown as Record<string, unknown>, fields, 'checkpoint config');
  mergeInto(config as unknown as Record<string, unknown>, overrides, 'override');
  validateConfig(config, name);
  return config;
}

function checkNumber(v: unknown, path: string, source: string, opts: { int?: boolean; min?: number; max?: number; minExclusive?: boolean }): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`${source}: "${path}" must be a finite number (got ${JSON.stringify(v)})`);
  if (opts.int && !Number.isInteger(v)) throw new InputError(`${source}: "${path}" must be an integer (got ${v})`);
  if (opts.min !== undefined && (opts.minExclusive ? v <= opts.min : v < opts.min)) {
    throw new InputError(`${source}: "${path}" must be ${opts.minExclusive ? '>' : '>='} ${opts.min} (got ${v})`);
  }
  if (opts.max !== undefined && v > opts.max) throw new InputError(`${source}: "${path}" must be <= ${opts.max} (got ${v})`);
}

/** Throws an InputError naming the first invalid field. */
export function validateConfig(c: TrainConfig, source = c.name): void {
  const m = c.model;
  checkNumber(m.hidden, 'model.hidden', source, { int: true, min: 1 });
  checkNumber(m.timeDim, 'model.timeDim', source, { int: true, min: 2 });
  if (m.timeDim % 2 !== 0) throw new InputError(`${source}: "model.timeDim" must be even (cos and sin halves, spec §2.1)`);
  checkNumber(m.layers, 'model.layers', source, { int: true, min: 1 });
  checkNumber(m.frequencies, 'model.frequencies', source, { int: true, min: 1 });
  const o = c.optim;
  checkNumber(o.batchSize, 'optim.batchSize', source, { int: true, min: 1 });
  checkNumber(o.microBatch, 'optim.microBatch', source, { int: true, min: 0 });
  checkNumber(o.lr, 'optim.lr', source, { min: 0, minExclusive: true });
  checkNumber(o.beta1, 'optim.beta1', source, { min: 0, max: 1 });
  checkNumber(o.beta2, 'optim.beta2', source, { min: 0, max: 1 });
  checkNumber(o.eps, 'optim.eps', source, { min: 0, minExclusive: true });
  checkNumber(o.weightDecay, 'optim.weightDecay', source, { min: 0 });
  if (typeof o.amsgrad !== 'boolean') throw new InputError(`${source}: "optim.amsgrad" must be true or false`);
  checkNumber(o.warmupSteps, 'optim.warmupSteps', source, { int: true, min: 0 });
  checkNumber(o.decaySteps, 'optim.decaySteps', source, { int: true, min: 0 });
  checkNumber(o.minLrRatio, 'optim.minLrRatio', source, { min: 0, max: 1 });
  const s = c.schedule;
  checkNumber(s.maxEpochs, 'schedule.maxEpochs', source, { int: true, min: -1 });
  checkNumber(s.emaDecay, 'schedule.emaDecay', source, { min: 0, max: 1 });
  checkNumber(s.emaStartEpoch, 'schedule.emaStartEpoch', source, { int: true, min: 0 });
  const v = c.validation;
  checkNumber(v.everyEpochs, 'validation.everyEpochs', source, { int: true, min: 0 });
  checkNumber(v.lossSubset, 'validation.lossSubset', source, { int: true, min: 0 });
  checkNumber(v.matchSubset, 'validation.matchSubset', source, { int: true, min: 0 });
  if (v.sampler !== 'em' && v.sampler !== 'pc') throw new InputError(`${source}: "validation.sampler" must be "em" or "pc"`);
  checkNumber(v.samplerSteps, 'validation.samplerSteps', source, { int: true, min: 1 });
  checkNumber(v.finalTime, 'validation.finalTime', source, { min: 0, max: 0.5 });
  if (v.bestBy !== 'match' && v.bestBy !== 'loss') throw new InputError(`${source}: "validation.bestBy" must be "match" or "loss" (got ${JSON.stringify(v.bestBy)})`);
  checkNumber(c.checkpoint.everySeconds, 'checkpoint.everySeconds', source, { min: 1 });
  if (c.task !== 'csp' && c.task !== 'dng') throw new InputError(`${source}: "task" must be "csp" or "dng" (got ${JSON.stringify(c.task)})`);
  const ty = c.types;
  if (!isTypeDiffusionKind(ty.kind)) throw new InputError(`${source}: "types.kind" must be masking, onehot or bits (got ${JSON.stringify(ty.kind)})`);
  if (ty.maskSchedule !== 'linear' && ty.maskSchedule !== 'cosine' && ty.maskSchedule !== 'poly2') {
    throw new InputError(`${source}: "types.maskSchedule" must be linear, cosine or poly2 (got ${JSON.stringify(ty.maskSchedule)})`);
  }
  if (typeof ty.simpleLoss !== 'boolean') throw new InputError(`${source}: "types.simpleLoss" must be true or false`);
  if (ty.lossWeight !== undefined && !(typeof ty.lossWeight === 'number' && Number.isFinite(ty.lossWeight) && ty.lossWeight > 0)) {
    throw new InputError(`${source}: "types.lossWeight" must be a positive number (w_h of spec §6; got ${JSON.stringify(ty.lossWeight)})`);
  }
  if (!LATTICE_PARAMETERISATIONS.includes(c.lattice.parameterisation)) {
    throw new InputError(`${source}: "lattice.parameterisation" must be "x0" or "eps" (spec §4; got ${JSON.stringify(c.lattice.parameterisation)})`);
  }
  if (!PRECISIONS.includes(c.engine.precision)) throw new InputError(`${source}: "engine.precision" must be "f32" or "bf16" (got ${JSON.stringify(c.engine.precision)})`);
}

/**
 * The lattice parameterisation of a saved config (a checkpoint's or a model's `trainConfig`):
 * configs written before `lattice.parameterisation` existed are x0, the only one trained then.
 */
export function latticeParameterisationOf(saved: { lattice?: Partial<LatticeConfig> } | null | undefined, source: string): VpParameterisation {
  const p = saved?.lattice?.parameterisation ?? 'x0';
  if (!LATTICE_PARAMETERISATIONS.includes(p)) throw new KldmError(`${source}: unknown lattice parameterisation ${JSON.stringify(p)} (this kldm knows x0 and eps, spec §4)`);
  return p;
}
