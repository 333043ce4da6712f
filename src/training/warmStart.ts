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
 *
 * Transfer CSP → DNG (masking): the masking variant's network (spec §2.4: embedding table of 101 rows,
 * class id = Z and mask id 100, §13) is the CSP network plus the type head `net.out_h` (§2.3 pred_h).
 * A CSP model can therefore start a masking DNG run: every shared tensor is copied and the type head
 * keeps its spec §2.5 initialisation (`freshTensors`). Why: on 2 CPU cores an MP-20 DNG model from
 * scratch costs as many CPU-hours as the CSP model did; the message-passing layers that denoise
 * positions and lattices transfer, only the type prediction is new. This deviates from the paper
 * (which trains DNG from scratch) and is named in the model card.
 */
import { paramSpecs, type CSPVNetConfig } from '../network/config.js';
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
  /** measured process CPU time of the earlier training and the steps it covers (CheckpointMeta.cpu); absent when none was measured */
  cpu?: { seconds: number; steps: number };
  /** task of the earlier training when it differs from this run's (CSP weights starting a DNG run) */
  task?: 'csp';
  /** this run's tensors the source did not have; they keep the spec §2.5 initialisation */
  freshTensors?: string[];
}

export interface WarmStart {
  record: WarmStartRecord;
  /** parameter values by parameter name (network names, no prefix) */
  weights: Map<string, Float32Array>;
}

function sameNet(a: CSPVNetConfig, b: CSPVNetConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Which of our tensors the source lacks: none for the same network; the type head for a CSP source
 * and a masking-DNG target (same embedding table, no smooth types); anything else is a mismatch.
 */
function transferableFresh(theirs: CSPVNetConfig, ours: CSPVNetConfig): string[] | null {
  if (sameNet(theirs, ours)) return [];
  if (theirs.typeOutputs || !ours.typeOutputs || ours.smoothTypes || theirs.smoothTypes) return null;
  const { typeOutputs: _o, ...rest } = ours;
  const { typeOutputs: _t, smoothTypes: _s, ...theirsRest } = theirs;
  const { smoothTypes: _s2, ...oursRest } = rest;
  if (!sameNet(theirsRest as CSPVNetConfig, oursRest as CSPVNetConfig)) return null;
  const theirNames = new Set(paramSpecs(theirs).map((p) => p.name));
  return paramSpecs(ours).map((p) => p.name).filter((n) => !theirNames.has(n));
}

function withFresh(record: WarmStartRecord, fresh: string[]): WarmStartRecord {
  return fresh.length ? { ...record, task: 'csp', freshTensors: fresh } : record;
}

function mismatch(source: string, theirs: CSPVNetConfig, ours: CSPVNetConfig): KldmError {
  return new KldmError(`--init-from ${source}: its network ${JSON.stringify(theirs)} differs from the config's ${JSON.stringify(ours)}; pick the same preset (a CSP model may also start a masking DNG run of the same preset)`);
}

/** Initial weights from a training checkpoint (its EMA when it has one, else its raw parameters). */
export function warmStartFromCheckpoint(path: string, netConfig: CSPVNetConfig): WarmStart {
  const { meta, tensors } = readCheckpoint(path);
  const fresh = transferableFresh(meta.netConfig, netConfig);
  if (!fresh) throw mismatch(path, meta.netConfig, netConfig);
  const { params, usedEma } = paramsFromTensors(meta.netConfig, tensors, true, path);
  const prior = meta.initFrom ?? null;
  return {
    record: withFresh({
      source: path,
      dataset: meta.dataset,
      ema: usedEma,
      epochs: meta.epochsCompleted + (prior?.epochs ?? 0),
      steps: meta.step + (prior?.steps ?? 0),
      trainSeconds: meta.trainSeconds + (prior?.trainSeconds ?? 0),
      ...cpuOf(meta.cpu ? { seconds: meta.cpu.seconds, steps: meta.step - meta.cpu.fromStep } : undefined, prior?.cpu),
    }, fresh),
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
  /** measured CPU time behind the weights (model.json training.cpu), when recorded */
  cpu?: { hours: number; steps: number };
}

/** Sum of measured CPU records (either may be missing); {} when neither is there. */
export function cpuOf(a?: { seconds: number; steps: number }, b?: { seconds: number; steps: number }): { cpu?: { seconds: number; steps: number } } {
  if (!a && !b) return {};
  return { cpu: { seconds: (a?.seconds ?? 0) + (b?.seconds ?? 0), steps: (a?.steps ?? 0) + (b?.steps ?? 0) } };
}

/** Initial weights from a shipped model (models/<name>/weights.kldm). */
export function warmStartFromModel(model: ModelWeightsInfo, netConfig: CSPVNetConfig): WarmStart {
  const fresh = transferableFresh(model.netConfig, netConfig);
  if (!fresh) throw mismatch(`model ${model.name}`, model.netConfig, netConfig);
  const { tensors } = loadTensors(model.weightsPath);
  const { params } = paramsFromTensors(model.netConfig, tensors, false, model.weightsPath);
  return {
    record: withFresh({
      source: `model ${model.name}`,
      dataset: model.dataset,
      ema: model.ema,
      epochs: model.epochs,
      steps: model.steps,
      trainSeconds: model.wallClockHours * 3600,
      ...cpuOf(model.cpu ? { seconds: model.cpu.hours * 3600, steps: model.cpu.steps } : undefined),
    }, fresh),
    weights: new Map(params.tensors.map((t) => [t.name, t.data])),
  };
}
