/**
 * CSPVNet (spec §2): forward, inference-only forward and an explicit per-layer
 * backward (llm.c style: every activation the backward needs is stored by the
 * training forward, every gradient is written out by hand).
 *
 * Exact algebraic shortcut of spec §15, same function as the spec: the first
 * edge-MLP matrix W1 (H × [2H + 6 + 6F + 6F]) is used as column blocks
 *   z1_e = W1a·y_i + W1b·y_j + W1c·l_g + W1p·(P_w·(v_j − v_i) + P_b) + W1ψ·ψ_e + b1
 *        = A_i + B_j + C_g + Wv·(v_j − v_i) + (W1p·P_b + b1) + W1ψ·ψ_e,
 * with A = Y·W1aᵀ, B = Y·W1bᵀ computed once per atom, C once per crystal, and
 * Wv = W1p·P_w (H×3) folded once per call: only the ψ block is a per-edge GEMM.
 */
import type { FloatArray, EdgeLayout, Kernels } from '../engine/kernels.js';
import { getKernels } from '../engine/select.js';
import { edgeInputWidth, paramSpecs, validateConfig, type CSPVNetConfig } from './config.js';
import { timeFeatures, timeFeaturesBackward } from './features.js';
import { buildEdges } from './graph.js';
import type { ParamStore, ParamTensor } from './params.js';
import type { BatchLayout, NetInput, NetOutput, ScoreNetwork } from './types.js';

const LN_EPS = 1e-5; // spec §2.2

/** NetInput with the real-valued fields in either precision (float64 only for gradient checks). */
export interface NetInputAny {
  layout: BatchLayout;
  t: FloatArray;
  pos: FloatArray;
  vel: FloatArray;
  types: Int32Array;
  lattice: FloatArray;
  typeFeatures?: FloatArray;
}

export interface NetOutputAny {
  v: FloatArray;
  l: FloatArray;
  h?: FloatArray;
}

/** Gradients of the loss with respect to the real-valued inputs (optional output of backward). */
export interface InputGrads {
  t: FloatArray;
  pos: FloatArray;
  vel: FloatArray;
  lattice: FloatArray;
  /** only for smoothTypes networks */
  typeFeatures?: FloatArray;
}

interface LayerParams {
  vpW: ParamTensor<FloatArray>;
  vpB: ParamTensor<FloatArray>;
  e0W: ParamTensor<FloatArray>;
  e0B: ParamTensor<FloatArray>;
  e2W: ParamTensor<FloatArray>;
  e2B: ParamTensor<FloatArray>;
  n0W: ParamTensor<FloatArray>;
  n0B: ParamTensor<FloatArray>;
  n2W: ParamTensor<FloatArray>;
  n2B: ParamTensor<FloatArray>;
  lnW: ParamTensor<FloatArray> | null;
  lnB: ParamTensor<FloatArray> | null;
}

interface ForwardState {
  layout: BatchLayout;
  edges: EdgeLayout;
  types: Int32Array;
}

/**
 * The network in either precision. Use CSPVNet (float32) in the product;
 * this class is exported for the float64 finite-difference tests.
 */
export class CSPVNetCore {
  readonly config: CSPVNetConfig;
  readonly params: ParamStore<FloatArray>;
  readonly kernels: Kernels;
  private readonly f64: boolean;
  private readonly bufs = new Map<string, FloatArray>();
  private readonly lp: LayerParams[] = [];
  private readonly p: (name: string) => ParamTensor<FloatArray>;
  private state: ForwardState | null = null;
  private edgeCache: { edges: EdgeLayout } | null = null;
  /** gradients w.r.t. the inputs of the last backward({ inputGrads: true }) */
  inputGrads: InputGrads | null = null;

  constructor(config: CSPVNetConfig, params: ParamStore<FloatArray>, kernels?: Kernels) {
    validateConfig(config);
    this.config = { ...config };
    this.params = params;
    this.f64 = params.tensors[0]!.data instanceof Float64Array;
    this.kernels = kernels ?? getKernels();
    if (this.f64 && !this.kernels.supportsFloat64) throw new Error(`kernels '${this.kernels.name}' do not support float64 parameters`);
    for (const s of paramSpecs(config)) {
      const t = params.get(s.name);
      if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
        throw new Error(`parameter ${s.name} has shape [${t.shape.join(', ')}], config needs [${s.shape.join(', ')}]`);
      }
      if ((t.data instanceof Float64Array) !== this.f64) throw new Error('all parameters must have the same precision');
    }
    this.p = (name) => params.get(name);
    for (let l = 0; l < config.layers; l++) {
      const q = `net.layers.${l}`;
      this.lp.push({
        vpW: this.p(`${q}.v_proj.weight`), vpB: this.p(`${q}.v_proj.bias`),
        e0W: this.p(`${q}.edge_mlp.0.weight`), e0B: this.p(`${q}.edge_mlp.0.bias`),
        e2W: this.p(`${q}.edge_mlp.2.weight`), e2B: this.p(`${q}.edge_mlp.2.bias`),
        n0W: this.p(`${q}.node_mlp.0.weight`), n0B: this.p(`${q}.node_mlp.0.bias`),
        n2W: this.p(`${q}.node_mlp.2.weight`), n2B: this.p(`${q}.node_mlp.2.bias`),
        lnW: config.layerNorm ? this.p(`${q}.layer_norm.weight`) : null,
        lnB: config.layerNorm ? this.p(`${q}.layer_norm.bias`) : null,
      });
    }
  }

  private alloc(n: number): FloatArray {
    return this.f64 ? new Float64Array(n) : new Float32Array(n);
  }

  /** A named work buffer of at least n elements, kept between calls. */
  private buf(name: string, n: number): FloatArray {
    const b = this.bufs.get(name);
    if (b && b.length >= n) return b;
    const nb = this.alloc(Math.max(n, 1));
    this.bufs.set(name, nb);
    return nb;
  }

  /** Release all work buffers (e.g. after a large batch). */
  releaseBuffers(): void {
    this.kernels.unpinAllOperands?.();
    this.bufs.clear();
  }

  private edgesFor(layout: BatchLayout): EdgeLayout {
    // reuse the last graph when the layout has the same atom offsets (O(G) check: callers may reuse
    // and mutate one BatchLayout object between calls)
    const cached = this.edgeCache;
    if (cached && cached.edges.atomOffsets.length === layout.atomOffsets.length) {
      let same = true;
      for (let g = 0; g < layout.atomOffsets.length && same; g++) same = cached.edges.atomOffsets[g] === layout.atomOffsets[g];
      if (same) return cached.edges;
    }
    const edges = buildEdges(layout);
    this.edgeCache = { edges };
    return edges;
  }

  private validate(inp: NetInputAny): void {
    const { numCrystals: G, numAtoms: N, atomOffsets } = inp.layout;
    if (atomOffsets.length !== G + 1 || atomOffsets[G] !== N) throw new Error('CSPVNet: BatchLayout atomOffsets inconsistent with numAtoms');
    const need: Array<[string, number, number]> = [
      ['t', inp.t.length, G], ['pos', inp.pos.length, 3 * N], ['vel', inp.vel.length, 3 * N],
      ['lattice', inp.lattice.length, 6 * G],
    ];
    if (this.config.smoothTypes) {
      if (!inp.typeFeatures) throw new Error('CSPVNet: this network (smoothTypes) needs input typeFeatures');
      need.push(['typeFeatures', inp.typeFeatures.length, N * this.config.numTypes]);
    } else {
      need.push(['types', inp.types.length, N]);
    }
    for (const [name, got, want] of need) {
      if (got !== want) throw new Error(`CSPVNet: input ${name} has length ${got}, expected ${want}`);
    }
    if (this.config.smoothTypes) return;
    for (let i = 0; i < N; i++) {
      const z = inp.types[i]!;
      if (z < 0 || z >= this.config.numTypes) throw new Error(`CSPVNet: atom ${i} has type id ${z}, outside 0..${this.config.numTypes - 1}`);
    }
  }

  /** Linear y = x·W_blockᵀ where W_block is the column block at wOff of a row-major W with row length ldw. */
  private linear(x: FloatArray, rows: number, inDim: number, w: FloatArray, wOff: number, ldw: number, outDim: number, y: FloatArray, beta = 0): void {
    this.kernels.gemm(false, true, rows, outDim, inDim, 1, x, 0, inDim, w, wOff, ldw, beta, y, 0, outDim);
  }

  /** Inference forward: no stored activations (spec §7 sampling). Outputs are fresh arrays. */
  predict(input: NetInputAny): NetOutputAny {
    return this.run(input, false);
  }

  /** Training forward: stores what backward needs. */
  forward(input: NetInputAny): NetOutputAny {
    return this.run(input, true);
  }

  private run(inp: NetInputAny, train: boolean): NetOutputAny {
    this.validate(inp);
    const k = this.kernels;
    const c = this.config;
    const H = c.hidden;
    const Dt = c.timeDim;
    const F = c.freqs;
    const D6 = 6 * F;
    const K = edgeInputWidth(c);
    const L = c.layers;
    const layout = inp.layout;
    const G = layout.numCrystals;
    const N = layout.numAtoms;
    const edges = this.edgesFor(layout);
    const E = edges.numEdges;
    this.state = null;
    // bf16 path: copies pinned by an earlier call may be stale (weights stepped, buffers rewritten)
    k.unpinAllOperands?.();
    this.pinWeights();

    // inputs in our precision, kept for backward
    const pos = this.buf('in.pos', 3 * N);
    pos.set(inp.pos);
    const vel = this.buf('in.vel', 3 * N);
    vel.set(inp.vel);
    const lat = this.buf('in.lat', 6 * G);
    lat.set(inp.lattice);
    const tt = this.buf('in.t', G);
    tt.set(inp.t);

    // §2.1.1 time features τ(t) = [cos(2π W_t t), sin(2π W_t t)]
    const tau = this.buf('tau', G * Dt);
    timeFeatures(tt, G, this.p('net.time_emb.weight').data, tau);

    // §2.1.2-3 x_i = A·[emb(h_i); τ(t_g)] + a, split into a per-atom and a per-crystal GEMM
    const emb = this.buf('emb', N * H);
    if (c.smoothTypes) {
      // spec §2.1.2 smooth: Linear(h_dim → H, no bias) on the real type features
      const tf = this.buf('in.tf', N * c.numTypes);
      tf.set(inp.typeFeatures!);
      this.linear(tf, N, c.numTypes, this.p('net.node_embedding.weight').data, 0, c.numTypes, H, emb);
    } else {
      k.gatherRows(this.p('net.node_embedding.weight').data, inp.types, H, emb);
    }
    const wa = this.p('net.atom_latent_emb.weight').data;
    let x = train ? this.buf('X0', N * H) : this.buf('X', N * H);
    this.linear(emb, N, H, wa, 0, H + Dt, H, x);
    const tp = this.buf('tp', G * H);
    this.linear(tau, G, Dt, wa, H, H + Dt, H, tp);
    k.segmentBroadcastAdd(x, layout.atomOffsets, G, H, tp);
    k.addBias(x, this.p('net.atom_latent_emb.bias').data, N, H);

    // §2.1.4 edge features, shared by all layers
    // ψ per unordered pair (its forward edge i→j, i < j); the reverse edge has ψ = [−sin, cos]
    const P2 = edges.numPairs;
    const psi = this.buf('psi', P2 * D6);
    k.fourierFeatures(pos, edges, F, psi);
    k.pinOperand?.(psi, P2 * D6); // read by the ψ GEMMs of every layer (and their backward)
    // v_j − v_i per edge (E×3), shared by all layers: velocities enter only through it (spec §2.2)
    const dv = this.buf('dv', E * 3);
    for (let e = 0; e < E; e++) {
      const i = edges.src[e]! * 3;
      const j = edges.dst[e]! * 3;
      dv[e * 3] = vel[j]! - vel[i]!;
      dv[e * 3 + 1] = vel[j + 1]! - vel[i + 1]!;
      dv[e * 3 + 2] = vel[j + 2]! - vel[i + 2]!;
    }

    const A = this.buf('A', N * H);
    const B = this.buf('B', N * H);
    const C = this.buf('C', G * H);
    const T = this.buf('T', E * H);
    const S = this.buf('S', N * H);
    for (let l = 0; l < L; l++) {
      const P = this.lp[l]!;
      // §2.2.1 pre-norm
      let y = x;
      if (P.lnW && P.lnB) {
        y = train ? this.buf(`Y${l}`, N * H) : this.buf('Y', N * H);
        const mean = train ? this.buf(`mean${l}`, N) : this.buf('mean', N);
        const rstd = train ? this.buf(`rstd${l}`, N) : this.buf('rstd', N);
        k.layerNormForward(x, P.lnW.data, P.lnB.data, N, H, LN_EPS, y, mean, rstd);
      }
      // §2.2.2 / §15 split first edge linear
      const w1 = P.e0W.data;
      this.linear(y, N, H, w1, 0, K, H, A);
      this.linear(y, N, H, w1, H, K, H, B);
      this.linear(lat, G, 6, w1, 2 * H, K, H, C);
      const wv = this.buf(`wv${l}`, H * 3);
      k.gemm(false, false, H, 3, D6, 1, w1, 2 * H + 6, K, P.vpW.data, 0, 3, 0, wv, 0, 3);
      const bv = this.buf('bv', H);
      k.gemm(false, false, H, 1, D6, 1, w1, 2 * H + 6, K, P.vpB.data, 0, 1, 0, bv, 0, 1);
      k.addInto(bv, P.e0B.data, H);
      // ψ block per pair: W1ψ·ψ = W1s·sin + W1c·cos, so the two directed edges of a pair get
      // ±(sin part) + (cos part): half the FLOPs of one GEMM over all edges, same function
      const pq = this.buf('pq', P2 * 2 * H);
      k.gemm(false, true, P2, H, 3 * F, 1, psi, 0, D6, w1, 2 * H + 6 + D6, K, 0, pq, 0, 2 * H);
      k.gemm(false, true, P2, H, 3 * F, 1, psi, 3 * F, D6, w1, 2 * H + 6 + D6 + 3 * F, K, 0, pq, H, 2 * H);
      const z1 = train ? this.buf(`Z1_${l}`, E * H) : this.buf('Z1', E * H);
      k.edgeCombine(z1, pq, A, B, C, wv, bv, dv, edges, H);
      k.biasSilu(z1, null, E, H, T);
      const z2 = train ? this.buf(`Z2_${l}`, E * H) : this.buf('Z2', E * H);
      this.linear(T, E, H, P.e2W.data, 0, H, H, z2);
      // m_ij = silu(z2 + b2) and §2.2.3 its mean over outgoing edges (zero if none), fused
      const mb = train ? this.buf(`Mb${l}`, N * H) : this.buf('Mb', N * H);
      k.biasSiluSegmentMean(z2, P.e2B.data, edges.nodeEdgeOffsets, N, H, mb);
      // §2.2.4 node MLP on [y_i; m̄_i], residual on the un-normalised x
      const u1 = train ? this.buf(`U1_${l}`, N * H) : this.buf('U1', N * H);
      this.linear(y, N, H, P.n0W.data, 0, 2 * H, H, u1);
      this.linear(mb, N, H, P.n0W.data, H, 2 * H, H, u1, 1);
      k.biasSilu(u1, P.n0B.data, N, H, S);
      const u2 = train ? this.buf(`U2_${l}`, N * H) : this.buf('U2', N * H);
      this.linear(S, N, H, P.n2W.data, 0, H, H, u2);
      k.biasSilu(u2, P.n2B.data, N, H, S);
      if (train) {
        const xn = this.buf(`X${l + 1}`, N * H);
        xn.set(x.subarray(0, N * H));
        x = xn;
      }
      k.addInto(x, S, N * H);
    }

    // §2.3 heads
    let zf = x;
    if (c.layerNorm) {
      zf = this.buf('Zf', N * H);
      k.layerNormForward(x, this.p('net.final_layer_norm.weight').data, this.p('net.final_layer_norm.bias').data,
        N, H, LN_EPS, zf, this.buf('meanF', N), this.buf('rstdF', N));
    }
    const q = this.buf('Q', N * H);
    const qs = this.buf('Qs', N * H);
    this.linear(zf, N, H, this.p('net.out_v.0.weight').data, 0, H, H, q);
    k.biasSilu(q, this.p('net.out_v.0.bias').data, N, H, qs);
    const outV = this.alloc(N * 3);
    this.linear(qs, N, H, this.p('net.out_v.2.weight').data, 0, H, 3, outV);
    if (c.zeroCog) k.segmentCentre(outV, layout.atomOffsets, G, 3);
    const zbar = this.buf('zbar', G * H);
    k.segmentMean(zf, layout.atomOffsets, G, H, zbar);
    const outL = this.alloc(G * 6);
    this.linear(zbar, G, H, this.p('net.out_l.weight').data, 0, H, 6, outL);
    let outH: FloatArray | undefined;
    if (c.typeOutputs) {
      // spec §2.3 pred_h: Linear(H → h_dim) with bias on z_i
      outH = this.alloc(N * c.typeOutputs);
      this.linear(zf, N, H, this.p('net.out_h.weight').data, 0, H, c.typeOutputs, outH);
      k.addBias(outH, this.p('net.out_h.bias').data, N, c.typeOutputs);
    }

    if (train) this.state = { layout, edges, types: Int32Array.from(inp.types) };
    else k.unpinAllOperands?.();
    return outH ? { v: outV, l: outL, h: outH } : { v: outV, l: outL };
  }

  /**
   * Backward of the last forward(): ACCUMULATES parameter gradients into ParamTensor.grad
   * (call params.zeroGrad() first for a fresh step). May be called once per forward (it
   * overwrites stored activations). With inputGrads, this.inputGrads receives ∂/∂(t, pos, vel, lattice).
   */
  backward(gradOut: NetOutputAny, opts: { inputGrads?: boolean } = {}): void {
    const st = this.state;
    if (!st) throw new Error('CSPVNet.backward: call forward() first (once per backward)');
    this.state = null;
    const k = this.kernels;
    const c = this.config;
    const H = c.hidden;
    const Dt = c.timeDim;
    const F = c.freqs;
    const D6 = 6 * F;
    const K = edgeInputWidth(c);
    const L = c.layers;
    const { layout, edges } = st;
    const G = layout.numCrystals;
    const N = layout.numAtoms;
    const E = edges.numEdges;
    if (gradOut.v.length !== 3 * N || gradOut.l.length !== 6 * G) throw new Error('CSPVNet.backward: gradient shapes do not match the last forward');
    const wantIn = opts.inputGrads === true;
    const pos = this.buf('in.pos', 3 * N);
    const lat = this.buf('in.lat', 6 * G);
    const tt = this.buf('in.t', G);
    const tau = this.buf('tau', G * Dt);
    const P2 = edges.numPairs;
    const psi = this.buf('psi', P2 * D6);
    const dpq = this.buf('pq', P2 * 2 * H);
    const gIn: InputGrads | null = wantIn
      ? { t: this.alloc(G), pos: this.alloc(3 * N), vel: this.alloc(3 * N), lattice: this.alloc(6 * G) }
      : null;
    const dpsi = wantIn ? this.alloc(P2 * D6) : null;
    const ddv = wantIn ? this.alloc(E * 3) : null;
    const dv = this.buf('dv', E * 3);

    // heads
    const xL = this.buf(`X${L}`, N * H);
    const zf = c.layerNorm ? this.buf('Zf', N * H) : xL;
    const dO = this.buf('dO', N * 3);
    dO.set(gradOut.v);
    if (c.zeroCog) k.segmentCentre(dO, layout.atomOffsets, G, 3);
    const dOL = this.buf('dOL', G * 6);
    dOL.set(gradOut.l);
    const zbar = this.buf('zbar', G * H);
    const olW = this.p('net.out_l.weight');
    k.gemm(true, false, 6, H, G, 1, dOL, 0, 6, zbar, 0, H, 1, olW.grad, 0, H);
    const dzbar = this.buf('dzbar', G * H);
    k.gemm(false, false, G, H, 6, 1, dOL, 0, 6, olW.data, 0, H, 0, dzbar, 0, H);
    const dzf = this.buf('dZf', N * H);
    k.segmentMeanBackward(dzbar, layout.atomOffsets, G, H, dzf);
    const q = this.buf('Q', N * H);
    const qs = this.buf('Qs', N * H);
    const o2W = this.p('net.out_v.2.weight');
    k.gemm(true, false, 3, H, N, 1, dO, 0, 3, qs, 0, H, 1, o2W.grad, 0, H);
    const dq = this.buf('dQ', N * H);
    k.gemm(false, false, N, H, 3, 1, dO, 0, 3, o2W.data, 0, H, 0, dq, 0, H);
    k.siluBackward(dq, q, N * H, dq);
    const o0W = this.p('net.out_v.0.weight');
    k.gemm(true, false, H, H, N, 1, dq, 0, H, zf, 0, H, 1, o0W.grad, 0, H);
    k.colSumAdd(dq, N, H, this.p('net.out_v.0.bias').grad);
    k.gemm(false, false, N, H, H, 1, dq, 0, H, o0W.data, 0, H, 1, dzf, 0, H);
    if (c.typeOutputs && gradOut.h) {
      const Kh = c.typeOutputs;
      if (gradOut.h.length !== N * Kh) throw new Error('CSPVNet.backward: gradient h does not match the last forward');
      const dh = this.buf('dH', N * Kh);
      dh.set(gradOut.h);
      const ohW = this.p('net.out_h.weight');
      k.gemm(true, false, Kh, H, N, 1, dh, 0, Kh, zf, 0, H, 1, ohW.grad, 0, H);
      k.colSumAdd(dh, N, Kh, this.p('net.out_h.bias').grad);
      k.gemm(false, false, N, H, Kh, 1, dh, 0, Kh, ohW.data, 0, H, 1, dzf, 0, H);
    }
    const dX = this.buf('dX', N * H);
    if (c.layerNorm) {
      dX.fill(0, 0, N * H);
      const lw = this.p('net.final_layer_norm.weight');
      const lb = this.p('net.final_layer_norm.bias');
      k.layerNormBackward(dzf, xL, lw.data, this.buf('meanF', N), this.buf('rstdF', N), N, H, dX, lw.grad, lb.grad);
    } else {
      dX.set(dzf.subarray(0, N * H));
    }

    // layers, last to first
    const t1 = this.buf('bN1', N * H);
    const t2 = this.buf('bN2', N * H);
    const dY = this.buf('dY', N * H);
    const T = this.buf('T', E * H);
    const dA = this.buf('A', N * H);
    const dB = this.buf('B', N * H);
    const dC = this.buf('C', G * H);
    const dzSum = this.buf('dzSum', H);
    const dwv = this.buf('dwv', H * 3);
    for (let l = L - 1; l >= 0; l--) {
      const P = this.lp[l]!;
      const x = this.buf(`X${l}`, N * H);
      const y = P.lnW ? this.buf(`Y${l}`, N * H) : x;
      const u1 = this.buf(`U1_${l}`, N * H);
      const u2 = this.buf(`U2_${l}`, N * H);
      const mb = this.buf(`Mb${l}`, N * H);
      const z1 = this.buf(`Z1_${l}`, E * H);
      const z2 = this.buf(`Z2_${l}`, E * H);
      // node MLP
      k.siluBackward(dX, u2, N * H, t1); // t1 = dU2
      k.biasSilu(u1, null, N, H, t2); // t2 = s1 (recomputed)
      k.gemm(true, false, H, H, N, 1, t1, 0, H, t2, 0, H, 1, P.n2W.grad, 0, H);
      k.colSumAdd(t1, N, H, P.n2B.grad);
      k.gemm(false, false, N, H, H, 1, t1, 0, H, P.n2W.data, 0, H, 0, t2, 0, H); // t2 = dS1
      k.siluBackward(t2, u1, N * H, t2); // t2 = dU1
      k.gemm(true, false, H, H, N, 1, t2, 0, H, y, 0, H, 1, P.n0W.grad, 0, 2 * H);
      k.gemm(true, false, H, H, N, 1, t2, 0, H, mb, 0, H, 1, P.n0W.grad, H, 2 * H);
      k.colSumAdd(t2, N, H, P.n0B.grad);
      k.gemm(false, false, N, H, H, 1, t2, 0, H, P.n0W.data, 0, 2 * H, 0, dY, 0, H);
      k.gemm(false, false, N, H, H, 1, t2, 0, H, P.n0W.data, H, 2 * H, 0, t1, 0, H); // t1 = dM̄
      // edge MLP
      k.siluSegmentMeanBackward(t1, z2, edges.nodeEdgeOffsets, N, H, z2, P.e2B.grad); // z2 = dZ2 (activation no longer needed)
      k.pinOperand?.(z2, E * H); // dZ2 is read by the next two GEMMs
      k.biasSilu(z1, null, E, H, T); // T = h1 (recomputed)
      k.gemm(true, false, H, H, E, 1, z2, 0, H, T, 0, H, 1, P.e2W.grad, 0, H);
      k.gemm(false, false, E, H, H, 1, z2, 0, H, P.e2W.data, 0, H, 0, T, 0, H); // T = dH1
      k.unpinOperand?.(z2);
      k.siluBackward(T, z1, E * H, z1); // z1 = dZ1
      const w1 = P.e0W.data;
      const dw1 = P.e0W.grad;
      // dWv = dZ1ᵀ·dv (H×3) and the per-pair [dz_fwd − dz_rev, dz_fwd + dz_rev] inside edgeCombineBackward
      dwv.fill(0, 0, H * 3);
      k.edgeCombineBackward(z1, dv, edges, H, N, G, dA, dB, dC, dwv, dpq);
      const offS = 2 * H + 6 + D6;
      k.gemm(true, false, H, 3 * F, P2, 1, dpq, 0, 2 * H, psi, 0, D6, 1, dw1, offS, K); // dW1s
      k.gemm(true, false, H, 3 * F, P2, 1, dpq, H, 2 * H, psi, 3 * F, D6, 1, dw1, offS + 3 * F, K); // dW1c
      if (dpsi) {
        k.gemm(false, false, P2, 3 * F, H, 1, dpq, 0, 2 * H, w1, offS, K, 1, dpsi, 0, D6);
        k.gemm(false, false, P2, 3 * F, H, 1, dpq, H, 2 * H, w1, offS + 3 * F, K, 1, dpsi, 3 * F, D6);
      }
      // Σ_e dz1_e = Σ_g dC_g: the bias gradient from the G×H crystal sums, not another pass over E×H
      dzSum.fill(0, 0, H);
      k.colSumAdd(dC, G, H, dzSum);
      k.addInto(P.e0B.grad, dzSum, H);
      if (ddv) k.gemm(false, false, E, 3, H, 1, z1, 0, H, this.buf(`wv${l}`, H * 3), 0, 3, 1, ddv, 0, 3); // d(dv) = dZ1·Wv, input gradients only
      k.gemm(true, false, H, H, N, 1, dA, 0, H, y, 0, H, 1, dw1, 0, K);
      k.gemm(true, false, H, H, N, 1, dB, 0, H, y, 0, H, 1, dw1, H, K);
      k.gemm(true, false, H, 6, G, 1, dC, 0, H, lat, 0, 6, 1, dw1, 2 * H, K);
      k.gemm(false, false, N, H, H, 1, dA, 0, H, w1, 0, K, 1, dY, 0, H);
      k.gemm(false, false, N, H, H, 1, dB, 0, H, w1, H, K, 1, dY, 0, H);
      if (gIn) k.gemm(false, false, G, 6, H, 1, dC, 0, H, w1, 2 * H, K, 1, gIn.lattice, 0, 6);
      // folded velocity block: Wv = W1p·P_w, bias' = W1p·P_b
      k.gemm(false, true, H, D6, 3, 1, dwv, 0, 3, P.vpW.data, 0, 3, 1, dw1, 2 * H + 6, K);
      k.gemm(false, true, H, D6, 1, 1, dzSum, 0, 1, P.vpB.data, 0, 1, 1, dw1, 2 * H + 6, K);
      k.gemm(true, false, D6, 3, H, 1, w1, 2 * H + 6, K, dwv, 0, 3, 1, P.vpW.grad, 0, 3);
      k.gemm(true, false, D6, 1, H, 1, w1, 2 * H + 6, K, dzSum, 0, 1, 1, P.vpB.grad, 0, 1);
      // pre-norm
      if (P.lnW && P.lnB) {
        k.layerNormBackward(dY, x, P.lnW.data, this.buf(`mean${l}`, N), this.buf(`rstd${l}`, N), N, H, dX, P.lnW.grad, P.lnB.grad);
      } else {
        k.addInto(dX, dY, N * H);
      }
    }

    // embedding
    const wa = this.p('net.atom_latent_emb.weight');
    k.colSumAdd(dX, N, H, this.p('net.atom_latent_emb.bias').grad);
    const emb = this.buf('emb', N * H);
    k.gemm(true, false, H, H, N, 1, dX, 0, H, emb, 0, H, 1, wa.grad, 0, H + Dt);
    const dtp = this.buf('tp', G * H);
    k.segmentSum(dX, layout.atomOffsets, G, H, dtp);
    k.gemm(true, false, H, Dt, G, 1, dtp, 0, H, tau, 0, Dt, 1, wa.grad, H, H + Dt);
    k.gemm(false, false, N, H, H, 1, dX, 0, H, wa.data, 0, H + Dt, 0, emb, 0, H); // emb = d emb
    const embW = this.p('net.node_embedding.weight');
    if (c.smoothTypes) {
      const tf = this.buf('in.tf', N * c.numTypes);
      k.gemm(true, false, H, c.numTypes, N, 1, emb, 0, H, tf, 0, c.numTypes, 1, embW.grad, 0, c.numTypes);
      if (gIn) {
        gIn.typeFeatures = this.alloc(N * c.numTypes);
        k.gemm(false, false, N, c.numTypes, H, 1, emb, 0, H, embW.data, 0, c.numTypes, 0, gIn.typeFeatures, 0, c.numTypes);
      }
    } else {
      k.scatterAddRows(emb, st.types, H, embW.grad);
    }

    if (gIn && dpsi) {
      const dtau = this.alloc(G * Dt);
      k.gemm(false, false, G, Dt, H, 1, dtp, 0, H, wa.data, H, H + Dt, 0, dtau, 0, Dt);
      timeFeaturesBackward(tt, G, this.p('net.time_emb.weight').data, dtau, gIn.t);
      k.fourierBackward(pos, edges, F, dpsi, gIn.pos);
    }
    if (gIn && ddv) {
      for (let e = 0; e < E; e++) {
        const i = edges.src[e]! * 3;
        const j = edges.dst[e]! * 3;
        for (let d = 0; d < 3; d++) {
          gIn.vel[j + d]! += ddv[e * 3 + d]!;
          gIn.vel[i + d]! -= ddv[e * 3 + d]!;
        }
      }
    }
    this.inputGrads = gIn;
    k.unpinAllOperands?.();
  }

  /**
   * bf16 path: bf16 copies of the weight matrices the GEMMs read, made once per forward and kept
   * through the backward (each is read by several GEMMs: W1's column blocks by six); released at
   * the end of predict/backward and at the start of every call, so a stepped weight is never
   * read through a stale copy.
   */
  private pinWeights(): void {
    const k = this.kernels;
    if (!k.pinOperand) return;
    for (const P of this.lp) for (const w of [P.e0W, P.e2W, P.n0W, P.n2W]) k.pinOperand(w.data, w.data.length);
    for (const name of ['net.atom_latent_emb.weight', 'net.out_v.0.weight']) {
      const w = this.p(name);
      k.pinOperand(w.data, w.data.length);
    }
  }
}

/** The float32 network used by training and sampling. */
export class CSPVNet extends CSPVNetCore implements ScoreNetwork {
  constructor(config: CSPVNetConfig, params: ParamStore<Float32Array>, kernels?: Kernels) {
    super(config, params as ParamStore<FloatArray>, kernels);
  }

  override predict(input: NetInput): NetOutput {
    return super.predict(input) as NetOutput;
  }

  override forward(input: NetInput): NetOutput {
    return super.forward(input) as NetOutput;
  }

  /** For DNG networks (typeOutputs), NetOutput.h is the type head and gradOut.h its gradient (absent = zero). */
  override backward(gradOut: NetOutput, opts: { inputGrads?: boolean } = {}): void {
    super.backward(gradOut, opts);
  }
}
