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
import { PassWorkspace } from './workspace.js';
export { PassWorkspace };

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
  /**
   * Scratch arrays kept from one call to the next (./workspace.ts): a caller that evaluates
   * similar batches over and over (relaxation: once per FIRE step) passes the same workspace every
   * time to avoid re-allocating them. Default: a fresh one per call. Not for concurrent use.
   */
  workspace?: PassWorkspace;
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
/** The weights in the pass's precision, converted once per model and precision (cached). */
function fastWeights(model: M3GNetModel, float64: boolean): FastWeights {
  let entry = weightCache.get(model);
  if (!entry) weightCache.set(model, (entry = {}));
  const key = float64 ? 'f64' : 'f32';
  const have = entry[key];
  if (have) return have;
  const alloc: Alloc = float64 ? (n) => new Float64Array(n) : (n) => new Float32Array(n);
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

/** What a pass needs from the model besides the weights, built once per model (not per pass). */
interface ModelStatics { typeOf: Map<string, number>; basis: SphericalBesselBasis }
const staticsCache = new WeakMap<M3GNetModel, ModelStatics>();
function modelStatics(model: M3GNetModel): ModelStatics {
  let s = staticsCache.get(model);
  if (!s) {
    const cfg = model.config;
    s = { typeOf: new Map(cfg.elementTypes.map((e, i) => [e, i])), basis: new SphericalBesselBasis(cfg.maxL, cfg.maxN, cfg.cutoff) };
    staticsCache.set(model, s);
  }
  return s;
}

interface GatedTape { rows: number; zValue: FloatArray[]; zGate: FloatArray[]; value: FloatArray; gate: FloatArray }

/**
 * Dense layers on the kernels. Arrays come from the pass workspace: `alloc` zeroed (for
 * accumulation), `scratch` uninitialised, for outputs the next kernel overwrites entirely.
 */
class Ops {
  constructor(readonly k: Kernels, readonly alloc: Alloc, readonly scratch: Alloc, readonly ws: PassWorkspace) {}

  /** z = x W^T + b (rows x out) */
  linear(w: FastLinear, x: FloatArray, rows: number): FloatArray {
    const z = this.scratch(rows * w.out);
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
    const out = this.scratch(rows * cols);
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
    const z = this.scratch(nE * U);
    if (nE === 0) return z;
    this.k.gemm(false, true, nE, U, K, 1, e, 0, K, l.weight, 2 * K, l.in, 0, z, 0, U);
    const temporaries = this.ws.mark();
    const ps = this.scratch(nA * U), pd = this.scratch(nA * U), rows = this.scratch(nE * U);
    this.k.gemm(false, true, nA, U, K, 1, v, 0, K, l.weight, 0, l.in, 0, ps, 0, U);
    this.k.gemm(false, true, nA, U, K, 1, v, 0, K, l.weight, K, l.in, 0, pd, 0, U);
    this.k.gatherRows(ps, src, U, rows);
    this.k.addInto(z, rows, z.length);
    this.k.gatherRows(pd, dst, U, rows);
    this.k.addInto(z, rows, z.length);
    this.ws.release(temporaries);
    if (l.bias) this.k.addBias(z, l.bias, nE, U);
    return z;
  }

  /** Backward of splitFirst: dv += scatter(dz)[src] W_s + scatter(dz)[dst] W_d, de += dz W_e. */
  splitFirstBack(l: FastLinear, dz: FloatArray, src: Int32Array, dst: Int32Array, nA: number, nE: number, dv: FloatArray, de: FloatArray): void {
    if (nE === 0) return;
    const U = l.out, K = l.in / 3;
    this.k.gemm(false, false, nE, K, U, 1, dz, 0, U, l.weight, 2 * K, l.in, 1, de, 0, K);
    const temporaries = this.ws.mark();
    const ds = this.alloc(nA * U), dd = this.alloc(nA * U);
    this.k.scatterAddRows(dz, src, U, ds);
    this.k.scatterAddRows(dz, dst, U, dd);
    this.k.gemm(false, false, nA, K, U, 1, ds, 0, U, l.weight, 0, l.in, 1, dv, 0, K);
    this.k.gemm(false, false, nA, K, U, 1, dd, 0, U, l.weight, K, l.in, 1, dv, 0, K);
    this.ws.release(temporaries);
  }

  /** A gated MLP; `first` gives the first layer's pre-activations when the caller computed them (splitFirst). */
  gatedForward(w: FastGated, x: FloatArray | null, rows: number, first?: { za: FloatArray; zg: FloatArray }): { out: FloatArray; tape: GatedTape } {
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
    }
    // last layer: gate = sigmoid(zg), out = value * gate, in one kernel sweep
    const zg = zGate[depth - 1]!;
    const gate = this.scratch(zg.length), out = this.scratch(zg.length);
    this.k.sigmoidGate(zg, a, zg.length, gate, out);
    return { out, tape: { rows, zValue, zGate, value: a, gate } };
  }

  /**
   * Backward of gatedForward. With dx, the input gradient is added into dx; without (first layer
   * formed by splitFirst), the first layer's pre-activation gradients are returned instead.
   */
  gatedBackward(w: FastGated, tape: GatedTape, dOut: FloatArray, dx: FloatArray | null): { dza: FloatArray; dzg: FloatArray } {
    const { rows } = tape;
    const depth = w.layers.length;
    const n = dOut.length;
    // last layer: da = dOut * gate and dzg = (dOut * value) * gate (1 - gate), in one kernel sweep
    let da = this.scratch(n);
    let dg = da; // reassigned before use: the last layer's gate gradient only feeds dzg, formed by the kernel
    let dzg = this.scratch(n);
    this.k.sigmoidGateBackward(dOut, tape.gate, tape.value, n, da, dzg);
    for (let i = depth - 1; i >= 0; i--) {
      const last = i === depth - 1;
      const za = tape.zValue[i]!, zg = tape.zGate[i]!;
      let dza = da;
      if (!last || w.activateLast) {
        dza = this.scratch(za.length);
        if (rows > 0) this.k.siluBackward(da, za, za.length, dza);
      }
      if (!last) {
        dzg = this.scratch(zg.length);
        if (rows > 0) this.k.siluBackward(dg, zg, zg.length, dzg);
      }
      if (i === 0) {
        if (dx === null) return { dza, dzg };
        this.linearBack(w.layers[0]!, dza, rows, dx);
        this.linearBack(w.gates[0]!, dzg, rows, dx);
      } else {
        da = this.alloc(rows * w.layers[i]!.in);
        dg = this.alloc(rows * w.gates[i]!.in);
        this.linearBack(w.layers[i]!, dza, rows, da);
        this.linearBack(w.gates[i]!, dzg, rows, dg);
      }
    }
    return { dza: da, dzg };
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
  const workspace = options.workspace ?? new PassWorkspace();
  const out: PotentialResult[] = [];
  let start = 0;
  while (start < structures.length) {
    let end = start + 1, atoms = structures[start]!.species.length;
    while (end < structures.length && atoms + structures[end]!.species.length <= maxAtoms) atoms += structures[end++]!.species.length;
    for (const r of evaluatePass(model, structures.slice(start, end), kernels, float64, workspace)) out.push(r);
    start = end;
  }
  return out;
}

/** One forward + backward pass over a chunk of structures. */
function evaluatePass(model: M3GNetModel, structures: readonly Structure[], kernels: Kernels, float64: boolean, ws: PassWorkspace): PotentialResult[] {
  ws.begin();
  // zeroed arrays where the pass accumulates (+=), uninitialised ones where it overwrites every element
  const alloc: Alloc = (n) => ws.float(n, float64);
  const scratch: Alloc = (n) => ws.float(n, float64, false);
  const geo = (n: number) => ws.geometry(n);
  const geoScratch = (n: number) => ws.geometry(n, false);
  const ops = new Ops(kernels, alloc, scratch, ws);
  const W = fastWeights(model, float64);
  const { typeOf, basis } = modelStatics(model);
  const cfg = model.config;
  const U = cfg.units, D = cfg.maxN * cfg.maxL, ML = cfg.maxL, MN = cfg.maxN;

  // ---- batch geometry (float64) ----------------------------------------------------------
  // per structure first (neighbour lists), then packed into batch arrays of known size
  const graphs: { g: ReturnType<typeof buildBondGraph>; cart: Float64Array; triples: ReturnType<typeof buildTriples> }[] = [];
  const atomOffsets = [0], edgeOffsets = [0], tripleCounts: number[] = [];
  const types: number[] = [];
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
    const dist = new Float64Array(g.src.length);
    for (let e = 0; e < g.src.length; e++) {
      const i = g.src[e]!, j = g.dst[e]!;
      let r2 = 0;
      for (let k = 0; k < 3; k++) {
        const d = cart[3 * j + k]! + g.offset[3 * e + k]! - cart[3 * i + k]!;
        r2 += d * d;
      }
      dist[e] = Math.sqrt(r2);
    }
    const triples = buildTriples(g, dist, cfg.threebodyCutoff);
    graphs.push({ g, cart, triples });
    tripleCounts.push(triples.a.length);
    atomOffsets.push(atomOffsets[atomOffsets.length - 1]! + n);
    edgeOffsets.push(edgeOffsets[edgeOffsets.length - 1]! + g.src.length);
  }
  const nA = types.length, nE = edgeOffsets[edgeOffsets.length - 1]!;
  const nT = tripleCounts.reduce((s, c) => s + c, 0);
  const src = ws.int32(nE, false), dst = ws.int32(nE, false), triA = ws.int32(nT, false), triB = ws.int32(nT, false);
  const vec = geoScratch(3 * nE);
  for (let si = 0, t0 = 0; si < graphs.length; si++) {
    const { g, cart, triples } = graphs[si]!;
    const a0 = atomOffsets[si]!, e0 = edgeOffsets[si]!;
    for (let e = 0; e < g.src.length; e++) {
      const i = g.src[e]!, j = g.dst[e]!;
      for (let k = 0; k < 3; k++) vec[3 * (e0 + e) + k] = cart[3 * j + k]! + g.offset[3 * e + k]! - cart[3 * i + k]!;
      src[e0 + e] = i + a0;
      dst[e0 + e] = j + a0;
    }
    for (let t = 0; t < triples.a.length; t++) {
      triA[t0 + t] = triples.a[t]! + e0;
      triB[t0 + t] = triples.b[t]! + e0;
    }
    t0 += triples.a.length;
  }
  const dist = geoScratch(nE);
  for (let e = 0; e < nE; e++) dist[e] = Math.hypot(vec[3 * e]!, vec[3 * e + 1]!, vec[3 * e + 2]!);
  const rbf64 = geoScratch(nE * D), drbf = geoScratch(nE * D), fc = geoScratch(nE), dfc = geoScratch(nE);
  for (let e = 0; e < nE; e++) {
    basis.evaluate(dist[e]!, rbf64, drbf, e * D);
    [fc[e], dfc[e]] = polynomialEnvelope(dist[e]!, cfg.threebodyCutoff);
  }
  const rbf = scratch(nE * D);
  rbf.set(rbf64);
  const cosT = geoScratch(nT), clamped = ws.uint8(nT);
  const yl = geoScratch(nT * ML), dyl = geoScratch(nT * ML);
  const tbBasis = geoScratch(nT * D), tbWeight = geoScratch(nT), endAtom = ws.int32(nT, false);
  for (let t = 0; t < nT; t++) {
    const a = triA[t]!, b = triB[t]!;
    let c = (vec[3 * a]! * vec[3 * b]! + vec[3 * a + 1]! * vec[3 * b + 1]! + vec[3 * a + 2]! * vec[3 * b + 2]!) / (dist[a]! * dist[b]!);
    if (c < -1 + COS_EPS || c > 1 - COS_EPS) {
      c = Math.min(1 - COS_EPS, Math.max(-1 + COS_EPS, c));
      clamped[t] = 1;
    }
    cosT[t] = c;
    sphericalHarmonicsL0(ML, c, yl, dyl, t * ML);
    const tD = t * D, bD = b * D;
    for (let l = 0; l < ML; l++) {
      const y = yl[t * ML + l]!;
      for (let m = 0; m < MN; m++) tbBasis[tD + l * MN + m] = rbf64[bD + l * MN + m]! * y;
    }
    tbWeight[t] = fc[a]! * fc[b]!;
    endAtom[t] = dst[b]!;
  }

  // ---- forward on the kernels ------------------------------------------------------------
  let v = scratch(nA * U);
  for (let i = 0; i < nA; i++) v.set(model.nodeEmbedding.subarray(types[i]! * U, (types[i]! + 1) * U), i * U);
  const zEdge = ops.linear(W.edgeEmbedding, rbf, nE);
  let e = ops.silu(zEdge, nE, U);
  const tapes: { atomW: FloatArray; tb: GatedTape; edge: GatedTape; edgeOut: FloatArray; edgeRbf: FloatArray; node: GatedTape; nodeOut: FloatArray; nodeRbf: FloatArray }[] = [];
  for (const blk of W.blocks) {
    const zA = ops.linear(blk.threeBodyAtom, v, nA);
    const atomW = scratch(zA.length);
    kernels.sigmoidGate(zA, null, zA.length, atomW, null);
    // three-body sum onto bond a of every triple (a, b) (same accumulation order as before)
    const nb = alloc(nE * D);
    for (let t = 0; t < nT; t++) {
      const aD = triA[t]! * D, kD = endAtom[t]! * D, tD = t * D, w = tbWeight[t]!;
      for (let c = 0; c < D; c++) nb[aD + c] += tbBasis[tD + c]! * atomW[kD + c]! * w;
    }
    const tb = ops.gatedForward(blk.threeBodyBond, nb, nE);
    const e1 = scratch(e.length);
    e1.set(e);
    kernels.addInto(e1, tb.out, e.length); // one rounded add per element, as the loop it replaces
    const edgeFirst = { za: ops.splitFirst(blk.edgeUpdate.layers[0]!, v, e1, src, dst, nA, nE), zg: ops.splitFirst(blk.edgeUpdate.gates[0]!, v, e1, src, dst, nA, nE) };
    const edge = ops.gatedForward(blk.edgeUpdate, null, nE, edgeFirst);
    const edgeRbf = ops.linear(blk.edgeWeight, rbf, nE);
    const e2 = scratch(e.length);
    kernels.hadamard(edge.out, edgeRbf, null, e.length, e2, null);
    kernels.addInto(e2, e1, e.length); // e2 = e1 + edge.out ⊙ edgeRbf
    const nodeFirst = { za: ops.splitFirst(blk.nodeUpdate.layers[0]!, v, e2, src, dst, nA, nE), zg: ops.splitFirst(blk.nodeUpdate.gates[0]!, v, e2, src, dst, nA, nE) };
    const node = ops.gatedForward(blk.nodeUpdate, null, nE, nodeFirst);
    const nodeRbf = ops.linear(blk.nodeWeight, rbf, nE);
    const msg = scratch(nE * U);
    kernels.hadamard(node.out, nodeRbf, null, msg.length, msg, null);
    const v2 = scratch(v.length);
    v2.set(v);
    if (nE > 0) kernels.scatterAddRows(msg, dst, U, v2);
    tapes.push({ atomW, tb: tb.tape, edge: edge.tape, edgeOut: edge.out, edgeRbf, node: node.tape, nodeOut: node.out, nodeRbf });
    v = v2;
    e = e2;
  }
  const readout = ops.gatedForward(W.readout, v, nA);

  // ---- backward ----------------------------------------------------------------------------
  let dv = alloc(nA * U);
  const dOut = scratch(nA);
  dOut.fill(model.dataStd);
  ops.gatedBackward(W.readout, readout.tape, dOut, dv);
  let de = alloc(nE * U);
  const dRbf = alloc(nE * D);
  const dTbBasis = geo(nT * D), dTbWeight = geo(nT);
  for (let bi = W.blocks.length - 1; bi >= 0; bi--) {
    const blk = W.blocks[bi]!, tp = tapes[bi]!;
    const dvIn = scratch(dv.length);
    dvIn.set(dv);
    const de1 = scratch(de.length); // filled below, once de has its node-update terms
    // everything else of this block is a temporary: its slots are reused by the next block
    const temporaries = ws.mark();
    const dMsg = scratch(nE * U);
    if (nE > 0) kernels.gatherRows(dv, dst, U, dMsg);
    const dGate = scratch(nE * U), dR = scratch(nE * U);
    kernels.hadamard(dMsg, tp.nodeRbf, tp.nodeOut, dMsg.length, dGate, dR);
    ops.linearBack(blk.nodeWeight, dR, nE, dRbf);
    const dNode = ops.gatedBackward(blk.nodeUpdate, tp.node, dGate, null);
    ops.splitFirstBack(blk.nodeUpdate.layers[0]!, dNode.dza, src, dst, nA, nE, dvIn, de);
    ops.splitFirstBack(blk.nodeUpdate.gates[0]!, dNode.dzg, src, dst, nA, nE, dvIn, de);
    de1.set(de);
    const dGe = scratch(nE * U), dRe = scratch(nE * U);
    kernels.hadamard(de, tp.edgeRbf, tp.edgeOut, de.length, dGe, dRe);
    ops.linearBack(blk.edgeWeight, dRe, nE, dRbf);
    const dEdge = ops.gatedBackward(blk.edgeUpdate, tp.edge, dGe, null);
    ops.splitFirstBack(blk.edgeUpdate.layers[0]!, dEdge.dza, src, dst, nA, nE, dvIn, de1);
    ops.splitFirstBack(blk.edgeUpdate.gates[0]!, dEdge.dzg, src, dst, nA, nE, dvIn, de1);
    const dNb = alloc(nE * D);
    ops.gatedBackward(blk.threeBodyBond, tp.tb, de1, dNb);
    const dAtomW = alloc(nA * D);
    const atomW = tp.atomW;
    for (let t = 0; t < nT; t++) {
      const aD = triA[t]! * D, kD = endAtom[t]! * D, tD = t * D, w = tbWeight[t]!;
      let dw = 0;
      for (let c = 0; c < D; c++) {
        const g = dNb[aD + c]!, bas = tbBasis[tD + c]!, aw = atomW[kD + c]!;
        dTbBasis[tD + c] += g * aw * w;
        dAtomW[kD + c] += g * bas * w;
        dw += g * bas * aw;
      }
      dTbWeight[t] += dw;
    }
    const dzA = scratch(dAtomW.length);
    kernels.sigmoidGateBackward(dAtomW, atomW, null, dAtomW.length, null, dzA);
    ops.linearBack(blk.threeBodyAtom, dzA, nA, dvIn);
    ws.release(temporaries);
    dv = dvIn;
    de = de1;
  }
  const dz0 = scratch(de.length);
  if (nE > 0) kernels.siluBackward(de, zEdge, de.length, dz0);
  ops.linearBack(W.edgeEmbedding, dz0, nE, dRbf);

  // ---- geometric backward (float64) -----------------------------------------------------------
  const dDist = geoScratch(nE), dVec = geo(3 * nE);
  for (let k = 0; k < nE; k++) {
    let g = 0;
    for (let c = 0; c < D; c++) g += dRbf[k * D + c]! * drbf[k * D + c]!;
    dDist[k] = g;
  }
  for (let t = 0; t < nT; t++) {
    const a = triA[t]!, b = triB[t]!;
    const dw = dTbWeight[t]!;
    dDist[a] += dw * fc[b]! * dfc[a]!;
    dDist[b] += dw * fc[a]! * dfc[b]!;
    let dCos = 0;
    const tD = t * D, bD = b * D, tL = t * ML;
    for (let l = 0; l < ML; l++) {
      let dY = 0;
      const y = yl[tL + l]!;
      for (let m = 0; m < MN; m++) {
        const c = tD + l * MN + m, cb = bD + l * MN + m;
        dDist[b] += dTbBasis[c]! * y * drbf[cb]!;
        dY += dTbBasis[c]! * rbf64[cb]!;
      }
      dCos += dY * dyl[tL + l]!;
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

  // ---- per-structure results (copied out of the workspace) ------------------------------------
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
