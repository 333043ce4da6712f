/**
 * CSPVNet hyper-parameters (spec §2) and the parameter list they imply, in the
 * PyTorch key names of spec §15 so that official checkpoints map one-to-one.
 */
export interface CSPVNetConfig {
  /** hidden width H (spec: 512) */
  hidden: number;
  /** time-feature width D_t (spec: 256; W_t has D_t/2 rows) */
  timeDim: number;
  /** message-passing layers L (spec: 6) */
  layers: number;
  /** edge position frequencies F (spec: 128; ψ has 6F features) */
  freqs: number;
  /** rows of the atom-type embedding table (CSP: 101, ids = Z in 0..100) */
  numTypes: number;
  /** pre-norm LayerNorm in each layer and the final LayerNorm (spec §2.2, §2.3) */
  layerNorm: boolean;
  /** centre the velocity output per crystal (spec §2.3) */
  zeroCog: boolean;
  /**
   * DNG `smooth = true` (spec §2.1.2, §2.4): types enter as real features (NetInput.typeFeatures,
   * N × numTypes) through Linear(numTypes → H, no bias) instead of the embedding table.
   */
  smoothTypes?: boolean;
  /** DNG `pred_h` (spec §2.3): width of the type head Linear(H → typeOutputs) with bias; 0/absent = none */
  typeOutputs?: number;
}

/** The published MP-20 CSP configuration (spec §2). */
export const PAPER_CONFIG: Readonly<CSPVNetConfig> = Object.freeze({
  hidden: 512,
  timeDim: 256,
  layers: 6,
  freqs: 128,
  numTypes: 101,
  layerNorm: true,
  zeroCog: true,
});

export interface ParamSpec {
  name: string;
  shape: number[];
  trainable: boolean;
  /** initialisation of spec §2.5 */
  init: { kind: 'uniform'; fanIn: number } | { kind: 'normal' } | { kind: 'const'; value: number };
}

/** Width of the edge-MLP input [y_i; y_j; l; P(v_j−v_i); ψ] = 2H + 6 + 6F + 6F (spec §2.2). */
export function edgeInputWidth(c: CSPVNetConfig): number {
  return 2 * c.hidden + 6 + 12 * c.freqs;
}

export function validateConfig(c: CSPVNetConfig): void {
  const ints: Array<keyof CSPVNetConfig> = ['hidden', 'timeDim', 'layers', 'freqs', 'numTypes'];
  for (const k of ints) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`CSPVNetConfig.${k} must be a positive integer, got ${String(v)}`);
  }
  if (c.typeOutputs !== undefined && (!Number.isInteger(c.typeOutputs) || c.typeOutputs < 0)) throw new Error(`CSPVNetConfig.typeOutputs must be a non-negative integer, got ${String(c.typeOutputs)}`);
  if (c.timeDim % 2 !== 0) throw new Error(`CSPVNetConfig.timeDim must be even (cos and sin halves), got ${c.timeDim}`);
}

/** The ordered parameter list (spec §15 key names, spec §2.5 initialisation). */
export function paramSpecs(c: CSPVNetConfig): ParamSpec[] {
  validateConfig(c);
  const H = c.hidden;
  const D6 = 6 * c.freqs;
  const K = edgeInputWidth(c);
  const out: ParamSpec[] = [];
  const linear = (prefix: string, outDim: number, inDim: number, bias: boolean): void => {
    out.push({ name: `${prefix}.weight`, shape: [outDim, inDim], trainable: true, init: { kind: 'uniform', fanIn: inDim } });
    if (bias) out.push({ name: `${prefix}.bias`, shape: [outDim], trainable: true, init: { kind: 'uniform', fanIn: inDim } });
  };
  const layerNorm = (prefix: string): void => {
    out.push({ name: `${prefix}.weight`, shape: [H], trainable: true, init: { kind: 'const', value: 1 } });
    out.push({ name: `${prefix}.bias`, shape: [H], trainable: true, init: { kind: 'const', value: 0 } });
  };
  if (c.smoothTypes) linear('net.node_embedding', H, c.numTypes, false); // spec §2.1.2 smooth: Linear(h_dim → H, no bias)
  else out.push({ name: 'net.node_embedding.weight', shape: [c.numTypes, H], trainable: true, init: { kind: 'normal' } });
  linear('net.atom_latent_emb', H, H + c.timeDim, true);
  // frozen random Fourier time features W_t (spec §2.1 item 1): a buffer
  out.push({ name: 'net.time_emb.weight', shape: [c.timeDim / 2, 1], trainable: false, init: { kind: 'normal' } });
  for (let l = 0; l < c.layers; l++) {
    const p = `net.layers.${l}`;
    linear(`${p}.v_proj`, D6, 3, true);
    linear(`${p}.edge_mlp.0`, H, K, true);
    linear(`${p}.edge_mlp.2`, H, H, true);
    linear(`${p}.node_mlp.0`, H, 2 * H, true);
    linear(`${p}.node_mlp.2`, H, H, true);
    if (c.layerNorm) layerNorm(`${p}.layer_norm`);
  }
  if (c.layerNorm) layerNorm('net.final_layer_norm');
  linear('net.out_v.0', H, H, true);
  linear('net.out_v.2', 3, H, false);
  linear('net.out_l', 6, H, false);
  if (c.typeOutputs) linear('net.out_h', c.typeOutputs, H, true); // spec §2.3 pred_h (DNG)
  return out;
}

function size(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Number of trainable parameters of a configuration (spec §14.9), without allocating anything. */
export function countTrainableParams(c: CSPVNetConfig): number {
  let n = 0;
  for (const s of paramSpecs(c)) if (s.trainable) n += size(s.shape);
  return n;
}

export function shapeSize(shape: number[]): number {
  return size(shape);
}
