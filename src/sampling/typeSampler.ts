/**
 * Reverse process of the atom types for de-novo generation (spec §5, §7.1-7.3), driven by the
 * sampler (sampler.ts) alongside positions and lattice:
 *
 * - continuous (one-hot, analog bits): the VP-SDE updates of the lattice applied in the type space
 *   (EM §7.1 step 5, corrector §7.2 step 3 with the per-crystal mean over atoms and components,
 *   deterministic predictor §7.2 step 6), scores from the x0 head (§5.1-5.2);
 * - masking: the §5.3 unmasking step (EM and PC predictor; no corrector), prior = all masked, and
 *   the §13.11 clean-up of atoms still masked at the end.
 *
 * Chemical-system control (beyond the paper): `allowed` restricts the classes. Every type update
 * of every variant conditions on it instead of rejecting samples afterwards:
 * - masking: disallowed logits are −∞ in every unmasking draw and in the final clean-up;
 * - one-hot: the x0 prediction is replaced by the posterior mean given that the class is allowed
 *   (negative parts clipped, disallowed components 0, renormalised over the allowed ones);
 * - analog bits: the x0 prediction (per-bit means m_b) is read as independent bit probabilities
 *   (1 + m_b)/2, the distribution over allowed ids ∝ Π_b P(bit_b) and the prediction replaced by
 *   that distribution's mean code;
 * and the final decoding picks the best allowed class. Without a restriction (all valid elements
 * allowed) the continuous updates are the paper's; only the decoding avoids ids that are not
 * elements (0, and 100-127 for bits).
 *
 * Fixed types (a formula given to a DNG model, CSP-style): masking feeds the clean ids; continuous
 * variants feed a fresh forward draw h_t = α(t)·h_0 + σ(t)·ε at every call (replacement
 * conditioning), and the ids never change.
 */
import type { BatchLayout, NetInput } from '../network/types.js';
import { MASK_ID, NUM_TYPE_CLASSES, maskingReverseStep, unmaskProbability, unmaskRemaining, type MaskSchedule } from '../diffusion/masking.js';
import { encodeTypes, typeStateWidth, type TypeDiffusionKind } from '../diffusion/typeDiffusion.js';
import { numAnalogBits } from '../diffusion/continuousTypes.js';
import { vpAlpha, vpScore, vpSigma, DEFAULT_VP_SCHEDULE, type VpSchedule } from '../diffusion/latticeVp.js';
import { MAX_Z } from '../crystal/elements.js';
import { KldmError } from '../util/errors.js';
import { atomGroupOffsets, langevinCorrectorStep, vpEmStep, vpPredictorStep } from './steps.js';

type Rand = { uniform(): number; normal(): number };

/** Classes that are elements: ids 1..min(K − 1, MAX_Z) (id 0 is never used by data, §5). */
export function allElementClasses(): Uint8Array {
  const a = new Uint8Array(NUM_TYPE_CLASSES);
  for (let z = 1; z < NUM_TYPE_CLASSES && z <= MAX_Z; z++) a[z] = 1;
  return a;
}

/** Allowed-class mask from a list of atomic numbers (validated). */
export function allowedClassesOf(atomicNumbers: readonly number[]): Uint8Array {
  if (atomicNumbers.length === 0) throw new KldmError('the allowed element list is empty');
  const a = new Uint8Array(NUM_TYPE_CLASSES);
  for (const z of atomicNumbers) {
    if (!Number.isInteger(z) || z < 1 || z >= NUM_TYPE_CLASSES) throw new KldmError(`element Z = ${z} is outside the model's classes 1..${NUM_TYPE_CLASSES - 1}`);
    a[z] = 1;
  }
  return a;
}

export interface TypeSamplerOptions {
  kind: TypeDiffusionKind;
  maskSchedule?: MaskSchedule;
  vpSchedule?: VpSchedule;
  /** K flags (1 = allowed); default: every element class */
  allowed?: Uint8Array;
  /** fixed ids (CSP-style generation with a DNG model); the types then never change */
  fixed?: Int32Array;
}

/** Bits of each class id as ±1 codes (K × n_bits). */
function classCodes(): Float64Array {
  const ids = new Int32Array(NUM_TYPE_CLASSES);
  for (let c = 0; c < NUM_TYPE_CLASSES; c++) ids[c] = c;
  return encodeTypes('bits', ids);
}

const BIT_PROB_FLOOR = 1e-6;

export class TypeSampler {
  readonly kind: TypeDiffusionKind;
  /** state width per atom: 1 for masking (ids), K or n_bits for the continuous variants */
  readonly width: number;
  /** masking: current ids (MASK_ID where masked); continuous: decoded on demand */
  ids: Int32Array;
  /** continuous: current h_t, N × width */
  h: Float64Array;
  private readonly score: Float64Array;
  private readonly noise: Float64Array;
  private readonly x0: Float64Array;
  private lastLogits: Float32Array | null = null;
  private readonly allowed: Uint8Array;
  private readonly restricted: boolean;
  private readonly codes: Float64Array | null;
  private readonly maskSchedule: MaskSchedule;
  private readonly vpSchedule: VpSchedule;
  private readonly fixed: Int32Array | null;
  private readonly fixedCode: Float64Array | null;

  constructor(
    private readonly layout: BatchLayout,
    options: TypeSamplerOptions,
  ) {
    this.kind = options.kind;
    this.width = this.kind === 'masking' ? 1 : typeStateWidth(this.kind);
    const N = layout.numAtoms;
    this.ids = new Int32Array(N);
    const n = this.kind === 'masking' ? 0 : N * this.width;
    this.h = new Float64Array(n);
    this.score = new Float64Array(n);
    this.noise = new Float64Array(n);
    this.x0 = new Float64Array(n);
    const all = allElementClasses();
    this.allowed = options.allowed ?? all;
    if (this.allowed.length !== NUM_TYPE_CLASSES) throw new KldmError(`allowed classes must have ${NUM_TYPE_CLASSES} flags`);
    let any = false;
    let same = true;
    for (let c = 0; c < NUM_TYPE_CLASSES; c++) {
      if (this.allowed[c] && !all[c]) throw new KldmError(`class ${c} is not an element and cannot be allowed`);
      any ||= this.allowed[c] === 1;
      same &&= this.allowed[c] === all[c];
    }
    if (!any) throw new KldmError('no element class is allowed');
    this.restricted = !same;
    this.codes = this.kind === 'bits' ? classCodes() : null;
    this.maskSchedule = options.maskSchedule ?? 'linear';
    this.vpSchedule = options.vpSchedule ?? DEFAULT_VP_SCHEDULE;
    this.fixed = options.fixed ?? null;
    if (this.fixed && this.fixed.length !== N) throw new KldmError(`fixed types: ${this.fixed.length} ids for ${N} atoms`);
    this.fixedCode = this.fixed && this.kind !== 'masking' ? encodeTypes(this.kind, this.fixed) : null;
  }

  get isFixed(): boolean {
    return this.fixed !== null;
  }

  /** Prior (§5): all masked, or h ~ N(0, I) for the continuous variants. */
  prior(rng: Rand): void {
    if (this.fixed) {
      this.ids.set(this.fixed);
      return;
    }
    if (this.kind === 'masking') this.ids.fill(MASK_ID);
    else for (let j = 0; j < this.h.length; j++) this.h[j] = rng.normal();
  }

  /** Writes the network's type input for a call at time t. */
  fillInput(input: NetInput, t: number, rng: Rand): void {
    if (this.kind === 'masking') {
      input.types = this.ids;
      return;
    }
    if (!input.typeFeatures || input.typeFeatures.length !== this.h.length) input.typeFeatures = new Float32Array(this.h.length);
    if (this.fixedCode) {
      // replacement conditioning: a fresh forward draw of the given types at time t
      const a = vpAlpha(t, this.vpSchedule);
      const s = vpSigma(t, this.vpSchedule);
      for (let j = 0; j < this.h.length; j++) this.h[j] = a * this.fixedCode[j]! + s * rng.normal();
    }
    for (let j = 0; j < this.h.length; j++) input.typeFeatures[j] = this.h[j]!;
  }

  /** Takes the type head's output of the call at time t: logits (masking) or the x0 prediction → score. */
  readOutput(outH: Float32Array | undefined, t: number): void {
    if (!outH) throw new KldmError('the network has no type head (pred_h): it is not a de-novo generation model');
    const expected = this.layout.numAtoms * (this.kind === 'masking' ? NUM_TYPE_CLASSES : this.width);
    if (outH.length !== expected) throw new KldmError(`type head has ${outH.length} values, expected ${expected}`);
    if (this.kind === 'masking') {
      this.lastLogits = this.maskedLogits(outH);
      return;
    }
    this.x0.set(outH);
    if (this.restricted) this.restrictPrediction(this.x0);
    vpScore(this.score, this.x0, this.h, t, 'x0', this.vpSchedule);
  }

  private maskedLogits(outH: Float32Array): Float32Array {
    const K = NUM_TYPE_CLASSES;
    const out = Float32Array.from(outH);
    for (let i = 0; i < this.layout.numAtoms; i++) for (let c = 0; c < K; c++) if (!this.allowed[c]) out[i * K + c] = -Infinity;
    return out;
  }

  /** Replaces each atom's x0 prediction by its mean given that the class is allowed (see the header). */
  private restrictPrediction(x0: Float64Array): void {
    const w = this.width;
    const K = NUM_TYPE_CLASSES;
    for (let i = 0; i < this.layout.numAtoms; i++) {
      const o = i * w;
      if (this.kind === 'onehot') {
        let sum = 0;
        for (let c = 0; c < K; c++) {
          const v = this.allowed[c] ? Math.max(0, x0[o + c]!) : 0;
          x0[o + c] = v;
          sum += v;
        }
        if (sum > 1e-12) for (let c = 0; c < K; c++) x0[o + c]! /= sum;
        else {
          let n = 0;
          for (let c = 0; c < K; c++) n += this.allowed[c]!;
          for (let c = 0; c < K; c++) x0[o + c] = this.allowed[c]! / n;
        }
      } else {
        const probs = this.allowedPosterior(x0, o);
        for (let b = 0; b < w; b++) {
          let m = 0;
          for (let c = 0; c < K; c++) if (probs[c]! > 0) m += probs[c]! * this.codes![c * w + b]!;
          x0[o + b] = m;
        }
      }
    }
  }

  /** Analog bits: p(c) ∝ Π_b P(bit_b = code_b(c)) over allowed c, with P(bit = 1) = (1 + m_b)/2 clipped. */
  private allowedPosterior(values: ArrayLike<number>, offset: number): Float64Array {
    const w = this.width;
    const K = NUM_TYPE_CLASSES;
    const logP1 = new Float64Array(w);
    const logP0 = new Float64Array(w);
    for (let b = 0; b < w; b++) {
      const p1 = Math.min(1 - BIT_PROB_FLOOR, Math.max(BIT_PROB_FLOOR, (1 + values[offset + b]!) / 2));
      logP1[b] = Math.log(p1);
      logP0[b] = Math.log(1 - p1);
    }
    const logp = new Float64Array(K).fill(-Infinity);
    let max = -Infinity;
    for (let c = 0; c < K; c++) {
      if (!this.allowed[c]) continue;
      let s = 0;
      for (let b = 0; b < w; b++) s += this.codes![c * w + b]! > 0 ? logP1[b]! : logP0[b]!;
      logp[c] = s;
      if (s > max) max = s;
    }
    let z = 0;
    for (let c = 0; c < K; c++) {
      logp[c] = Number.isFinite(logp[c]!) ? Math.exp(logp[c]! - max) : 0;
      z += logp[c]!;
    }
    for (let c = 0; c < K; c++) logp[c]! /= z;
    return logp;
  }

  /** EM update (§7.1 step 5) from t to t + Δt. */
  emStep(t: number, dt: number, rng: Rand): void {
    if (this.fixed) return;
    if (this.kind === 'masking') {
      this.maskingStep(t, dt, rng);
      return;
    }
    for (let j = 0; j < this.noise.length; j++) this.noise[j] = rng.normal();
    vpEmStep(this.h, this.score, this.noise, t, dt, this.vpSchedule);
  }

  /** Langevin corrector (§7.2 step 3); the masking variant has none. */
  correctorStep(tau: number, rng: Rand): void {
    if (this.fixed || this.kind === 'masking') return;
    for (let j = 0; j < this.noise.length; j++) this.noise[j] = rng.normal();
    langevinCorrectorStep(this.h, this.score, this.noise, atomGroupOffsets(this.layout, this.width), tau);
  }

  /** PC predictor (§7.2 step 6): deterministic VP step, or the §5.3 unmasking step. */
  predictorStep(t: number, dt: number, rng: Rand): void {
    if (this.fixed) return;
    if (this.kind === 'masking') this.maskingStep(t, dt, rng);
    else vpPredictorStep(this.h, this.score, t, dt, this.vpSchedule);
  }

  private maskingStep(t: number, dt: number, rng: Rand): void {
    const q = unmaskProbability(t, dt, this.maskSchedule);
    maskingReverseStep(this.ids, this.lastLogits!, q, rng);
  }

  /** Ids of the current state (masking: MASK_ID where still masked; continuous: decoded, §7.3). */
  currentIds(): Int32Array {
    if (this.fixed || this.kind === 'masking') return Int32Array.from(this.ids);
    return this.decode();
  }

  /** Final ids (§7.3): argmax / bits → id over the allowed classes; masking: §13.11 clean-up of leftovers. */
  finalIds(): Int32Array {
    if (this.fixed) return Int32Array.from(this.fixed);
    if (this.kind === 'masking') {
      if (this.lastLogits) unmaskRemaining(this.ids, this.lastLogits);
      return Int32Array.from(this.ids);
    }
    return this.decode();
  }

  private decode(): Int32Array {
    const N = this.layout.numAtoms;
    const w = this.width;
    const K = NUM_TYPE_CLASSES;
    const out = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      const o = i * w;
      let best = -1;
      if (this.kind === 'onehot') {
        for (let c = 0; c < K; c++) if (this.allowed[c] && (best < 0 || this.h[o + c]! > this.h[o + best]!)) best = c;
      } else {
        // bit_b = 1 if value > 0 (§5.2); when that id is not allowed, the most probable allowed id
        let id = 0;
        for (let b = 0; b < w; b++) id = id * 2 + (this.h[o + b]! > 0 ? 1 : 0);
        if (id < K && this.allowed[id]) best = id;
        else {
          const p = this.allowedPosterior(this.h, o);
          for (let c = 0; c < K; c++) if (this.allowed[c] && (best < 0 || p[c]! > p[best]!)) best = c;
        }
      }
      out[i] = best;
    }
    return out;
  }
}

/** n_bits for K classes (re-exported for callers sizing type features). */
export const TYPE_BITS = numAnalogBits(NUM_TYPE_CLASSES);
