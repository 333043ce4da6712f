/**
 * The training loop (spec §6, §8): shuffled epochs of 256 crystals, the joint CSP loss, network
 * forward/backward, AdamW (AMSGrad), EMA from `emaStartEpoch` (epochs, §13.4), validation every N
 * epochs, atomic checkpoints (last + best), bit-for-bit resume, a time budget, and a hard stop on
 * non-finite loss or gradients.
 *
 * Run directory (runs/<name>/, gitignored):
 *   config.json   the resolved config, dataset and seed of the run (rewritten on every start)
 *   log.jsonl     one record per event: start, train (every `logEvery` steps), epoch, val,
 *                 checkpoint, stop, error
 *   last.ckpt     full state (parameters, EMA, optimiser, data order, RNG, counters)
 *   best.ckpt     the same at the best validation (match rate, else loss)
 *
 * Determinism: all randomness of a run comes from `seed`: parameter init, data order (its own Rng,
 * restored from the checkpoint) and the training noise (another Rng whose state is checkpointed).
 * Validation uses fresh fixed-seed generators, so it never perturbs training. Checkpoints are taken
 * between optimiser steps; resuming therefore replays exactly the steps that follow.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import type { LatticeStats, PreparedSplit } from '../data/types.js';
import type { Kernels } from '../engine/kernels.js';
import { kernelsForPrecision } from '../engine/select.js';
import { makeNoisyCspBatch } from '../diffusion/loss.js';
import { makeNoisyDngBatch } from '../diffusion/dngLoss.js';
import { atomCountHistogram, type AtomCountHistogram } from '../sampling/atomCountPrior.js';
import { accumulateGradients } from './step.js';
import { writeFileAtomic } from '../util/atomic.js';
import { KldmError } from '../util/errors.js';
import { JsonlLog } from '../util/jsonl.js';
import { formatDuration } from '../util/progress.js';
import { Rng, type RngState } from '../util/rng.js';
import { BatchSource, EpochBatcher, type EpochBatcherState } from './batches.js';
import { latticeParameterisationOf, type TrainConfig, type ValidationConfig } from './config.js';
import { netConfigOfTraining, TrainableModel } from './model.js';
import { loadTensors, saveTensors, type NamedTensor } from './tensorFile.js';
import { validationGeneratedValidity, validationLoss, validationMatchRate, type CspPairScorer, type ValidationResult } from './validate.js';
import type { CSPVNetConfig } from '../network/config.js';
import type { WarmStart, WarmStartRecord } from './warmStart.js';
import { learningRateAt } from './lrSchedule.js';
import { cpuMs } from '../util/cpuTime.js';

export const CHECKPOINT_KIND = 'kldm-train-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** What a model was trained on: used to warn about compositions outside it (issue: prediction). */
export interface TrainingRange {
  /** atomic numbers present in the training split, ascending */
  elements: number[];
  minAtoms: number;
  maxAtoms: number;
  /** crystals per atom count in the training split: the DNG atom-count prior (spec §5.4); absent in older files */
  atomCounts?: AtomCountHistogram;
}

export interface BestRecord {
  epoch: number;
  step: number;
  matchRate: number | null;
  loss: number;
}

/**
 * Whether a validation result replaces the best one so far (`validation.bestBy`): by match rate (ties by loss)
 * when both have one and the run picks by match, else by validation loss. A non-finite loss never wins.
 */
export function isBetterValidation(best: BestRecord | null, cand: { matchRate: number | null; loss: number }, bestBy: ValidationConfig['bestBy']): boolean {
  if (!Number.isFinite(cand.loss)) return false;
  if (best === null) return true;
  if (bestBy === 'match' && cand.matchRate !== null && best.matchRate !== null) {
    return cand.matchRate > best.matchRate || (cand.matchRate === best.matchRate && cand.loss < best.loss);
  }
  return cand.loss < best.loss;
}

/** JSON metadata of a training checkpoint. */
export interface CheckpointMeta {
  kind: typeof CHECKPOINT_KIND;
  version: number;
  dataset: string;
  seed: number;
  config: TrainConfig;
  netConfig: CSPVNetConfig;
  latticeStats: LatticeStats;
  trainingRange: TrainingRange;
  /** optimiser steps done */
  step: number;
  batcher: EpochBatcherState;
  noiseRng: RngState;
  emaUpdates: number;
  /** epochs completed whose validation has run (0 = none) */
  lastValidatedEpoch: number;
  best: BestRecord | null;
  lastValidation: (ValidationResult & { epoch: number; step: number }) | null;
  /**
   * mean training loss of the last completed epoch (null before the first); over all the epoch's steps
   * when the checkpoint has `epochRunning`, else (older checkpoints) over the steps of the sitting that finished it;
   * lossH (type loss) for DNG runs
   */
  lastEpochLoss: { epoch: number; step: number; loss: number; lossV: number; lossL: number; lossH?: number } | null;
  /** loss sums and step count of the current epoch so far, so a resumed run reports the same epoch mean (absent in older checkpoints) */
  epochRunning?: { loss: number; lossV: number; lossL: number; lossH?: number; steps: number };
  /** epochs fully done (batcher.epoch, plus 1 when the current epoch has no batches left) */
  epochsCompleted: number;
  /** cumulative wall-clock seconds spent in this run across sittings */
  trainSeconds: number;
  /** CPU cores of the machine that wrote this checkpoint */
  cpuCores: number;
  /**
   * Process CPU time (user + system, all threads) spent in this run, summed over sittings, measured from step
   * `fromStep` (0 for runs started since it is recorded; the step of the first resume for older runs). Absent in
   * older checkpoints. Unlike wall clock × cores it stays right when the run shared the machine or used one thread.
   */
  cpu?: CpuRecord;
  savedAt: string;
  /** the run started from earlier weights (warmStart.ts); its epochs/steps/seconds are not in the counters above. Absent in older checkpoints. */
  initFrom?: WarmStartRecord | null;
}

/** Measured CPU time of a run (CheckpointMeta.cpu). */
export interface CpuRecord {
  seconds: number;
  fromStep: number;
}

export type StopReason = 'max-epochs' | 'max-steps' | 'time-budget' | 'aborted';

export interface TrainOptions {
  dataset: string;
  config: TrainConfig;
  runDir: string;
  seed?: number;
  /** continue from runDir/last.ckpt (error if it does not exist) */
  resume?: boolean;
  /** a new run starts from these weights instead of a fresh initialisation (not with resume) */
  warmStart?: WarmStart;
  /** stop cleanly (with a checkpoint) before this many seconds of this sitting have passed */
  timeBudgetSeconds?: number;
  /** stop after this many optimiser steps in total (tests, smoke runs) */
  maxSteps?: number;
  train: PreparedSplit;
  val?: PreparedSplit;
  stats: LatticeStats;
  /** CSP evaluator for the validation match rate; without it only the loss is validated */
  scorer?: CspPairScorer;
  signal?: AbortSignal;
  /** status line stream (default stderr); null = silent */
  statusStream?: NodeJS.WritableStream | null;
  /** write a `train` log record every this many steps (default 20) */
  logEvery?: number;
  kernels?: Kernels;
}

export interface TrainSummary {
  stopReason: StopReason;
  epoch: number;
  step: number;
  lastCheckpoint: string;
  bestCheckpoint: string | null;
  best: BestRecord | null;
  lastValidation: CheckpointMeta['lastValidation'];
  seconds: number;
  meanStepSeconds: number;
}

export function checkpointPaths(runDir: string): { last: string; best: string; log: string; config: string } {
  return { last: join(runDir, 'last.ckpt'), best: join(runDir, 'best.ckpt'), log: join(runDir, 'log.jsonl'), config: join(runDir, 'config.json') };
}

export function trainingRangeOf(split: PreparedSplit): TrainingRange {
  const seen = new Set<number>();
  for (let i = 0; i < split.atomTypes.length; i++) seen.add(split.atomTypes[i]!);
  let minAtoms = Infinity;
  let maxAtoms = 0;
  for (let k = 0; k < split.materialIds.length; k++) {
    const n = split.atomOffsets[k + 1]! - split.atomOffsets[k]!;
    minAtoms = Math.min(minAtoms, n);
    maxAtoms = Math.max(maxAtoms, n);
  }
  return { elements: [...seen].sort((a, b) => a - b), minAtoms, maxAtoms, atomCounts: atomCountHistogram(split) };
}

/** Reads a training checkpoint and checks its kind/version. */
export function readCheckpoint(path: string): { meta: CheckpointMeta; tensors: Map<string, NamedTensor> } {
  const { tensors, metadata } = loadTensors(path);
  const meta = metadata as CheckpointMeta;
  if (meta?.kind !== CHECKPOINT_KIND) throw new KldmError(`${path}: not a kldm training checkpoint`);
  if (meta.version !== CHECKPOINT_VERSION) throw new KldmError(`${path}: checkpoint version ${meta.version}, this kldm reads ${CHECKPOINT_VERSION}`);
  return { meta, tensors };
}

function gradsFinite(model: TrainableModel): string | null {
  for (const t of model.params.tensors) {
    if (!t.trainable) continue;
    const g = t.grad;
    for (let i = 0; i < g.length; i++) if (!Number.isFinite(g[i]!)) return t.name;
  }
  return null;
}

/** One-line status on the terminal (rewritten in place on a TTY, a plain line every 30 s otherwise). */
class StatusLine {
  private last = 0;
  constructor(private readonly stream: NodeJS.WritableStream | null) {}
  private get tty(): boolean {
    return Boolean((this.stream as NodeJS.WriteStream | null)?.isTTY);
  }
  update(text: string, force = false): void {
    if (!this.stream) return;
    const now = Date.now();
    if (!force && now - this.last < (this.tty ? 500 : 30_000)) return;
    this.last = now;
    this.stream.write(this.tty ? `\r\x1b[K${text}` : `${text}\n`);
  }
  message(text: string): void {
    if (!this.stream) return;
    this.stream.write(this.tty ? `\r\x1b[K${text}\n` : `${text}\n`);
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Trains (or resumes) a run; resolves when it stops for one of the StopReasons. */
export async function train(opts: TrainOptions): Promise<TrainSummary> {
  const { config, runDir } = opts;
  const paths = checkpointPaths(runDir);
  mkdirSync(runDir, { recursive: true });
  const log = new JsonlLog(paths.log);
  const status = new StatusLine(opts.statusStream === undefined ? process.stderr : opts.statusStream);
  const logEvery = opts.logEvery ?? 20;
  // the progress line shows the learning rate when it is not the spec's constant one (lrSchedule.ts)
  const scheduled = config.optim.warmupSteps > 0 || config.optim.decaySteps > 0;
  const source = new BatchSource(opts.train, opts.stats);
  if (source.numCrystals === 0) throw new KldmError(`${opts.dataset}: the training split is empty`);
  const valSource = opts.val ? new BatchSource(opts.val, opts.stats) : null;
  const netConfig = netConfigOfTraining(config);
  // DNG (spec §5-6): the types are diffused too and the loss averages three modalities
  const dngTypes = config.task === 'dng' ? config.types : null;
  // lattice head target and score (spec §4): loss and validation sampling use the same one
  const lattice = config.lattice.parameterisation;
  const objective = { latticeParameterisation: lattice };

  let seed = opts.seed ?? 42;
  let model: TrainableModel;
  let batcher: EpochBatcher;
  let noiseRng: Rng;
  let step = 0;
  let lastValidatedEpoch = 0;
  let best: BestRecord | null = null;
  let lastValidation: CheckpointMeta['lastValidation'] = null;
  let lastEpochLoss: CheckpointMeta['lastEpochLoss'] = null;
  let resumedRunning: CheckpointMeta['epochRunning'] | null = null;
  let priorSeconds = 0;
  let priorCpu: CpuRecord = { seconds: 0, fromStep: 0 };
  let initFrom: WarmStartRecord | null = null;

  if (opts.resume && opts.warmStart) throw new KldmError('--init-from starts a new run; it cannot be combined with --resume');
  // engine.precision (docs/engine.md "Precision"); tests pass their own kernels
  const kernels = opts.kernels ?? kernelsForPrecision(config.engine.precision);
  if (opts.resume) {
    if (!existsSync(paths.last)) throw new KldmError(`--resume: no checkpoint at ${paths.last}`);
    const { meta, tensors } = readCheckpoint(paths.last);
    if (meta.dataset !== opts.dataset) throw new KldmError(`--resume: ${paths.last} was trained on ${meta.dataset}, not ${opts.dataset}`);
    if (JSON.stringify(meta.netConfig) !== JSON.stringify(netConfig)) {
      throw new KldmError(`--resume: the config's network (${JSON.stringify(netConfig)}) differs from the checkpoint's (${JSON.stringify(meta.netConfig)})`);
    }
    if (meta.config.optim.batchSize !== config.optim.batchSize) throw new KldmError('--resume: optim.batchSize differs from the checkpoint (the data order would change)');
    const saved = latticeParameterisationOf(meta.config, paths.last);
    if (saved !== lattice) {
      throw new KldmError(`--resume: lattice.parameterisation is ${lattice}, the checkpoint was trained with ${saved} (spec §4: the lattice head would change meaning mid-run); start a new run (--init-from) instead`);
    }
    seed = meta.seed;
    // initial values are overwritten by the checkpoint's tensors
    model = TrainableModel.fresh(netConfig, config.optim, config.schedule.emaDecay, new Rng(0), kernels);
    model.loadStateTensors(tensors, meta.step, meta.emaUpdates, paths.last);
    batcher = new EpochBatcher(source, config.optim.batchSize, meta.batcher);
    noiseRng = new Rng(meta.noiseRng);
    step = meta.step;
    lastValidatedEpoch = meta.lastValidatedEpoch;
    best = meta.best;
    lastValidation = meta.lastValidation;
    lastEpochLoss = meta.lastEpochLoss ?? null;
    resumedRunning = meta.epochRunning ?? null;
    priorSeconds = meta.trainSeconds;
    // a checkpoint from before CPU time was recorded: measure from here on, and say so
    priorCpu = meta.cpu ?? { seconds: 0, fromStep: meta.step };
    initFrom = meta.initFrom ?? null;
  } else {
    if (existsSync(paths.last)) throw new KldmError(`${runDir} already holds a run (last.ckpt); use --resume to continue it or choose another --run-dir`);
    const master = new Rng(seed);
    const initRng = master.fork();
    const dataSeed = master.nextUint32();
    noiseRng = master.fork();
    model = TrainableModel.fresh(netConfig, config.optim, config.schedule.emaDecay, initRng, kernels);
    batcher = new EpochBatcher(source, config.optim.batchSize, dataSeed);
    if (opts.warmStart) {
      initFrom = opts.warmStart.record;
      const fresh = new Set(initFrom.freshTensors ?? []);
      for (const t of model.params.tensors) {
        if (fresh.has(t.name)) continue; // not in the source (CSP → DNG): spec §2.5 initialisation
        const w = opts.warmStart.weights.get(t.name);
        if (!w || w.length !== t.data.length) throw new KldmError(`--init-from ${initFrom.source}: no weights of the right size for ${t.name}`);
        t.data.set(w);
      }
      // The EMA continues from the initial weights when the earlier training already had one
      // running (epochs past emaStartEpoch); otherwise it starts as usual (see emaActive below).
      if (initFrom.epochs > config.schedule.emaStartEpoch) model.ema.update();
    }
  }
  // Epochs of earlier training count towards the EMA start (spec §8, §13.4: epochs, 0-based counter).
  const epochOffset = initFrom?.epochs ?? 0;
  const emaActive = (): boolean => epochOffset + batcher.epoch > config.schedule.emaStartEpoch;

  writeFileAtomic(paths.config, JSON.stringify({ dataset: opts.dataset, seed, config, netConfig, trainCrystals: source.numCrystals }, null, 2) + '\n');
  const kernelsName = model.net.kernels.name;
  log.write({
    type: 'start', resumed: Boolean(opts.resume), dataset: opts.dataset, seed, config: config.name, step, epoch: batcher.epoch,
    numParams: model.params.numTrainable(), kernels: kernelsName, batchesPerEpoch: batcher.batchesPerEpoch, latticeParameterisation: lattice,
    ...(initFrom ? { initFrom } : {}),
  });
  status.message(
    `kldm train: ${opts.dataset}, config ${config.name}, ${model.params.numTrainable().toLocaleString('en-US')} parameters, ` +
      `${source.numCrystals} crystals (${batcher.batchesPerEpoch} batches/epoch), engine ${kernelsName}` +
      (lattice === 'eps' ? ', lattice parameterisation eps (KLDM-ε, spec §4)' : '') +
      (opts.resume ? `, resumed at epoch ${batcher.epoch} step ${step}` : '') +
      (initFrom && !opts.resume ? `, weights from ${initFrom.source} (${initFrom.epochs} epochs; optimiser state starts fresh)` : ''),
  );

  const trainingRange = trainingRangeOf(opts.train);
  const sittingStart = Date.now();
  const elapsed = (): number => (Date.now() - sittingStart) / 1000;
  const sittingCpuStart = cpuMs();
  const cpuElapsed = (): number => (cpuMs() - sittingCpuStart) / 1000;
  let lastCheckpointTime = Date.now();
  let bestCheckpoint: string | null = existsSync(paths.best) ? paths.best : null;

  const meta = (): CheckpointMeta => ({
    kind: CHECKPOINT_KIND, version: CHECKPOINT_VERSION, dataset: opts.dataset, seed, config, netConfig,
    latticeStats: opts.stats, trainingRange, step, batcher: batcher.snapshot(), noiseRng: noiseRng.state(),
    emaUpdates: model.ema.numUpdates, lastValidatedEpoch, best, lastValidation, lastEpochLoss,
    epochRunning: { loss: epLoss, lossV: epV, lossL: epL, ...(dngTypes ? { lossH: epH } : {}), steps: epSteps },
    epochsCompleted: batcher.epoch + (batcher.epochDone ? 1 : 0), trainSeconds: priorSeconds + elapsed(), cpuCores: availableParallelism(),
    cpu: { seconds: priorCpu.seconds + cpuElapsed(), fromStep: priorCpu.fromStep }, savedAt: new Date().toISOString(),
    initFrom,
  });
  const saveCheckpoint = (path: string): void => {
    saveTensors(path, model.stateTensors(), meta());
    log.write({ type: 'checkpoint', path, step, epoch: batcher.epoch });
  };

  // Running means for the status line and the log.
  let winLoss = 0, winV = 0, winL = 0, winH = 0, winSteps = 0;
  // the running sums continue across sittings (found by the kill drill: a resumed epoch's mean covered only its last sitting)
  let epLoss = 0, epV = 0, epL = 0, epH = 0, epSteps = 0;
  if (resumedRunning) ({ loss: epLoss, lossV: epV, lossL: epL, lossH: epH = 0, steps: epSteps } = resumedRunning);
  let stepSecondsSum = 0, stepsThisSitting = 0;
  let lastValSeconds = 0;
  let stopReason: StopReason | null = null;
  const maxEpochs = config.schedule.maxEpochs;

  const eta = (): string => {
    const perStep = stepsThisSitting > 0 ? stepSecondsSum / stepsThisSitting : NaN;
    const candidates: number[] = [];
    if (opts.timeBudgetSeconds !== undefined) candidates.push(opts.timeBudgetSeconds - elapsed());
    if (maxEpochs >= 0) candidates.push((maxEpochs * batcher.batchesPerEpoch - step) * perStep);
    if (opts.maxSteps !== undefined) candidates.push((opts.maxSteps - step) * perStep);
    return candidates.length ? formatDuration(Math.max(0, Math.min(...candidates))) : '-';
  };

  const runValidation = (epochsDone: number): void => {
    if (!valSource) return;
    const t0 = Date.now();
    status.message(`validating after epoch ${epochsDone} ...`);
    const { net, usesEma } = model.evaluationNet();
    const vl = validationLoss(net, valSource, config.validation.lossSubset, config.optim.batchSize, seed + 1_000_003, dngTypes, lattice);
    let matchRate: number | null = null;
    let rmse: number | null = null;
    let matchCrystals = 0;
    let generated: { structValidity: number; compValidity: number; generated: number } | null = null;
    if (dngTypes && config.validation.matchSubset > 0) {
      const prior = { kind: 'empirical' as const, histogram: trainingRange.atomCounts! };
      generated = validationGeneratedValidity(net, opts.stats, prior, config.validation, dngTypes, config.validation.matchSubset, seed + 2_000_003, lattice);
    } else if (opts.scorer && config.validation.matchSubset > 0) {
      const mr = validationMatchRate(net, valSource, opts.stats, config.validation, opts.scorer, seed + 2_000_003, lattice);
      matchRate = mr.matchRate;
      rmse = mr.rmse;
      matchCrystals = mr.crystals;
    }
    const seconds = (Date.now() - t0) / 1000;
    lastValSeconds = seconds;
    const result: ValidationResult = {
      loss: vl.loss, lossV: vl.lossV, lossL: vl.lossL, lossCrystals: vl.crystals, matchRate, rmse, matchCrystals, seconds,
      ...(vl.lossH !== undefined ? { lossH: vl.lossH } : {}),
      ...(generated ?? {}),
    };
    lastValidation = { ...result, epoch: epochsDone, step };
    log.write({ type: 'val', epoch: epochsDone, step, ema: usesEma, ...result });
    status.message(
      `val epoch ${epochsDone}: loss ${vl.loss.toFixed(4)} (v ${vl.lossV.toFixed(4)}, l ${vl.lossL.toFixed(4)}${vl.lossH !== undefined ? `, h ${vl.lossH.toFixed(4)}` : ''})` +
        (generated ? `, generated ${generated.generated}: structural validity ${(100 * generated.structValidity).toFixed(1)}%, composition ${(100 * generated.compValidity).toFixed(1)}%` : '') +
        (matchRate !== null ? `, match rate ${(100 * matchRate).toFixed(1)}% of ${matchCrystals}` + (rmse !== null ? `, rmse ${rmse.toFixed(4)}` : '') : '') +
        `${usesEma ? ' [EMA]' : ''} (${formatDuration(seconds)})`,
    );
    lastValidatedEpoch = epochsDone;
    if (isBetterValidation(best, { matchRate, loss: vl.loss }, config.validation.bestBy)) {
      best = { epoch: epochsDone, step, matchRate, loss: vl.loss };
      saveCheckpoint(paths.best);
      bestCheckpoint = paths.best;
    }
  };

  const fail = (what: string): never => {
    const last = existsSync(paths.last) ? `${paths.last} (${readCheckpoint(paths.last).meta.step} steps)` : 'none yet';
    const message = `${what} at epoch ${batcher.epoch} step ${step + 1}; training stopped. Last good checkpoint: ${last}. Try a lower optim.lr or check the data.`;
    log.write({ type: 'error', message, step, epoch: batcher.epoch });
    status.message(`error: ${message}`);
    throw new KldmError(message, { exitCode: 3 });
  };

  for (;;) {
    if (batcher.epochDone) {
      const epochsDone = batcher.epoch + 1;
      if (epSteps > 0) {
        lastEpochLoss = { epoch: epochsDone, step, loss: epLoss / epSteps, lossV: epV / epSteps, lossL: epL / epSteps, ...(dngTypes ? { lossH: epH / epSteps } : {}) };
        log.write({ type: 'epoch', ...lastEpochLoss, steps: epSteps });
        epLoss = epV = epL = epH = 0;
        epSteps = 0;
      }
      const every = config.validation.everyEpochs;
      if (every > 0 && epochsDone % every === 0 && lastValidatedEpoch < epochsDone && valSource) {
        if (opts.timeBudgetSeconds !== undefined && elapsed() + lastValSeconds * 1.1 > opts.timeBudgetSeconds) {
          stopReason = 'time-budget';
          break;
        }
        runValidation(epochsDone);
        saveCheckpoint(paths.last);
        lastCheckpointTime = Date.now();
      }
      if (maxEpochs >= 0 && epochsDone >= maxEpochs) {
        stopReason = 'max-epochs';
        break;
      }
      batcher.startNextEpoch();
      continue;
    }
    if (opts.maxSteps !== undefined && step >= opts.maxSteps) {
      stopReason = 'max-steps';
      break;
    }
    if (opts.signal?.aborted) {
      stopReason = 'aborted';
      break;
    }
    const meanStep = stepsThisSitting > 0 ? stepSecondsSum / stepsThisSitting : 0;
    if (opts.timeBudgetSeconds !== undefined && elapsed() + meanStep * 1.5 > opts.timeBudgetSeconds) {
      stopReason = 'time-budget';
      break;
    }

    const t0 = performance.now();
    const batch = batcher.next()!;
    const noisy = dngTypes ? makeNoisyDngBatch(batch, dngTypes, noiseRng, objective) : makeNoisyCspBatch(batch, noiseRng, objective);
    model.params.zeroGrad();
    const loss = accumulateGradients(model.net, noisy, config.optim.microBatch, (l) => {
      if (!Number.isFinite(l.total)) fail(`non-finite loss (${l.total}; velocity ${l.lossV}, lattice ${l.lossL}${l.lossH !== undefined ? `, types ${l.lossH}` : ''})`);
    }, dngTypes);
    const badGrad = gradsFinite(model);
    if (badGrad !== null) fail(`non-finite gradient in ${badGrad}`);
    // the spec's constant rate unless the config asks for a warm-up or a cosine decay (lrSchedule.ts)
    const lr = learningRateAt(step, config.optim);
    model.optimizer.step(lr);
    // EMA only once the epoch counter exceeds ema_start (spec §8, §13.4; 0-based epoch counter).
    if (emaActive()) model.ema.update();
    step++;
    const dt = (performance.now() - t0) / 1000;
    stepSecondsSum += dt;
    stepsThisSitting++;
    winLoss += loss.total; winV += loss.lossV; winL += loss.lossL; winH += loss.lossH ?? 0; winSteps++;
    epLoss += loss.total; epV += loss.lossV; epL += loss.lossL; epH += loss.lossH ?? 0; epSteps++;

    if (step % logEvery === 0) {
      log.write({
        type: 'train', epoch: batcher.epoch, step, lr, loss: winLoss / winSteps, lossV: winV / winSteps, lossL: winL / winSteps,
        ...(dngTypes ? { lossH: winH / winSteps } : {}), stepSeconds: stepSecondsSum / stepsThisSitting,
      });
    }
    const rate = stepsThisSitting / (stepSecondsSum || 1);
    status.update(
      `epoch ${batcher.epoch + 1} step ${step} (batch ${batcher.cursor}/${batcher.batchesPerEpoch}) ` +
        `loss ${(winLoss / winSteps).toFixed(4)} (v ${(winV / winSteps).toFixed(3)}, l ${(winL / winSteps).toFixed(3)}${dngTypes ? `, h ${(winH / winSteps).toFixed(3)}` : ''}) ` +
        `${scheduled ? `lr ${lr.toExponential(2)} ` : ''}${rate.toFixed(2)} steps/s ETA ${eta()}${model.ema.numUpdates > 0 ? ' EMA' : ''}`,
    );
    if (step % logEvery === 0) {
      winLoss = winV = winL = winH = 0;
      winSteps = 0;
    }
    if ((Date.now() - lastCheckpointTime) / 1000 >= config.checkpoint.everySeconds) {
      saveCheckpoint(paths.last);
      lastCheckpointTime = Date.now();
    }
    await yieldToEventLoop();
  }

  saveCheckpoint(paths.last);
  const seconds = elapsed();
  log.write({ type: 'stop', reason: stopReason, step, epoch: batcher.epoch, seconds });
  status.message(`stopped (${stopReason}) at epoch ${batcher.epoch + (batcher.epochDone ? 1 : 0)} step ${step} after ${formatDuration(seconds)}; checkpoint ${paths.last}`);
  return {
    stopReason: stopReason!,
    epoch: batcher.epoch,
    step,
    lastCheckpoint: paths.last,
    bestCheckpoint,
    best,
    lastValidation,
    seconds,
    meanStepSeconds: stepsThisSitting > 0 ? stepSecondsSum / stepsThisSitting : NaN,
  };
}
