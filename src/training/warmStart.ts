/**
 * Warm start: a new training run whose parameters come from earlier training (a shipped model's
 * weights or a training checkpoint) instead of the spec §2.5 initialisation.
 *
 * Why this exists: a run directory lives on the machine that trained it. When the optimiser state
 * is lost (a new machine, a run directory deleted) but the weights were shipped, the only way to
 * keep training is to start from those weights. This is NOT a bit-for-bit resume (`--resume`):
 * the AdamW/AMSGrad moments start at zero and the data order and training noise come from the new
 * run's seed. The EMA (spec §8) restarts from the initial weights when the earlier training was
 * already past `emaStartEpoch` (the shipped weights are themselves an EMA), otherwise it starts as
 * usual once the total epoch count passes it. Epochs, steps and wall-clock time of the earlier
 * training are recorded (`WarmStartRecord`) and added to the run's own by `kldm train export`.
 */
import type { CSPVNetConfig } from '../network/config.js';
import { KldmError } from '../util/errors.js';
import { paramsFromTensors } from './model.js';
import { loadTensors } from './tensorFile.js';
import { readCheckpoint } from './trainer.js';

/** Where the initial weights came from and how much training they already had. */
export interface WarmStartRecord {
  /** what the user named (model name, weights file or checkpoint path) */
  source: string;
  /** dataset the earlier training used */
  dataset: string;
  /** whether the initial weights are an EMA average */
  ema: boolean;
  epochs: number;
  steps: number;
  trainSeconds: number;
}

export interface WarmStart {
  record: WarmStartRecord;
  /** parameter values by parameter name (network names, no prefix) */
  weights: Map<string, Float32Array>;
}

function sameNet(a: CSPVNetConfig, b: CSPVNetConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function mismatch(source: string, theirs: CSPVNetConfig, ours: CSPVNetConfig): KldmError {
  return new KldmError(`--init-from ${source}: its network ${JSON.stringify(theirs)} differs from the config's ${JSON.stringify(ours)}; pick the same preset`);
}

/** Initial weights from a training checkpoint (its EMA when it has one, else its raw parameters). */
export function warmStartFromCheckpoint(path: string, netConfig: CSPVNetConfig): WarmStart {
  const { meta, tensors } = readCheckpoint(path);
  if (!sameNet(meta.netConfig, netConfig)) throw mismatch(path, meta.netConfig, netConfig);
  const { params, usedEma } = paramsFromTensors(netConfig, tensors, true, path);
  const prior = meta.initFrom ?? null;
  return {
    record: {
      source: path,
      dataset: meta.dataset,
      ema: usedEma,
      epochs: meta.epochsCompleted + (prior?.epochs ?? 0),
      steps: meta.step + (prior?.steps ?? 0),
      trainSeconds: meta.trainSeconds + (prior?.trainSeconds ?? 0),
    },
    weights: new Map(params.tensors.map((t) => [t.name, t.data])),
  };
}

/** What a shipped model's manifest says about its training (the fields warm start needs). */
export interface ModelWeightsInfo {
  name: string;
  weightsPath: string;
  dataset: string;
  netConfig: CSPVNetConfig;
  ema: boolean;
  epochs: number;
  steps: number;
  wallClockHours: number;
}

/** Initial weights from a shipped model (models/<name>/weights.kldm). */
export function warmStartFromModel(model: ModelWeightsInfo, netConfig: CSPVNetConfig): WarmStart {
  if (!sameNet(model.netConfig, netConfig)) throw mismatch(`model ${model.name}`, model.netConfig, netConfig);
  const { tensors } = loadTensors(model.weightsPath);
  const { params } = paramsFromTensors(netConfig, tensors, false, model.weightsPath);
  return {
    record: {
      source: `model ${model.name}`,
      dataset: model.dataset,
      ema: model.ema,
      epochs: model.epochs,
      steps: model.steps,
      trainSeconds: model.wallClockHours * 3600,
    },
    weights: new Map(params.tensors.map((t) => [t.name, t.data])),
  };
}
