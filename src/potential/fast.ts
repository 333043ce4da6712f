/**
 * Batched M3GNet on the engine's kernels (src/engine): the same model and backward pass as the
 * float64 reference (./m3gnet.ts, which documents the maths), with every dense layer a GEMM over
 * all bonds (or atoms) of a batch of structures and the elementwise work on the kernels where they
 * have it. With the native kernels it runs in float32; with the reference kernels it can run in
 * float64, which is how it is tested against ./m3gnet.ts exactly.
 *
 * Geometry (neighbour lists, basis functions, the triple sums and the final chain rule to bond
 * vectors) stays in float64 TypeScript: it is a small share of the work.
 */
import type { Matrix3, Structure } from '../crystal/types.js';
import type { FloatArray, Kernels } from '../engine/kernels.js';
import { getKernels } from '../engine/select.js';
import { InputError } from '../util/errors.js';
import { SphericalBesselBasis, polynomialEnvelope, sphericalHarmonicsL0 } from './basis.js';
import type { PotentialResult } from './m3gnet.js';
import { buildBondGraph, buildTriples } from './neighbors.js';
import type { GatedMLPWeights, LinearWeights, M3GNetModel } from './weights.js';

export interface FastOptions {
  /** kernels to run on (default: the native engine when built, else the TypeScript reference) */
  kernels?: Kernels;
  /** run in float64 (reference kernels only); default float32 */
  float64?: boolean;
  /**
   * Largest number of atoms evaluated in one pass (default 512): bigger batches are cut into
   * consecutive chunks so that the activations kept for the backward pass stay bounded (about
   * 60 bond-sized arrays of 64 columns: ~30 bonds per atom, so ~250 MB float32 at 512 atoms).
   * A single structure larger than this is evaluated alone.
   */
  maxAtomsPerPass?: number;
}

type Alloc = (n: number) => FloatArray;

interface FastLinear { in: number; out: number; weight: FloatArray; bias: FloatArray | null }
interface FastGated { layers: FastLinear[]; gates: FastLinear[]; activateLast: boolean }

const COS_EPS = 1e-7;

function convertLinear(w: LinearWeights, alloc: Alloc): FastLinear {
  const weight = alloc(w.weight.length);
  weight.set(w.weight);
  let bias: FloatArray | null = null;
  if (w.bias) {
    bias = alloc(w.bias.length);
    bias.set(w.bias);
  }
  return { in: w.in, out: w.out, weight, bias };
}
function convertGated(w: GatedMLPWeights, alloc: Alloc): FastGated {
  return { layers: w.layers.map((l) => convertLinear(l, alloc)), gates: w.gates.map((l) => convertLinear(l, alloc)), activateLast: w.activateLast };
}

interface FastWeights {
  edgeEmbedding: FastLinear;
  blocks: { threeBodyAtom: FastLinear; threeBodyBond: FastGated; edgeUpdate: FastGated; edgeWeight: FastLinear; nodeUpdate: FastGated; nodeWeight: FastLinear }[];
  readout: FastGated;
}
const weightCache = new WeakMap<M3GNetModel, { f32?: FastWeights; f64?: FastWeights }>();
function fastWeights(model: M3GNetModel, float64: boolean, alloc: Alloc): FastWeights {
  let entry = weightCache.get(model);
  if (!entry) weightCache.set(model, (entry = {}));
  const key = float64 ? 'f64' : 'f32';
  const have = entry[key];
  if (have) return have;
  const w: FastWeights = {
    edgeEmbedding: convertLinear(model.edgeEmbedding, alloc),
    blocks: model.blocks.map((b) => ({
      threeBodyAtom: convertLinear(b.threeBodyAtom, alloc),
      threeBodyBond: convertGated(b.threeBodyBond, alloc),
      edgeUpdate: convertGated(b.edgeUpdate, alloc),
      edgeWeight: convertLinear(b.edgeWeight, alloc),
      nodeUpdate: convertGated(b.nodeUpdate, alloc),
      nodeWeight: convertLinear(b.nodeWeight, alloc),
    })),
    readout: convertGated(model.readout, alloc),
  };
  entry[key] = w;
  return w;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Dense layers on the kernels. */
class Ops {
  constructor(readonly k: Kernels, readonly alloc: Alloc) {}

  /** z = x W^T + b (rows x out) */
  linear(w: FastLinear, x: FloatArray, rows: number): FloatArray {
    const z = this.alloc(rows * w.out);
    if (rows === 0) return z;
    this.k.gemm(false, true, rows, w.out, w.in, 1, x, 0, w.in, w.weight, 0, w.in, 0, z, 0, w.out);
    if (w.bias) this.k.addBias(z, w.bias, rows, w.out);
    return z;
  }

  /** dx += dz W */
  linearBack(w: FastLinear, dz: FloatArray, rows: number, dx: FloatArray): void {
    if (rows === 0) return;
    this.k.gemm(false, false, rows, w.in, w.out, 1, dz, 0, w.out, w.weight, 0, w.in, 1, dx, 0, w.in);
  }

  silu(z: FloatArray, rows: number, cols: number): FloatArray {
    const out = this.alloc(rows * cols);
    if (rows > 0) this.k.biasSilu(z, null, rows, cols, out);
    return out;
  }

  /**
   * The first layer on the bond input [v_src, v_dst, e] (widths U, U, U) without forming it:
   * z = (v W_s^T)[src] + (v W_d^T)[dst] + e W_e^T + b, with W = [W_s | W_d | W_e] used in place
   * (column blocks, leading dimension 3U). Two atom-sized GEMMs replace two thirds of a bond-sized one.
   */
  splitFirst(l: FastLinear, v: FloatArray, e: FloatArray, src: Int32Array, dst: Int32Array, nA: number, nE: number): FloatArray {
    const U = l.out, K = l.in / 3;
    const z = this.alloc(nE * U);
    if (nE === 0) return z;
    this.k.gemm(false, true, nE, U, K, 1, e, 0, K, l.weight, 2 * K, l.in, 0, z, 0, U);
    const ps = this.alloc(nA * U), pd = this.alloc(nA * U), rows = this.alloc(nE * U);
    this.k.gemm(false, true, nA, U, K, 1, v, 0, K, l.weight, 0, l.in, 0, ps, 0, U);
    this.k.gemm(false, true, nA, U, K, 1, v, 0, K, l.weight, K, l.in, 0, pd, 0, U);
    this.k.gatherRows(ps, src, U, rows);
    this.k.addInto(z, rows, z.length);
    this.k.gatherRows(pd, dst, U, rows);
    this.k.addInto(z, rows, z.length);
    if (l.bias) this.k.addBias(z, l.bias, nE, U);
    return z;
  }

  /** Backward of splitFirst: dv += scatter(dz)[src] W_s + scatter(dz)[dst] W_d, de += dz W_e. */
  splitFirstBack(l: FastLinear, dz: FloatArray, src: Int32Array, dst: Int32Array, nA: number, nE: number, dv: FloatArray, de: FloatArray): void {
    if (nE === 0) return;
    const U = l.out, K = l.in / 3;
    this.k.gemm(false, false, nE, K, U, 1, dz, 0, U, l.weight, 2 * K, l.in, 1, de, 0, K);
    const ds = this.alloc(nA * U), dd = this.alloc(nA * U);
    this.k.scatterAddRows(dz, src, U, ds);
    this.k.scatterAddRows(dz, dst, U, dd);
    this.k.gemm(false, false, nA, K, U, 1, ds, 0, U, l.weight, 0, l.in, 1, dv, 0, K);
    this.k.gemm(false, false, nA, K, U, 1, dd, 0, U, l.weight, K, l.in, 1, dv, 0, K);
  }

  /** A gated MLP; `first` gives the first layer's pre-activations when the caller computed them (splitFirst). */
  gatedForward(w: FastGated, x: FloatArray | null, rows: number, first?: { za: FloatArray; zg: FloatArray }) {
    const zValue: FloatArray[] = [], zGate: FloatArray[] = [];
    let a = x!, g = x!;
    const depth = w.layers.length;
    for (let i = 0; i < depth; i++) {
      const za = i === 0 && first ? first.za : this.linear(w.layers[i]!, a, rows);
      const zg = i === 0 && first ? first.zg : this.linear(w.gates[i]!, g, rows);
      zValue.push(za);
      zGate.push(zg);
      const cols = w.layers[i]!.out;
      const last = i === depth - 1;
      a = !last || w.activateLast ? this.silu(za, rows, cols) : za;
      if (!last) g = this.silu(zg, rows, cols);
      else {
        g = this.alloc(zg.length);
        for (let q = 0; q < zg.length; q++) g[q] = sigmoid(zg[q]!);
      }
    }
    const out = this.alloc(a.length);
    for (let q = 0; q < a.length; q++) out[q] = a[q]! * g[q]!;
    return { out, tape: { rows, zValue, zGate, value: a, gate: g } };
  }

  /** Input gradient of gatedForward added into dx, or, with `first`, the first layer's pre-activation gradients written there. */
  gatedBackward(w: FastGated, tape: { rows: number; zValue: FloatArray[]; zGate: FloatArray[]; value: FloatArray; gate: FloatArray }, dOut: FloatArray, dx: FloatArray | null, first?: { dza: FloatArray; dzg: FloatArray }): void {
    const { rows } = tape;
    const depth = w.layers.length;
    let da = this.alloc(dOut.length), dg = this.alloc(dOut.length);
    for (let q = 0; q < dOut.length; q++) {
      da[q] = dOut[q]! * tape.gate[q]!;
      dg[q] = dOut[q]! * tape.value[q]!;
    }
    for (let i = depth - 1; i >= 0; i--) {
      const last = i === depth - 1;
      const za = tape.zValue[i]!, zg = tape.zGate[i]!;
      let dza = da;
      if (!last || w.activateLast) {
        dza = this.alloc(za.length);
        if (rows > 0) this.k.siluBackward(da, za, za.length, dza);
      }
      const dzg = this.alloc(zg.length);
      if (last) {
        for (let q = 0; q < zg.length; q++) {
          const s = tape.gate[q]!;
          dzg[q] = dg[q]! * s * (1 - s);
        }
      } else if (rows > 0) this.k.siluBackward(dg, zg, zg.length, dzg);
      if (i === 0 && first) {
        first.dza.set(dza);
        first.dzg.set(dzg);
      } else if (i === 0) {
        this.linearBack(w.layers[0]!, dza, rows, dx!);
        this.linearBack(w.gates[0]!, dzg, rows, dx!);
      } else {
        da = this.alloc(rows * w.layers[i]!.in);
        dg = this.alloc(rows * w.gates[i]!.in);
        this.linearBack(w.layers[i]!, dza, rows, da);
        this.linearBack(w.gates[i]!, dzg, rows, dg);
      }
    }
  }
}

function det3(m: Matrix3): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

/** Energy, forces and stress of each periodic structure of a batch, in one pass. */
export function m3gnetBatch(model: M3GNetModel, structures: readonly Structure[], options: FastOptions = {}): PotentialResult[] {
  const kernels = options.kernels ?? getKernels();
  const float64 = options.float64 ?? false;
  if (float64 && !kernels.supportsFloat64) throw new InputError(`the ${kernels.name} kernels run in float32 only`);
  const maxAtoms = options.maxAtomsPerPass ?? 512;
  if (!(maxAtoms >= 1)) throw new InputError(`maxAtomsPerPass must be at least 1 (got ${maxAtoms})`);
  const out: PotentialResult[] = [];
  let start = 0;
  while (start < structures.length) {
    let end = start + 1, atoms = structures[start]!.species.length;
    while (end < structures.length && atoms + structures[end]!.species.length <= maxAtoms) atoms += structures[end++]!.species.length;
    out.push(...evaluatePass(model, structures.slice(start, end), kernels, float64));
    start = end;
  }
  return out;
}

/** One forward + backward pass over a chunk of structures. */
function evaluatePass(model: M3GNetModel, structures: readonly Structure[], kernels: Kernels, float64: boolean): PotentialResult[] {
  const alloc: Alloc = float64 ? (n) => new Float64Array(n) : (n) => new Float32Array(n);
  const ops = new Ops(kernels, alloc);
  const W = fastWeights(model, float64, alloc);
  const cfg = model.config;
  const U = cfg.units, D = cfg.maxN * cfg.maxL, ML = cfg.maxL, MN = cfg.maxN;
  const typeOf = new Map(cfg.elementTypes.map((s, i) => [s, i]));
  const basis = new SphericalBesselBasis(cfg.maxL, cfg.maxN, cfg.cutoff);

  // ---- batch geometry (float64) ----------------------------------------------------------
  const atomOffsets = [0], edgeOffsets = [0], tripleCounts: number[] = [];
  const srcs: number[] = [], dsts: number[] = [], types: number[] = [];
  const vecs: number[] = [];
  const triA: number[] = [], triB: number[] = [];
  for (const s of structures) {
    const n = s.species.length;
    if (s.frac.length !== 3 * n) throw new InputError(`structure has ${n} species but ${s.frac.length / 3} coordinates`);
    const L = s.lattice;
    const cart = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) {
      const t = typeOf.get(s.species[i]!);
      if (t === undefined) throw new InputError(`element '${s.species[i]}' is not covered by the M3GNet potential`);
      types.push(t);
      for (let k = 0; k < 3; k++) cart[3 * i + k] = s.frac[3 * i]! * L[k]! + s.frac[3 * i + 1]! * L[3 + k]! + s.frac[3 * i + 2]! * L[6 + k]!;
    }
    for (const x of cart) if (!Number.isFinite(x)) throw new InputError('positions contain a non-finite number');
    const g = buildBondGraph(cart, L, cfg.cutoff);
    const a0 = atomOffsets[atomOffsets.length - 1]!, e0 = edgeOffsets[edgeOffsets.length - 1]!;
    const dist = new Float64Array(g.src.length);
    for (let e = 0; e < g.src.length; e++) {
      const i = g.src[e]!, j = g.dst[e]!;
      let r2 = 0;
      for (let k = 0; k < 3; k++) {
        const d = cart[3 * j + k]! + g.offset[3 * e + k]! - cart[3 * i + k]!;
        vecs.push(d);
        r2 += d * d;
      }
      dist[e] = Math.sqrt(r2);
      srcs.push(i + a0);
      dsts.push(j + a0);
    }
    const tr = buildTriples(g, dist, cfg.threebodyCutoff);
    tripleCounts.push(tr.a.length);
    for (let t = 0; t < tr.a.length; t++) {
      triA.push(tr.a[t]! + e0);
      triB.push(tr.b[t]! + e0);
    }
    atomOffsets.push(a0 + n);
    edgeOffsets.push(e0 + g.src.length);
  }
  const nA = types.length, nE = srcs.length, nT = triA.length;
  const src = Int32Array.from(srcs), dst = Int32Array.from(dsts);
  const vec = Float64Array.from(vecs);
  const dist = new Float64Array(nE);
  for (let e = 0; e < nE; e++) dist[e] = Math.hypot(vec[3 * e]!, vec[3 * e + 1]!, vec[3 * e + 2]!);
  const rbf64 = new Float64Array(nE * D), drbf = new Float64Array(nE * D), fc = new Float64Array(nE), dfc = new Float64Array(nE);
  for (let e = 0; e < nE; e++) {
    basis.evaluate(dist[e]!, rbf64, drbf, e * D);
    [fc[e], dfc[e]] = polynomialEnvelope(dist[e]!, cfg.threebodyCutoff);
  }
  const rbf = alloc(nE * D);
  rbf.set(rbf64);
  const cosT = new Float64Array(nT), clamped = new Uint8Array(nT);
  const yl = new Float64Array(nT * ML), dyl = new Float64Array(nT * ML);
  const tbBasis = new Float64Array(nT * D), tbWeight = new Float64Array(nT), endAtom = new Int32Array(nT);
  for (let t = 0; t < nT; t++) {
    const a = triA[t]!, b = triB[t]!;
    let c = (vec[3 * a]! * vec[3 * b]! + vec[3 * a + 1]! * vec[3 * b + 1]! + vec[3 * a + 2]! * vec[3 * b + 2]!) / (dist[a]! * dist[b]!);
    if (c < -1 + COS_EPS || c > 1 - COS_EPS) {
      c = Math.min(1 - COS_EPS, Math.max(-1 + COS_EPS, c));
      clamped[t] = 1;
    }
    cosT[t] = c;
    sphericalHarmonicsL0(ML, c, yl.subarray(t * ML), dyl.subarray(t * ML));
    for (let l = 0; l < ML; l++) for (let m = 0; m < MN; m++) tbBasis[t * D + l * MN + m] = rbf64[b * D + l * MN + m]! * yl[t * ML + l]!;
    tbWeight[t] = fc[a]! * fc[b]!;
    endAtom[t] = dst[b]!;
  }

  // ---- forward on the kernels ------------------------------------------------------------
  let v = alloc(nA * U);
  for (let i = 0; i < nA; i++) v.set(model.nodeEmbedding.subarray(types[i]! * U, (types[i]! + 1) * U), i * U);
  const zEdge = ops.linear(W.edgeEmbedding, rbf, nE);
  let e = ops.silu(zEdge, nE, U);
  type Tape = ReturnType<Ops['gatedForward']>['tape'];
  const tapes: { atomW: FloatArray; tb: Tape; edge: Tape; edgeOut: FloatArray; edgeRbf: FloatArray; node: Tape; nodeOut: FloatArray; nodeRbf: FloatArray }[] = [];
  for (const blk of W.blocks) {
    const zA = ops.linear(blk.threeBodyAtom, v, nA);
    const atomW = alloc(zA.length);
    for (let q = 0; q < zA.length; q++) atomW[q] = sigmoid(zA[q]!);
    const nb = alloc(nE * D);
    for (let t = 0; t < nT; t++) {
      const a = triA[t]!, k = endAtom[t]!, w = tbWeight[t]!;
      for (let c = 0; c < D; c++) nb[a * D + c] += tbBasis[t * D + c]! * atomW[k * D + c]! * w;
    }
    const tb = ops.gatedForward(blk.threeBodyBond, nb, nE);
    const e1 = alloc(e.length);
    for (let q = 0; q < e.length; q++) e1[q] = e[q]! + tb.out[q]!;
    const edgeFirst = { za: ops.splitFirst(blk.edgeUpdate.layers[0]!, v, e1, src, dst, nA, nE), zg: ops.splitFirst(blk.edgeUpdate.gates[0]!, v, e1, src, dst, nA, nE) };
    const edge = ops.gatedForward(blk.edgeUpdate, null, nE, edgeFirst);
    const edgeRbf = ops.linear(blk.edgeWeight, rbf, nE);
    const e2 = alloc(e.length);
    for (let q = 0; q < e.length; q++) e2[q] = e1[q]! + edge.out[q]! * edgeRbf[q]!;
    const nodeFirst = { za: ops.splitFirst(blk.nodeUpdate.layers[0]!, v, e2, src, dst, nA, nE), zg: ops.splitFirst(blk.nodeUpdate.gates[0]!, v, e2, src, dst, nA, nE) };
    const node = ops.gatedForward(blk.nodeUpdate, null, nE, nodeFirst);
    const nodeRbf = ops.linear(blk.nodeWeight, rbf, nE);
    const msg = alloc(nE * U);
    for (let q = 0; q < msg.length; q++) msg[q] = node.out[q]! * nodeRbf[q]!;
    const v2 = alloc(v.length);
    v2.set(v);
    if (nE > 0) kernels.scatterAddRows(msg, dst, U, v2);
    tapes.push({ atomW, tb: tb.tape, edge: edge.tape, edgeOut: edge.out, edgeRbf, node: node.tape, nodeOut: node.out, nodeRbf });
    v = v2;
    e = e2;
  }
  const readout = ops.gatedForward(W.readout, v, nA);

  // ---- backward ----------------------------------------------------------------------------
  let dv = alloc(nA * U);
  const dOut = alloc(nA);
  dOut.fill(model.dataStd);
  ops.gatedBackward(W.readout, readout.tape, dOut, dv);
  let de = alloc(nE * U);
  const dRbf = alloc(nE * D);
  const dTbBasis = new Float64Array(nT * D), dTbWeight = new Float64Array(nT);
  for (let bi = W.blocks.length - 1; bi >= 0; bi--) {
    const blk = W.blocks[bi]!, tp = tapes[bi]!;
    const dvIn = alloc(dv.length);
    dvIn.set(dv);
    const dMsg = alloc(nE * U);
    if (nE > 0) kernels.gatherRows(dv, dst, U, dMsg);
    const dGate = alloc(nE * U), dR = alloc(nE * U);
    for (let q = 0; q < dMsg.length; q++) {
      dGate[q] = dMsg[q]! * tp.nodeRbf[q]!;
      dR[q] = dMsg[q]! * tp.nodeOut[q]!;
    }
    ops.linearBack(blk.nodeWeight, dR, nE, dRbf);
    const dNode = { dza: alloc(nE * U), dzg: alloc(nE * U) };
    ops.gatedBackward(blk.nodeUpdate, tp.node, dGate, null, dNode);
    ops.splitFirstBack(blk.nodeUpdate.layers[0]!, dNode.dza, src, dst, nA, nE, dvIn, de);
    ops.splitFirstBack(blk.nodeUpdate.gates[0]!, dNode.dzg, src, dst, nA, nE, dvIn, de);
    const de1 = alloc(de.length);
    de1.set(de);
    const dGe = alloc(nE * U), dRe = alloc(nE * U);
    for (let q = 0; q < de.length; q++) {
      dGe[q] = de[q]! * tp.edgeRbf[q]!;
      dRe[q] = de[q]! * tp.edgeOut[q]!;
    }
    ops.linearBack(blk.edgeWeight, dRe, nE, dRbf);
    const dEdge = { dza: alloc(nE * U), dzg: alloc(nE * U) };
    ops.gatedBackward(blk.edgeUpdate, tp.edge, dGe, null, dEdge);
    ops.splitFirstBack(blk.edgeUpdate.layers[0]!, dEdge.dza, src, dst, nA, nE, dvIn, de1);
    ops.splitFirstBack(blk.edgeUpdate.gates[0]!, dEdge.dzg, src, dst, nA, nE, dvIn, de1);
    const dNb = alloc(nE * D);
    ops.gatedBackward(blk.threeBodyBond, tp.tb, de1, dNb);
    const dAtomW = alloc(nA * D);
    for (let t = 0; t < nT; t++) {
      const a = triA[t]!, k = endAtom[t]!, w = tbWeight[t]!;
      let dw = 0;
      for (let c = 0; c < D; c++) {
        const g = dNb[a * D + c]!, bas = tbBasis[t * D + c]!, aw = tp.atomW[k * D + c]!;
        dTbBasis[t * D + c] += g * aw * w;
        dAtomW[k * D + c] += g * bas * w;
        dw += g * bas * aw;
      }
      dTbWeight[t] += dw;
    }
    const dzA = alloc(dAtomW.length);
    for (let q = 0; q < dAtomW.length; q++) dzA[q] = dAtomW[q]! * tp.atomW[q]! * (1 - tp.atomW[q]!);
    ops.linearBack(blk.threeBodyAtom, dzA, nA, dvIn);
    dv = dvIn;
    de = de1;
  }
  const dz0 = alloc(de.length);
  if (nE > 0) kernels.siluBackward(de, zEdge, de.length, dz0);
  ops.linearBack(W.edgeEmbedding, dz0, nE, dRbf);

  // ---- geometric backward (float64) -----------------------------------------------------------
  const dDist = new Float64Array(nE), dVec = new Float64Array(3 * nE);
  for (let k = 0; k < nE; k++) {
    let g = 0;
    for (let c = 0; c < D; c++) g += dRbf[k * D + c]! * drbf[k * D + c]!;
    dDist[k] = g;
  }
  for (let t = 0; t < nT; t++) {
    const a = triA[t]!, b = triB[t]!;
    dDist[a] += dTbWeight[t]! * fc[b]! * dfc[a]!;
    dDist[b] += dTbWeight[t]! * fc[a]! * dfc[b]!;
    let dCos = 0;
    for (let l = 0; l < ML; l++) {
      let dY = 0;
      for (let m = 0; m < MN; m++) {
        const c = t * D + l * MN + m, cb = b * D + l * MN + m;
        dDist[b] += dTbBasis[c]! * yl[t * ML + l]! * drbf[cb]!;
        dY += dTbBasis[c]! * rbf64[cb]!;
      }
      dCos += dY * dyl[t * ML + l]!;
    }
    if (clamped[t]) continue;
    const ra = dist[a]!, rb = dist[b]!, c = cosT[t]!;
    for (let k = 0; k < 3; k++) {
      const va = vec[3 * a + k]!, vb = vec[3 * b + k]!;
      dVec[3 * a + k] += dCos * (vb / (ra * rb) - (c * va) / (ra * ra));
      dVec[3 * b + k] += dCos * (va / (ra * rb) - (c * vb) / (rb * rb));
    }
  }
  for (let k = 0; k < nE; k++) {
    const g = dDist[k]! / dist[k]!;
    for (let c = 0; c < 3; c++) dVec[3 * k + c] += g * vec[3 * k + c]!;
  }

  // ---- per-structure results ------------------------------------------------------------------
  return structures.map((s, si) => {
    const a0 = atomOffsets[si]!, a1 = atomOffsets[si + 1]!, e0 = edgeOffsets[si]!, e1 = edgeOffsets[si + 1]!;
    let sum = 0, refs = 0;
    for (let i = a0; i < a1; i++) {
      sum += readout.out[i]!;
      refs += model.elementRefs[types[i]!]!;
    }
    const forces = new Float64Array(3 * (a1 - a0));
    const dStrain = new Float64Array(9);
    for (let k = e0; k < e1; k++) {
      const i = src[k]! - a0, j = dst[k]! - a0;
      for (let c = 0; c < 3; c++) {
        forces[3 * i + c] += dVec[3 * k + c]!;
        forces[3 * j + c] -= dVec[3 * k + c]!;
      }
      for (let p = 0; p < 3; p++) for (let q = 0; q < 3; q++) dStrain[3 * p + q] += vec[3 * k + p]! * dVec[3 * k + q]!;
    }
    const volume = Math.abs(det3(s.lattice));
    return { energy: model.dataStd * sum + model.dataMean + refs, forces, stress: dStrain.map((x) => x / volume), nBonds: e1 - e0, nTriples: tripleCounts[si]! };
  });
}
