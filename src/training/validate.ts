/**
 * Validation during training (spec §8, §13.14): the loss on a fixed subset of the validation split
 * with fixed noise (so successive values are comparable), and the CSP match rate of the EM sampler
 * on a small fixed subset (the first `matchSubset` validation crystals).
 */
import type { LatticeStats, PreparedSplit } from '../data/types.js';
import type { Structure } from '../crystal/types.js';
import type { ScoreNetwork } from '../network/types.js';
import { fromParameters } from '../crystal/lattice.js';
import { elementSymbol } from '../crystal/elements.js';
import { cspLoss, makeNoisyCspBatch } from '../diffusion/loss.js';
import { sampleCspSync } from '../sampling/sampler.js';
import { decodeSamplerResult } from '../sampling/decode.js';
import { Rng } from '../util/rng.js';
import { edgeBudgetBatchSize, type BatchSource } from './batches.js';
import type { ValidationConfig } from './config.js';
import { makeLayout } from '../network/types.js';
import { dngLoss, makeNoisyDngBatch } from '../diffusion/dngLoss.js';
import type { TypeDiffusionSpec } from '../diffusion/typeDiffusion.js';
import type { VpParameterisation } from '../diffusion/latticeVp.js';
import { drawAtomCounts, type AtomCountPrior } from '../sampling/atomCountPrior.js';
import { compositionValidity, structuralValidity } from '../eval/validity.js';

/** Compares one prediction with its ground truth (CSP evaluator: validity + StructureMatcher, spec §9). */
export type CspPairScorer = (pred: Structure, gt: Structure) => { match: boolean; rms: number | null };

export interface ValidationResult {
  loss: number;
  lossV: number;
  lossL: number;
  lossCrystals: number;
  /** fraction of the match subset matched (null when not computed) */
  matchRate: number | null;
  /** mean RMS over matched crystals (null when none matched or not computed) */
  rmse: number | null;
  matchCrystals: number;
  seconds: number;
  /** DNG: type loss (spec §5) */
  lossH?: number;
  /** DNG: fraction of the generated batch that is structurally valid (distances ≥ 0.5 Å, volume ≥ 0.1 Å³) */
  structValidity?: number;
  /** DNG: fraction of the generated batch with a SMACT-valid composition (DiffCSP, spec §10.1) */
  compValidity?: number;
  /** DNG: structures generated for the two validity figures */
  generated?: number;
}

/** The structure of crystal k of a prepared split (lattice in pymatgen orientation, spec §1.2). */
export function structureOfSplit(split: PreparedSplit, k: number): Structure {
  const L = split.lengths;
  const A = split.angles;
  const lattice = fromParameters({ a: L[3 * k]!, b: L[3 * k + 1]!, c: L[3 * k + 2]!, alpha: A[3 * k]!, beta: A[3 * k + 1]!, gamma: A[3 * k + 2]! });
  const start = split.atomOffsets[k]!;
  const end = split.atomOffsets[k + 1]!;
  const species: string[] = [];
  for (let i = start; i < end; i++) species.push(elementSymbol(split.atomTypes[i]!, `${split.materialIds[k]} atom ${i - start}`));
  return { lattice, species, frac: Float64Array.from(split.frac.subarray(start * 3, end * 3)) };
}

/**
 * Mean joint loss (spec §6) over the first `limit` crystals, with noise drawn from `seed`; with
 * `types` the DNG objective (three modalities) and its type loss; `lattice` is the model's lattice
 * parameterisation (spec §4: the lattice loss compares the head with l_0 or with ε).
 */
export function validationLoss(
  net: ScoreNetwork,
  source: BatchSource,
  limit: number,
  batchSize: number,
  seed: number,
  types: TypeDiffusionSpec | null = null,
  lattice: VpParameterisation = 'x0',
): { loss: number; lossV: number; lossL: number; lossH?: number; crystals: number } {
  const rng = new Rng(seed);
  let sum = 0;
  let sumV = 0;
  let sumL = 0;
  let sumH = 0;
  let crystals = 0;
  for (const batch of source.fixedBatches(limit, batchSize)) {
    let l: { total: number; lossV: number; lossL: number; lossH?: number };
    if (types) {
      const noisy = makeNoisyDngBatch(batch, types, rng, { latticeParameterisation: lattice });
      l = dngLoss(types, net.predict(noisy.input), noisy);
    } else {
      const noisy = makeNoisyCspBatch(batch, rng, { latticeParameterisation: lattice });
      l = cspLoss(net.predict(noisy.input), noisy);
    }
    const G = batch.layout.numCrystals;
    sum += l.total * G;
    sumV += l.lossV * G;
    sumL += l.lossL * G;
    sumH += (l.lossH ?? 0) * G;
    crystals += G;
  }
  if (crystals === 0) return { loss: NaN, lossV: NaN, lossL: NaN, ...(types ? { lossH: NaN } : {}), crystals };
  return { loss: sum / crystals, lossV: sumV / crystals, lossL: sumL / crystals, ...(types ? { lossH: sumH / crystals } : {}), crystals };
}

/**
 * DNG validation sampling: generates `count` crystals (atom counts from `prior`, spec §5.4) with
 * the validation sampler and scores structural and SMACT composition validity (spec §10.1).
 */
export function validationGeneratedValidity(
  net: ScoreNetwork,
  stats: LatticeStats,
  prior: AtomCountPrior,
  cfg: ValidationConfig,
  types: TypeDiffusionSpec,
  count: number,
  seed: number,
  lattice: VpParameterisation = 'x0',
): { structValidity: number; compValidity: number; generated: number } {
  const rng = new Rng(seed);
  const counts = drawAtomCounts(prior, count, rng);
  const batchSize = edgeBudgetBatchSize(counts, net.config?.hidden);
  let structOk = 0;
  let compOk = 0;
  for (let start = 0; start < count; start += batchSize) {
    const layout = makeLayout(counts.subarray(start, Math.min(count, start + batchSize)));
    const result = sampleCspSync(
      net,
      { layout, types: new Int32Array(layout.numAtoms), typeDiffusion: { kind: types.kind, maskSchedule: types.maskSchedule } },
      rng,
      { method: cfg.sampler, nSteps: cfg.samplerSteps, tFinal: cfg.finalTime, latticeParameterisation: lattice },
    );
    for (const d of decodeSamplerResult(result, stats)) {
      if (d.finite && structuralValidity(d.structure, null).valid) structOk++;
      if (compositionValidity(d.structure.species).valid) compOk++;
    }
  }
  return { structValidity: count > 0 ? structOk / count : 0, compValidity: count > 0 ? compOk / count : 0, generated: count };
}

/** Samples the first `matchSubset` crystals' compositions (batches of ~20,480 edges at H = 128, edgeBudgetBatchSize) and scores them against the ground truth. */
export function validationMatchRate(
  net: ScoreNetwork,
  source: BatchSource,
  stats: LatticeStats,
  cfg: ValidationConfig,
  scorer: CspPairScorer,
  seed: number,
  lattice: VpParameterisation = 'x0',
): { matchRate: number; rmse: number | null; crystals: number } {
  const rng = new Rng(seed);
  let matched = 0;
  let rmsSum = 0;
  let crystals = 0;
  const n = Math.min(cfg.matchSubset, source.numCrystals);
  const counts: number[] = [];
  for (let k = 0; k < n; k++) counts.push(source.atomCount(k));
  for (const batch of source.fixedBatches(n, edgeBudgetBatchSize(counts, net.config?.hidden))) {
    const result = sampleCspSync(net, { layout: batch.layout, types: batch.types }, rng, {
      method: cfg.sampler,
      nSteps: cfg.samplerSteps,
      tFinal: cfg.finalTime,
      latticeParameterisation: lattice,
    });
    const decoded = decodeSamplerResult(result, stats);
    for (let g = 0; g < decoded.length; g++) {
      crystals++;
      const d = decoded[g]!;
      if (!d.finite) continue;
      const score = scorer(d.structure, structureOfSplit(source.split, batch.crystals[g]!));
      if (score.match) {
        matched++;
        rmsSum += score.rms ?? 0;
      }
    }
  }
  return { matchRate: crystals > 0 ? matched / crystals : 0, rmse: matched > 0 ? rmsSum / matched : null, crystals };
}
