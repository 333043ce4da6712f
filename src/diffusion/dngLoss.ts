/**
 * Joint DNG training objective (spec §6): the CSP noisy state (§3.4 positions/velocities, §4
 * lattice) plus noisy types (§5), one network call, and the average over the three modalities
 *
 *   L = (L_v + L_l + w_h·L_h) / 3,   w_v = w_l = 1, w_h = types.lossWeight (spec: 1).
 *
 * The type noise is drawn after the CSP noise of the same step (drawCspNoise's order, then the
 * types), so a resumed run replays the same numbers.
 */
import type { NetOutput } from '../network/types.js';
import { cspLoss, drawCspNoise, noisyCspBatchFrom, type CleanCspBatch, type CspObjectiveOptions, type NoisyCspBatch } from './loss.js';
import { noisyTypesFrom, typeLoss, type NoisyTypes, type TypeDiffusionSpec } from './typeDiffusion.js';
import { DEFAULT_VP_SCHEDULE } from './latticeVp.js';

/** A noisy DNG batch: the CSP part with the network's type input replaced by the noisy types. */
export interface NoisyDngBatch extends NoisyCspBatch {
  noisyTypes: NoisyTypes;
}

export interface DngLoss {
  /** (L_v + L_l + w_h·L_h) / 3; lossH below is the unweighted L_h */
  total: number;
  lossV: number;
  lossL: number;
  lossH: number;
  grad: NetOutput;
}

/** Draws t, the CSP noise and the type noise from `rng` and builds the noisy DNG batch. */
export function makeNoisyDngBatch(
  batch: CleanCspBatch,
  spec: TypeDiffusionSpec,
  rng: { uniform(): number; normal(): number },
  options: CspObjectiveOptions = {},
): NoisyDngBatch {
  const noise = drawCspNoise(batch.layout, rng);
  const csp = noisyCspBatchFrom(batch, noise, options);
  const noisyTypes = noisyTypesFrom(spec, batch.layout, batch.types, noise.t, rng, options.latticeSchedule ?? DEFAULT_VP_SCHEDULE);
  const input = { ...csp.input };
  if (noisyTypes.noisyIds) input.types = noisyTypes.noisyIds;
  if (noisyTypes.features) input.typeFeatures = noisyTypes.features;
  return { ...csp, input, noisyTypes };
}

/** The joint loss of §6 over three modalities and its gradient w.r.t. the three heads. */
export function dngLoss(spec: TypeDiffusionSpec, output: NetOutput, noisy: NoisyDngBatch): DngLoss {
  if (!output.h) throw new Error('dngLoss: the network has no type head (pred_h); it is not a DNG network');
  const csp = cspLoss(output, noisy);
  const h = typeLoss(spec, output.h, noisy.noisyTypes);
  const numModalities = 3;
  // cspLoss's gradients are for the 2-modality average: rescale them to 1/3 of each loss's gradient
  const f = 2 / numModalities;
  for (let j = 0; j < csp.grad.v.length; j++) csp.grad.v[j]! *= f;
  for (let j = 0; j < csp.grad.l.length; j++) csp.grad.l[j]! *= f;
  const wh = spec.lossWeight ?? 1; // spec §6: w_h = 1 (types.lossWeight deviates on purpose, see TypeDiffusionSpec)
  for (let j = 0; j < h.grad.length; j++) h.grad[j]! *= wh / numModalities;
  return {
    total: (csp.lossV + csp.lossL + wh * h.loss) / numModalities,
    lossV: csp.lossV,
    lossL: csp.lossL,
    lossH: h.loss,
    grad: { v: csp.grad.v, l: csp.grad.l, h: h.grad },
  };
}
