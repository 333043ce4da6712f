/**
 * Parameter store: the ordered, named tensors of a CSPVNet with their gradients.
 * Names and shapes follow the PyTorch state-dict keys of spec §15.
 */
import type { FloatArray } from '../engine/kernels.js';
import type { Rng } from '../util/rng.js';
import { paramSpecs, shapeSize, type CSPVNetConfig } from './config.js';

export interface ParamTensor<A extends FloatArray = Float32Array> {
  name: string;
  shape: number[];
  data: A;
  grad: A;
  trainable: boolean;
}

export class ParamStore<A extends FloatArray = Float32Array> {
  readonly tensors: Array<ParamTensor<A>>;
  private readonly byName = new Map<string, ParamTensor<A>>();

  constructor(tensors: Array<ParamTensor<A>>) {
    this.tensors = tensors;
    for (const t of tensors) {
      if (this.byName.has(t.name)) throw new Error(`duplicate parameter ${t.name}`);
      if (t.data.length !== shapeSize(t.shape) || t.grad.length !== t.data.length) {
        throw new Error(`parameter ${t.name}: data/grad length does not match shape [${t.shape.join(', ')}]`);
      }
      this.byName.set(t.name, t);
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): ParamTensor<A> {
    const t = this.byName.get(name);
    if (!t) throw new Error(`no parameter named ${name}`);
    return t;
  }

  zeroGrad(): void {
    for (const t of this.tensors) t.grad.fill(0);
  }

  numTrainable(): number {
    let n = 0;
    for (const t of this.tensors) if (t.trainable) n += t.data.length;
    return n;
  }

  /** A float64 copy (data and zeroed grads), for finite-difference checks with the reference kernels. */
  toFloat64(): ParamStore<Float64Array> {
    return new ParamStore(
      this.tensors.map((t) => ({
        name: t.name, shape: [...t.shape], trainable: t.trainable,
        data: Float64Array.from(t.data), grad: new Float64Array(t.data.length),
      })),
    );
  }

  /** A float32 deep copy (e.g. to hold EMA weights for sampling). */
  cloneFloat32(): ParamStore<Float32Array> {
    return new ParamStore(
      this.tensors.map((t) => ({
        name: t.name, shape: [...t.shape], trainable: t.trainable,
        data: Float32Array.from(t.data), grad: new Float32Array(t.data.length),
      })),
    );
  }
}

/** Parameters initialised as PyTorch does by default (spec §2.5), drawn from `rng` in list order. */
export function initParams(config: CSPVNetConfig, rng: Rng): ParamStore<Float32Array> {
  const tensors: Array<ParamTensor<Float32Array>> = [];
  for (const spec of paramSpecs(config)) {
    const n = shapeSize(spec.shape);
    const data = new Float32Array(n);
    const init = spec.init;
    if (init.kind === 'uniform') {
      const bound = 1 / Math.sqrt(init.fanIn);
      for (let i = 0; i < n; i++) data[i] = (2 * rng.uniform() - 1) * bound;
    } else if (init.kind === 'normal') {
      for (let i = 0; i < n; i++) data[i] = rng.normal();
    } else {
      data.fill(init.value);
    }
    tensors.push({ name: spec.name, shape: [...spec.shape], data, grad: new Float32Array(n), trainable: spec.trainable });
  }
  return new ParamStore(tensors);
}
