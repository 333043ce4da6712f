/**
 * The trainable model of a run: network config from a training config, parameters, optimiser and
 * EMA, and their (de)serialisation into a checkpoint's tensors (spec §2, §8).
 */
import { CSPVNet } from '../network/cspvnet.js';
import { paramSpecs, shapeSize, type CSPVNetConfig } from '../network/config.js';
import { initParams, ParamStore } from '../network/params.js';
import { AdamW, Ema } from '../network/optim.js';
import type { Kernels } from '../engine/kernels.js';
import type { Rng } from '../util/rng.js';
import type { ModelConfig, OptimConfig, TrainConfig } from './config.js';
import { dngNetworkFields, type TypeDiffusionSpec } from '../diffusion/typeDiffusion.js';
import type { NamedTensor } from './tensorFile.js';
import { KldmError } from '../util/errors.js';

/**
 * Network configuration of a training config: CSP (spec §2: 101 type rows, LayerNorm, zero_cog),
 * or with `dng` the type input and head of its type diffusion (spec §2.4).
 */
export function netConfigOf(m: ModelConfig, dng?: TypeDiffusionSpec | null): CSPVNetConfig {
  const base: CSPVNetConfig = { hidden: m.hidden, timeDim: m.timeDim, layers: m.layers, freqs: m.frequencies, numTypes: 101, layerNorm: true, zeroCog: true };
  return dng ? { ...base, ...dngNetworkFields(dng.kind) } : base;
}

/** The network configuration of a whole training config (its task decides CSP or DNG). */
export function netConfigOfTraining(c: TrainConfig): CSPVNetConfig {
  return netConfigOf(c.model, c.task === 'dng' ? c.types : null);
}

export class TrainableModel {
  readonly net: CSPVNet;
  readonly optimizer: AdamW;
  readonly ema: Ema;

  constructor(
    readonly netConfig: CSPVNetConfig,
    readonly params: ParamStore<Float32Array>,
    optim: OptimConfig,
    emaDecay: number,
    readonly kernels?: Kernels,
  ) {
    this.net = new CSPVNet(netConfig, params, kernels);
    this.optimizer = new AdamW(
      params,
      { lr: optim.lr, betas: [optim.beta1, optim.beta2], eps: optim.eps, weightDecay: optim.weightDecay, amsgrad: optim.amsgrad },
      kernels,
    );
    this.ema = new Ema(params, emaDecay, kernels);
  }

  static fresh(netConfig: CSPVNetConfig, optim: OptimConfig, emaDecay: number, rng: Rng, kernels?: Kernels): TrainableModel {
    return new TrainableModel(netConfig, initParams(netConfig, rng), optim, emaDecay, kernels);
  }

  /**
   * The weights used for validation and sampling: the EMA once it has been updated (spec §8:
   * "after epoch 500, validation/sampling automatically uses the EMA weights"), else the raw ones.
   * Returns a network over a separate copy, so training state is untouched.
   */
  evaluationNet(): { net: CSPVNet; usesEma: boolean } {
    const copy = this.params.cloneFloat32();
    const usesEma = this.ema.numUpdates > 0;
    if (usesEma) this.ema.copyTo(copy);
    return { net: new CSPVNet(this.netConfig, copy, this.kernels), usesEma };
  }

  /** Parameters, EMA and optimiser state as named tensors (prefixes param/, ema/, optim/). */
  stateTensors(): NamedTensor[] {
    const out: NamedTensor[] = [];
    for (const t of this.params.tensors) out.push({ name: `param/${t.name}`, shape: t.shape, data: t.data });
    if (this.ema.numUpdates > 0) {
      const shapes = new Map(this.params.tensors.map((t) => [t.name, t.shape]));
      for (const [name, data] of Object.entries(this.ema.tensors())) out.push({ name: `ema/${name}`, shape: shapes.get(name)!, data });
    }
    for (const [name, data] of Object.entries(this.optimizer.stateTensors())) out.push({ name: `optim/${name}`, shape: [data.length], data });
    return out;
  }

  /** Restores what stateTensors() produced. */
  loadStateTensors(tensors: Map<string, NamedTensor>, optimizerSteps: number, emaUpdates: number, source: string): void {
    for (const t of this.params.tensors) {
      const src = tensors.get(`param/${t.name}`);
      if (!src) throw new KldmError(`${source}: missing parameter ${t.name} (config mismatch?)`);
      if (src.data.length !== t.data.length) throw new KldmError(`${source}: parameter ${t.name} has ${src.data.length} values, the config needs ${t.data.length}`);
      t.data.set(src.data);
    }
    const strip = (prefix: string): Record<string, Float32Array> => {
      const r: Record<string, Float32Array> = {};
      for (const [name, t] of tensors) if (name.startsWith(prefix)) r[name.slice(prefix.length)] = t.data;
      return r;
    };
    try {
      this.optimizer.loadState(strip('optim/'), optimizerSteps);
      if (emaUpdates > 0) this.ema.loadState(strip('ema/'), emaUpdates);
    } catch (err) {
      throw new KldmError(`${source}: ${(err as Error).message}`);
    }
  }
}

/** Loads network parameters from `param/` (or, with preferEma, `ema/` when present) tensors into a fresh store. */
export function paramsFromTensors(
  netConfig: CSPVNetConfig,
  tensors: Map<string, NamedTensor>,
  preferEma: boolean,
  source: string,
): { params: ParamStore<Float32Array>; usedEma: boolean } {
  const params = new ParamStore(
    paramSpecs(netConfig).map((s) => {
      const n = shapeSize(s.shape);
      return { name: s.name, shape: [...s.shape], data: new Float32Array(n), grad: new Float32Array(n), trainable: s.trainable };
    }),
  );
  const usedEma = preferEma && tensors.has(`ema/${params.tensors[0]!.name}`);
  const prefix = usedEma ? 'ema/' : 'param/';
  for (const t of params.tensors) {
    const src = tensors.get(prefix + t.name);
    if (!src) throw new KldmError(`${source}: missing tensor ${prefix}${t.name}`);
    if (src.data.length !== t.data.length) throw new KldmError(`${source}: ${prefix}${t.name} has ${src.data.length} values, expected ${t.data.length}`);
    t.data.set(src.data);
  }
  return { params, usedEma };
}
