/**
 * Optimiser and weight averaging of spec §8: AdamW with AMSGrad (torch.optim.AdamW
 * semantics: decoupled decay p ← p·(1 − lr·wd), bias-corrected moments, AMSGrad
 * keeps the running max of the second moment) and the EMA of the weights.
 */
import type { Kernels } from '../engine/kernels.js';
import { getKernels } from '../engine/select.js';
import type { ParamStore } from './params.js';

export interface AdamWOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

/** spec §8 settings */
export const PAPER_ADAMW: Readonly<AdamWOptions> = Object.freeze({ lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 1e-12, amsgrad: true });

export class AdamW {
  readonly params: ParamStore<Float32Array>;
  readonly opts: AdamWOptions;
  stepCount = 0;
  private readonly kernels: Kernels;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  private readonly vmax = new Map<string, Float32Array>();

  constructor(params: ParamStore<Float32Array>, opts: Partial<AdamWOptions> = {}, kernels?: Kernels) {
    this.params = params;
    this.opts = { ...PAPER_ADAMW, ...opts };
    this.kernels = kernels ?? getKernels();
    for (const t of params.tensors) {
      if (!t.trainable) continue;
      this.m.set(t.name, new Float32Array(t.data.length));
      this.v.set(t.name, new Float32Array(t.data.length));
      if (this.opts.amsgrad) this.vmax.set(t.name, new Float32Array(t.data.length));
    }
  }

  /** One update of every trainable tensor from its accumulated grad (`lr` overrides the configured rate for this step, e.g. a warm-up). */
  step(lr = this.opts.lr): void {
    this.stepCount++;
    const hp = {
      lr, beta1: this.opts.betas[0], beta2: this.opts.betas[1],
      eps: this.opts.eps, weightDecay: this.opts.weightDecay, step: this.stepCount,
    };
    for (const t of this.params.tensors) {
      if (!t.trainable) continue;
      this.kernels.adamw(t.data, t.grad, this.m.get(t.name)!, this.v.get(t.name)!, this.vmax.get(t.name) ?? null, t.data.length, hp);
    }
  }

  /** Optimiser state as named tensors (`<param>.exp_avg`, `.exp_avg_sq`, `.max_exp_avg_sq`), for checkpoints. */
  stateTensors(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [name, a] of this.m) out[`${name}.exp_avg`] = a;
    for (const [name, a] of this.v) out[`${name}.exp_avg_sq`] = a;
    for (const [name, a] of this.vmax) out[`${name}.max_exp_avg_sq`] = a;
    return out;
  }

  /** Restores what stateTensors() returned and the step count; throws on a missing or mis-sized tensor. */
  loadState(tensors: Record<string, Float32Array>, stepCount: number): void {
    const own = this.stateTensors();
    for (const [key, dst] of Object.entries(own)) {
      const src = tensors[key];
      if (!src) throw new Error(`optimiser state is missing ${key}`);
      if (src.length !== dst.length) throw new Error(`optimiser state ${key} has ${src.length} values, expected ${dst.length}`);
      dst.set(src);
    }
    if (!Number.isInteger(stepCount) || stepCount < 0) throw new Error(`invalid optimiser step count ${stepCount}`);
    this.stepCount = stepCount;
  }
}

/**
 * Exponential moving average of all parameters (spec §8): the first update copies,
 * later ones do θ_ema ← θ_ema + (1 − decay)(θ − θ_ema). Non-trainable buffers are copied.
 */
export class Ema {
  readonly decay: number;
  numUpdates = 0;
  private readonly params: ParamStore<Float32Array>;
  private readonly shadow = new Map<string, Float32Array>();
  private readonly kernels: Kernels;

  constructor(params: ParamStore<Float32Array>, decay = 0.999, kernels?: Kernels) {
    this.params = params;
    this.decay = decay;
    this.kernels = kernels ?? getKernels();
    for (const t of params.tensors) this.shadow.set(t.name, new Float32Array(t.data.length));
  }

  update(): void {
    for (const t of this.params.tensors) {
      const s = this.shadow.get(t.name)!;
      if (this.numUpdates === 0 || !t.trainable) s.set(t.data);
      else this.kernels.emaUpdate(s, t.data, t.data.length, this.decay);
    }
    this.numUpdates++;
  }

  /** The averaged tensors by parameter name (live views). */
  tensors(): Record<string, Float32Array> {
    return Object.fromEntries(this.shadow);
  }

  /** Copies the averaged weights into a ParamStore with the same names (e.g. a clone used for sampling). */
  copyTo(target: ParamStore<Float32Array>): void {
    if (this.numUpdates === 0) throw new Error('Ema.copyTo: no update yet');
    for (const t of target.tensors) {
      const s = this.shadow.get(t.name);
      if (!s || s.length !== t.data.length) throw new Error(`Ema.copyTo: no matching average for ${t.name}`);
      t.data.set(s);
    }
  }

  loadState(tensors: Record<string, Float32Array>, numUpdates: number): void {
    for (const [name, dst] of this.shadow) {
      const src = tensors[name];
      if (!src) throw new Error(`EMA state is missing ${name}`);
      if (src.length !== dst.length) throw new Error(`EMA state ${name} has ${src.length} values, expected ${dst.length}`);
      dst.set(src);
    }
    this.numUpdates = numUpdates;
  }
}
