/**
 * Joint CSP training objective (spec §6): one shared time per crystal, one
 * network call on the noisy state (p_t, v_t, types, l_t, t), and the average of
 * the TDM velocity loss (§3.4) and the lattice VP-SDE loss (§4):
 *
 *   t_g = 1 − 0.999·u,  u ~ U[0,1)          (t ∈ (0.001, 1])
 *   L_v = mean over N atoms × 3 of (o_v − y_v)²
 *   L_l = mean over G crystals × 6 of (o_l − y_l)²
 *   L   = (w_v·L_v + w_l·L_l) / 2,  w_v = w_l = 1
 *
 * The gradient of L with respect to the two heads' outputs is returned as a
 * NetOutput so that the network's backward pass can start from it.
 */
import type { BatchLayout, NetInput, NetOutput } from '../network/types.js';
import { drawTdmNoise, tdmForward, type TdmNoise, type TdmParameterisation } from './tdm.js';
import { vpForward, vpTarget, type VpParameterisation, type VpSchedule, DEFAULT_VP_SCHEDULE } from './latticeVp.js';

/** A clean CSP batch (data side of one training step). */
export interface CleanCspBatch {
  layout: BatchLayout;
  /** data fractional coordinates, N*3 (any range; wrapped by the TDM) */
  frac: ArrayLike<number>;
  /** atomic numbers, N */
  types: Int32Array;
  /** clean lattice features l_0 (spec §1.4), G*6 */
  lattice: ArrayLike<number>;
}

export interface CspObjectiveOptions {
  /** TDM parameterisation (§3.4), default 'simplified' */
  tdmParameterisation?: TdmParameterisation;
  /** lattice parameterisation (§4), default 'x0' */
  latticeParameterisation?: VpParameterisation;
  latticeSchedule?: VpSchedule;
}

/** The noisy network input and the regression targets of one training step. */
export interface NoisyCspBatch {
  input: NetInput;
  /** velocity-head target y_v, N*3 */
  targetV: Float32Array;
  /** lattice-head target y_l (l_0 for x0, ε for eps), G*6 */
  targetL: Float32Array;
}

/** Explicit randomness of one training step (for tests and reproducibility). */
export interface CspNoise {
  /** network time per crystal, length G */
  t: ArrayLike<number>;
  tdm: TdmNoise;
  /** lattice noise ε, G*6 */
  epsL: ArrayLike<number>;
}

/** Lower end of the training time interval (spec §3.4, §6). */
export const T_MIN = 0.001;

/**
 * Draw the randomness of one step from `rng`, in a fixed order (t for every
 * crystal, then ε_u, ε_r, then ε_l), so a resumed run draws the same numbers.
 */
export function drawCspNoise(layout: BatchLayout, rng: { uniform(): number; normal(): number }): CspNoise {
  const G = layout.numCrystals;
  const t = new Float64Array(G);
  for (let g = 0; g < G; g++) t[g] = 1 - (1 - T_MIN) * rng.uniform(); // (0.001, 1], spec §6
  const tdm = drawTdmNoise(layout, rng);
  const epsL = new Float64Array(G * 6);
  for (let j = 0; j < epsL.length; j++) epsL[j] = rng.normal();
  return { t, tdm, epsL };
}

/** Build the noisy input and targets from explicit noise (spec §3.4 + §4 + §6). */
export function noisyCspBatchFrom(batch: CleanCspBatch, noise: CspNoise, options: CspObjectiveOptions = {}): NoisyCspBatch {
  const { layout } = batch;
  const G = layout.numCrystals;
  if (batch.lattice.length !== G * 6) throw new Error(`noisyCspBatch: lattice must have ${G * 6} entries`);
  if (batch.types.length !== layout.numAtoms) throw new Error(`noisyCspBatch: types must have ${layout.numAtoms} entries`);
  const tdm = tdmForward(batch.frac, noise.t, layout, noise.tdm, options.tdmParameterisation ?? 'simplified');
  const lt = vpForward(batch.lattice, noise.epsL, noise.t, 6, options.latticeSchedule ?? DEFAULT_VP_SCHEDULE);
  const param = options.latticeParameterisation ?? 'x0';
  return {
    input: {
      layout,
      t: Float32Array.from(noise.t),
      pos: tdm.pos,
      vel: tdm.vel,
      types: batch.types,
      lattice: Float32Array.from(lt),
    },
    targetV: tdm.target,
    targetL: Float32Array.from(vpTarget(batch.lattice, noise.epsL, param)),
  };
}

/** Draw t and the noises from `rng` and build the noisy batch (one training step's data side). */
export function makeNoisyCspBatch(
  batch: CleanCspBatch,
  rng: { uniform(): number; normal(): number },
  options: CspObjectiveOptions = {},
): NoisyCspBatch {
  return noisyCspBatchFrom(batch, drawCspNoise(batch.layout, rng), options);
}

/** Loss value, its parts, and dL/d(outputs). */
export interface CspLoss {
  /** (L_v + L_l) / 2 */
  total: number;
  lossV: number;
  lossL: number;
  /** dL/do_v (N*3) and dL/do_l (G*6) */
  grad: NetOutput;
}

/**
 * Joint CSP loss and its gradient w.r.t. the heads' outputs (spec §6):
 *   ∂L/∂o_v = (o_v − y_v) / (3N),  ∂L/∂o_l = (o_l − y_l) / (6G)
 * (the ½ of the modality average cancels the 2 of the square).
 */
export function cspLoss(output: NetOutput, noisy: NoisyCspBatch): CspLoss {
  const nv = noisy.targetV.length;
  const nl = noisy.targetL.length;
  if (output.v.length !== nv || output.l.length !== nl) {
    throw new Error(`cspLoss: output sizes (${output.v.length}, ${output.l.length}) != targets (${nv}, ${nl})`);
  }
  const numModalities = 2;
  const gv = new Float32Array(nv);
  const gl = new Float32Array(nl);
  let sv = 0;
  for (let j = 0; j < nv; j++) {
    const d = output.v[j]! - noisy.targetV[j]!;
    sv += d * d;
    gv[j] = (2 * d) / (numModalities * nv);
  }
  let sl = 0;
  for (let j = 0; j < nl; j++) {
    const d = output.l[j]! - noisy.targetL[j]!;
    sl += d * d;
    gl[j] = (2 * d) / (numModalities * nl);
  }
  const lossV = nv > 0 ? sv / nv : 0;
  const lossL = nl > 0 ? sl / nl : 0;
  return { total: (lossV + lossL) / numModalities, lossV, lossL, grad: { v: gv, l: gl } };
}
