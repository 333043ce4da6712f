/**
 * The three atom-type diffusions of de-novo generation as one interface (spec §5, §13.11-13.12):
 *
 *   'onehot'  (C)    VP-SDE on one-hot vectors, K = 100, x0 parameterisation (§5.1)
 *   'bits'    (C-AB) VP-SDE on ±1 analog bits, n_bits = 7, x0 parameterisation (§5.2)
 *   'masking' (D)    discrete masking diffusion, mask id 100 (§5.3)
 *
 * This file holds the training side (forward noising, the type loss and its gradient) and the
 * network shape each variant needs (§2.4). The reverse process lives in src/sampling/typeSampler.ts.
 */
import { NUM_TYPE_CLASSES, maskTypes, maskingLoss, type MaskSchedule } from './masking.js';
import { analogBitsEncode, numAnalogBits, oneHotTypes } from './continuousTypes.js';
import { vpForward, DEFAULT_VP_SCHEDULE, type VpSchedule } from './latticeVp.js';
import type { BatchLayout } from '../network/types.js';
import type { CSPVNetConfig } from '../network/config.js';

export type TypeDiffusionKind = 'masking' | 'onehot' | 'bits';
export const TYPE_DIFFUSION_KINDS: readonly TypeDiffusionKind[] = ['masking', 'onehot', 'bits'];

/** A model's type-diffusion settings (stored in its training config). */
export interface TypeDiffusionSpec {
  kind: TypeDiffusionKind;
  /** masking only: ᾱ schedule (§5.3; §13.11 default linear) */
  maskSchedule: MaskSchedule;
  /** masking only: w(t) = 1 instead of −α'/(1−α) (§5.3 simple_loss; default false) */
  simpleLoss: boolean;
  /**
   * w_h of the joint loss (spec §6: 1, the default when absent). A deviation for the one-hot variant: its
   * L_h is a mean over K = 100 components, so with w_h = 1 the types carry a small share of the gradient and
   * the model collapses onto the commonest classes; DiffCSP weights its 100-dim one-hot type loss by 20 (§12).
   */
  lossWeight?: number;
}

export const DEFAULT_TYPE_DIFFUSION: Readonly<TypeDiffusionSpec> = Object.freeze({ kind: 'masking', maskSchedule: 'linear', simpleLoss: false, lossWeight: 1 });

export function isTypeDiffusionKind(v: unknown): v is TypeDiffusionKind {
  return typeof v === 'string' && (TYPE_DIFFUSION_KINDS as readonly string[]).includes(v);
}

/** Width of the continuous type state per atom (one-hot K, bits n_bits); masking has a single integer id. */
export function typeStateWidth(kind: TypeDiffusionKind): number {
  return kind === 'bits' ? numAnalogBits(NUM_TYPE_CLASSES) : NUM_TYPE_CLASSES;
}

/**
 * The DNG network fields of §2.4: C / C-AB take the noisy vector through Linear(h_dim → H)
 * (`smooth`), D keeps the embedding table with K + 1 rows (row K = mask); all three have the type
 * head `pred_h` with h_dim outputs (K logits for D, without a logit for the mask).
 */
export function dngNetworkFields(kind: TypeDiffusionKind): Pick<CSPVNetConfig, 'numTypes' | 'smoothTypes' | 'typeOutputs'> {
  if (kind === 'masking') return { numTypes: NUM_TYPE_CLASSES + 1, smoothTypes: false, typeOutputs: NUM_TYPE_CLASSES };
  const w = typeStateWidth(kind);
  return { numTypes: w, smoothTypes: true, typeOutputs: w };
}

/** Clean encoding h_0 of the ids (N × width) for the continuous variants. */
export function encodeTypes(kind: 'onehot' | 'bits', ids: ArrayLike<number>): Float64Array {
  return kind === 'onehot' ? oneHotTypes(ids, NUM_TYPE_CLASSES) : analogBitsEncode(ids, numAnalogBits(NUM_TYPE_CLASSES));
}

/** The type part of a noisy training batch (atom-level arrays, so slicing by atoms works). */
export interface NoisyTypes {
  kind: TypeDiffusionKind;
  /** clean ids Z, N */
  clean: Int32Array;
  /** crystal time broadcast to each atom, N (§5 "time for node-level quantities") */
  tOfAtom: Float64Array;
  /** masking: the noisy ids fed to the embedding (MASK_ID where masked), N */
  noisyIds: Int32Array | null;
  /** continuous: the noisy vector h_t fed to the network, N × width */
  features: Float32Array | null;
  /** continuous: regression target h_0 (x0 parameterisation, §5.1-5.2), N × width */
  target: Float32Array | null;
}

/** Crystal time per atom. */
export function timeOfAtoms(layout: BatchLayout, t: ArrayLike<number>): Float64Array {
  const out = new Float64Array(layout.numAtoms);
  for (let i = 0; i < layout.numAtoms; i++) out[i] = t[layout.crystalOfAtom[i]!]!;
  return out;
}

/**
 * Forward draw of the types at each crystal's time t (§5): masking keeps each id with probability
 * α_m(t) (one uniform per atom); continuous variants draw ε ~ N(0, I) per entry and form
 * h_t = α(t)·h_0 + σ(t)·ε with the VP schedule of §4. Draws come after the CSP noise of the step.
 */
export function noisyTypesFrom(
  spec: TypeDiffusionSpec,
  layout: BatchLayout,
  clean: Int32Array,
  t: ArrayLike<number>,
  rng: { uniform(): number; normal(): number },
  schedule: VpSchedule = DEFAULT_VP_SCHEDULE,
): NoisyTypes {
  const tOfAtom = timeOfAtoms(layout, t);
  if (spec.kind === 'masking') {
    return { kind: 'masking', clean, tOfAtom, noisyIds: maskTypes(clean, tOfAtom, rng, spec.maskSchedule), features: null, target: null };
  }
  const w = typeStateWidth(spec.kind);
  const h0 = encodeTypes(spec.kind, clean);
  const eps = new Float64Array(h0.length);
  for (let j = 0; j < eps.length; j++) eps[j] = rng.normal();
  const ht = vpForward(h0, eps, tOfAtom, w, schedule);
  return { kind: spec.kind, clean, tOfAtom, noisyIds: null, features: Float32Array.from(ht), target: Float32Array.from(h0) };
}

/** Atoms [a0, a1) of a NoisyTypes (views). */
export function sliceNoisyTypes(n: NoisyTypes, a0: number, a1: number): NoisyTypes {
  const w = n.kind === 'masking' ? 1 : typeStateWidth(n.kind);
  return {
    kind: n.kind,
    clean: n.clean.subarray(a0, a1),
    tOfAtom: n.tOfAtom.subarray(a0, a1),
    noisyIds: n.noisyIds ? n.noisyIds.subarray(a0, a1) : null,
    features: n.features ? n.features.subarray(a0 * w, a1 * w) : null,
    target: n.target ? n.target.subarray(a0 * w, a1 * w) : null,
  };
}

/**
 * Type loss L_h and dL_h/d(out_h) (spec §5): masking → the weighted masked cross-entropy, mean over
 * all atoms (§5.3); continuous → MSE of the x0 prediction, mean over atoms × width (§5.1-5.2).
 */
export function typeLoss(spec: TypeDiffusionSpec, outH: ArrayLike<number>, noisy: NoisyTypes): { loss: number; grad: Float32Array } {
  if (spec.kind === 'masking') {
    return maskingLoss(outH, noisy.clean, noisy.noisyIds!, noisy.tOfAtom, { schedule: spec.maskSchedule, simpleLoss: spec.simpleLoss });
  }
  const target = noisy.target!;
  if (outH.length !== target.length) throw new Error(`typeLoss: type head has ${outH.length} values, the target ${target.length}`);
  const grad = new Float32Array(target.length);
  let s = 0;
  for (let j = 0; j < target.length; j++) {
    const d = outH[j]! - target[j]!;
    s += d * d;
    grad[j] = (2 * d) / target.length;
  }
  return { loss: target.length > 0 ? s / target.length : 0, grad };
}
