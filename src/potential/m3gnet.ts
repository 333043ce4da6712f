/**
 * M3GNet interatomic potential, float64 reference (Chen & Ong, "A universal graph deep learning
 * interatomic potential for the periodic table", Nat. Comput. Sci. 2, 718 (2022), Methods),
 * with the layer layout of matgl's M3GNet-MP-2021.2.8-PES weights.
 *
 * Forward: bonds within 5 Å carry the spherical Bessel basis rbf(r) (9 columns) and an embedded
 * feature e = SiLU(W rbf + b); atoms carry v = embedding[type]. Each of the 3 blocks
 *   three-body  e += gMLP( sum_k rbf(r_ik) Y_l(cos theta_jik) sigmoid(W v_k + b) fc(r_ij) fc(r_ik) )
 *   edge        e += gMLP([v_i, v_j, e]) * (W_e rbf)
 *   node        v_j += sum_{bonds i->j} gMLP([v_i, v_j, e]) * (W_v rbf)
 * then E = std * sum_atoms gMLP_out(v) + mean + sum_atoms ref[type]   (eV).
 * fc is the polynomial envelope at the 4 Å three-body cutoff; the three-body radial basis uses
 * the 5 Å graph cutoff (as the trained model does), so it is the bond basis rbf(r_ik) itself and is
 * read from bond i->k instead of being evaluated again per triple.
 *
 * Backward (written out, llm.c style): one reverse sweep gives dE/d(bond vector) for every bond;
 * forces are F_i = -dE/dr_i = sum_{bonds i->j} g - sum_{bonds j->i} g, and the strain derivative
 * is dE/d eps = sum_bonds d (x) g, with every position and lattice row mapped r -> r (I + eps).
 * Stress = (1/V) dE/d eps in eV/Å^3 (ASE's sign: positive = tensile, the cell wants to shrink);
 * multiply by EV_PER_A3_TO_GPA for GPa (matgl's unit).
 */
import type { Matrix3, Structure } from '../crystal/types.js';
import { InputError } from '../util/errors.js';
import { SphericalBesselBasis, polynomialEnvelope, sphericalHarmonicsL0 } from './basis.js';
import { gatedMLPBackward, gatedMLPForward, linearBackward, linearForward, sigmoid, type GatedMLPTape } from './layers.js';
import { buildBondGraph, buildTriples, type BondGraph, type Triples } from './neighbors.js';
import type { M3GNetModel } from './weights.js';

/** 1 eV/Å^3 in GPa (matgl's factor). */
export const EV_PER_A3_TO_GPA = 160.21766208;

export interface PotentialResult {
  /** total energy (eV) */
  energy: number;
  /** -dE/dr (eV/Å), N x 3 row-major */
  forces: Float64Array;
  /** (1/V) dE/d strain (eV/Å^3), 3x3 row-major; null for a molecule */
  stress: Float64Array | null;
  nBonds: number;
  nTriples: number;
}

/** Cosines are clamped like matgl to keep acos-free but bounded; the clamp has zero gradient. */
const COS_EPS = 1e-7;

function typeIndices(model: M3GNetModel, species: readonly string[]): Int32Array {
  const index = new Map(model.config.elementTypes.map((s, i) => [s, i]));
  return Int32Array.from(species, (s) => {
    const k = index.get(s);
    if (k === undefined) throw new InputError(`element '${s}' is not covered by the M3GNet potential (it knows ${model.config.elementTypes.length} elements, H to Pu without Po-Ra)`);
    return k;
  });
}

const basisCache = new WeakMap<M3GNetModel, SphericalBesselBasis>();
function radialBasis(model: M3GNetModel): SphericalBesselBasis {
  let b = basisCache.get(model);
  if (!b) {
    b = new SphericalBesselBasis(model.config.maxL, model.config.maxN, model.config.cutoff);
    basisCache.set(model, b);
  }
  return b;
}

/** Energy, forces and stress of a periodic crystal. */
export function m3gnetStructure(model: M3GNetModel, s: Structure): PotentialResult {
  const n = s.species.length;
  if (s.frac.length !== 3 * n) throw new InputError(`structure has ${n} species but ${s.frac.length / 3} coordinates`);
  const L = s.lattice;
  const cart = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) cart[3 * i + k] = s.frac[3 * i]! * L[k]! + s.frac[3 * i + 1]! * L[3 + k]! + s.frac[3 * i + 2]! * L[6 + k]!;
  }
  return m3gnetEvaluate(model, s.species, cart, L);
}

/** Energy and forces of a molecule (no periodic images); stress is null. */
export function m3gnetMolecule(model: M3GNetModel, species: readonly string[], cart: Float64Array): PotentialResult {
  if (cart.length !== 3 * species.length) throw new InputError(`molecule has ${species.length} species but ${cart.length / 3} positions`);
  return m3gnetEvaluate(model, species, cart, null);
}

function det3(m: Matrix3): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

/** Forward and backward through the whole model for one system. */
export function m3gnetEvaluate(model: M3GNetModel, species: readonly string[], cart: Float64Array, lattice: Matrix3 | null): PotentialResult {
  for (const x of cart) if (!Number.isFinite(x)) throw new InputError('positions contain a non-finite number');
  const cfg = model.config;
  const types = typeIndices(model, species);
  const nAtoms = types.length;
  const U = cfg.units;
  const D = cfg.maxN * cfg.maxL;
  const graph: BondGraph = buildBondGraph(cart, lattice, cfg.cutoff);
  const nE = graph.src.length;

  // ---- geometry of bonds -------------------------------------------------------------
  const vec = new Float64Array(3 * nE), dist = new Float64Array(nE);
  for (let e = 0; e < nE; e++) {
    const i = graph.src[e]!, j = graph.dst[e]!;
    let r2 = 0;
    for (let k = 0; k < 3; k++) {
      const d = cart[3 * j + k]! + graph.offset[3 * e + k]! - cart[3 * i + k]!;
      vec[3 * e + k] = d;
      r2 += d * d;
    }
    dist[e] = Math.sqrt(r2);
  }
  const basis = radialBasis(model);
  const rbf = new Float64Array(nE * D), drbf = new Float64Array(nE * D);
  const fc = new Float64Array(nE), dfc = new Float64Array(nE);
  for (let e = 0; e < nE; e++) {
    basis.evaluate(dist[e]!, rbf, drbf, e * D);
    [fc[e], dfc[e]] = polynomialEnvelope(dist[e]!, cfg.threebodyCutoff);
  }

  // ---- three-body geometry: basis(r_ik, theta_jik) and the envelope weights --------------
  const triples: Triples = buildTriples(graph, dist, cfg.threebodyCutoff);
  const nT = triples.a.length;
  const cosT = new Float64Array(nT), clamped = new Uint8Array(nT);
    const yl = new Float64Array(nT * cfg.maxL), dyl = new Float64Array(nT * cfg.maxL);
  const tbBasis = new Float64Array(nT * D), tbWeight = new Float64Array(nT);
  const endAtom = new Int32Array(nT);
  for (let t = 0; t < nT; t++) {
    const a = triples.a[t]!, b = triples.b[t]!;
    let dot = 0;
    for (let k = 0; k < 3; k++) dot += vec[3 * a + k]! * vec[3 * b + k]!;
    let c = dot / (dist[a]! * dist[b]!);
    if (c < -1 + COS_EPS || c > 1 - COS_EPS) {
      c = Math.min(1 - COS_EPS, Math.max(-1 + COS_EPS, c));
      clamped[t] = 1;
    }
    cosT[t] = c;
    sphericalHarmonicsL0(cfg.maxL, c, yl.subarray(t * cfg.maxL), dyl.subarray(t * cfg.maxL));
    for (let l = 0; l < cfg.maxL; l++) {
      for (let m = 0; m < cfg.maxN; m++) tbBasis[t * D + l * cfg.maxN + m] = rbf[b * D + l * cfg.maxN + m]! * yl[t * cfg.maxL + l]!;
    }
    tbWeight[t] = fc[a]! * fc[b]!;
    endAtom[t] = graph.dst[b]!;
  }

  // ---- embedding ---------------------------------------------------------------------
  let v = new Float64Array(nAtoms * U);
  for (let i = 0; i < nAtoms; i++) v.set(model.nodeEmbedding.subarray(types[i]! * U, (types[i]! + 1) * U), i * U);
  const zEdge = linearForward(model.edgeEmbedding, rbf, nE);
  let e = new Float64Array(zEdge.length);
  for (let k = 0; k < zEdge.length; k++) e[k] = zEdge[k]! * sigmoid(zEdge[k]!);

  // ---- blocks ------------------------------------------------------------------------
  interface BlockTape {
    vIn: Float64Array;
    atomW: Float64Array;
    tbTape: GatedMLPTape;
    edgeTape: GatedMLPTape;
    edgeGate: Float64Array; // gMLP_e output
    edgeRbf: Float64Array; // W_e rbf
    nodeTape: GatedMLPTape;
    nodeGate: Float64Array;
    nodeRbf: Float64Array;
  }
  const tapes: BlockTape[] = [];
  const concat = (vv: Float64Array, ee: Float64Array): Float64Array => {
    const x = new Float64Array(nE * 3 * U);
    for (let k = 0; k < nE; k++) {
      const o = k * 3 * U;
      x.set(vv.subarray(graph.src[k]! * U, (graph.src[k]! + 1) * U), o);
      x.set(vv.subarray(graph.dst[k]! * U, (graph.dst[k]! + 1) * U), o + U);
      x.set(ee.subarray(k * U, (k + 1) * U), o + 2 * U);
    }
    return x;
  };
  for (const blk of model.blocks) {
    // three-body update
    const zA = linearForward(blk.threeBodyAtom, v, nAtoms);
    const atomW = new Float64Array(zA.length);
    for (let k = 0; k < zA.length; k++) atomW[k] = sigmoid(zA[k]!);
    const nb = new Float64Array(nE * D);
    for (let t = 0; t < nT; t++) {
      const a = triples.a[t]!, k = endAtom[t]!, w = tbWeight[t]!;
      for (let c = 0; c < D; c++) nb[a * D + c] += tbBasis[t * D + c]! * atomW[k * D + c]! * w;
    }
    const tb = gatedMLPForward(blk.threeBodyBond, nb, nE);
    const e1 = new Float64Array(e.length);
    for (let k = 0; k < e.length; k++) e1[k] = e[k]! + tb.out[k]!;
    // edge update
    const edge = gatedMLPForward(blk.edgeUpdate, concat(v, e1), nE);
    const edgeRbf = linearForward(blk.edgeWeight, rbf, nE);
    const e2 = new Float64Array(e.length);
    for (let k = 0; k < e.length; k++) e2[k] = e1[k]! + edge.out[k]! * edgeRbf[k]!;
    // node update: messages summed at the bond's destination atom
    const node = gatedMLPForward(blk.nodeUpdate, concat(v, e2), nE);
    const nodeRbf = linearForward(blk.nodeWeight, rbf, nE);
    const v2 = Float64Array.from(v);
    for (let k = 0; k < nE; k++) {
      const j = graph.dst[k]!;
      for (let c = 0; c < U; c++) v2[j * U + c] += node.out[k * U + c]! * nodeRbf[k * U + c]!;
    }
    tapes.push({ vIn: v, atomW, tbTape: tb.tape, edgeTape: edge.tape, edgeGate: edge.out, edgeRbf, nodeTape: node.tape, nodeGate: node.out, nodeRbf });
    v = v2;
    e = e2;
  }

  // ---- readout -----------------------------------------------------------------------
  const readout = gatedMLPForward(model.readout, v, nAtoms);
  let sumAtomic = 0, sumRefs = 0;
  for (let i = 0; i < nAtoms; i++) {
    sumAtomic += readout.out[i]!;
    sumRefs += model.elementRefs[types[i]!]!;
  }
  const energy = model.dataStd * sumAtomic + model.dataMean + sumRefs;

  // ==== backward ======================================================================
  let dv = new Float64Array(nAtoms * U);
  gatedMLPBackward(model.readout, readout.tape, new Float64Array(nAtoms).fill(model.dataStd), dv);
  let de = new Float64Array(nE * U);
  const dRbf = new Float64Array(nE * D);
  const dTbBasis = new Float64Array(nT * D), dTbWeight = new Float64Array(nT);
  const scatterConcat = (dx: Float64Array, dvv: Float64Array, dee: Float64Array) => {
    for (let k = 0; k < nE; k++) {
      const o = k * 3 * U, i = graph.src[k]! * U, j = graph.dst[k]! * U;
      for (let c = 0; c < U; c++) {
        dvv[i + c] += dx[o + c]!;
        dvv[j + c] += dx[o + U + c]!;
        dee[k * U + c] += dx[o + 2 * U + c]!;
      }
    }
  };
  for (let bi = model.blocks.length - 1; bi >= 0; bi--) {
    const blk = model.blocks[bi]!, tp = tapes[bi]!;
    // node update: v2 = v + scatter_dst(gate * nodeRbf)
    const dvIn = Float64Array.from(dv);
    const dGate = new Float64Array(nE * U), dR = new Float64Array(nE * U);
    for (let k = 0; k < nE; k++) {
      const j = graph.dst[k]!;
      for (let c = 0; c < U; c++) {
        const g = dv[j * U + c]!;
        dGate[k * U + c] = g * tp.nodeRbf[k * U + c]!;
        dR[k * U + c] = g * tp.nodeGate[k * U + c]!;
      }
    }
    linearBackward(blk.nodeWeight, dR, nE, dRbf);
    const dy = new Float64Array(nE * 3 * U);
    gatedMLPBackward(blk.nodeUpdate, tp.nodeTape, dGate, dy);
    const de2 = de; // gradient w.r.t. e2 so far (from later blocks)
    scatterConcat(dy, dvIn, de2);
    // edge update: e2 = e1 + gate * edgeRbf
    const de1 = Float64Array.from(de2);
    const dGe = new Float64Array(nE * U), dRe = new Float64Array(nE * U);
    for (let k = 0; k < nE * U; k++) {
      dGe[k] = de2[k]! * tp.edgeRbf[k]!;
      dRe[k] = de2[k]! * tp.edgeGate[k]!;
    }
    linearBackward(blk.edgeWeight, dRe, nE, dRbf);
    const dx = new Float64Array(nE * 3 * U);
    gatedMLPBackward(blk.edgeUpdate, tp.edgeTape, dGe, dx);
    scatterConcat(dx, dvIn, de1);
    // three-body: e1 = e + gMLP(nb), nb[a] = sum_t basis_t * atomW[end_t] * w_t
    const dNb = new Float64Array(nE * D);
    gatedMLPBackward(blk.threeBodyBond, tp.tbTape, de1, dNb);
    const dAtomW = new Float64Array(nAtoms * D);
    for (let t = 0; t < nT; t++) {
      const a = triples.a[t]!, k = endAtom[t]!, w = tbWeight[t]!;
      let dw = 0;
      for (let c = 0; c < D; c++) {
        const g = dNb[a * D + c]!;
        const bas = tbBasis[t * D + c]!, aw = tp.atomW[k * D + c]!;
        dTbBasis[t * D + c] += g * aw * w;
        dAtomW[k * D + c] += g * bas * w;
        dw += g * bas * aw;
      }
      dTbWeight[t] += dw;
    }
    const dzA = new Float64Array(dAtomW.length);
    for (let k = 0; k < dAtomW.length; k++) dzA[k] = dAtomW[k]! * tp.atomW[k]! * (1 - tp.atomW[k]!);
    linearBackward(blk.threeBodyAtom, dzA, nAtoms, dvIn);
    dv = dvIn;
    de = de1;
  }
  // edge embedding: e0 = silu(zEdge)
  for (let k = 0; k < zEdge.length; k++) {
    const s = sigmoid(zEdge[k]!);
    de[k] = de[k]! * s * (1 + zEdge[k]! * (1 - s));
  }
  linearBackward(model.edgeEmbedding, de, nE, dRbf);

  // ---- geometric backward: to bond lengths, then bond vectors ---------------------------
  const dDist = new Float64Array(nE);
  const dVec = new Float64Array(3 * nE);
  for (let k = 0; k < nE; k++) {
    let g = 0;
    for (let c = 0; c < D; c++) g += dRbf[k * D + c]! * drbf[k * D + c]!;
    dDist[k] = g;
  }
  for (let t = 0; t < nT; t++) {
    const a = triples.a[t]!, b = triples.b[t]!;
    dDist[a] += dTbWeight[t]! * fc[b]! * dfc[a]!;
    dDist[b] += dTbWeight[t]! * fc[a]! * dfc[b]!;
    let dCos = 0;
    for (let l = 0; l < cfg.maxL; l++) {
      let dY = 0;
      for (let m = 0; m < cfg.maxN; m++) {
        const c = t * D + l * cfg.maxN + m, cb = b * D + l * cfg.maxN + m;
        dDist[b] += dTbBasis[c]! * yl[t * cfg.maxL + l]! * drbf[cb]!;
        dY += dTbBasis[c]! * rbf[cb]!;
      }
      dCos += dY * dyl[t * cfg.maxL + l]!;
    }
    if (clamped[t]) continue;
    // cos = va.vb / (|va||vb|): d cos / d va = vb/(|va||vb|) - cos va/|va|^2
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
  const forces = new Float64Array(3 * nAtoms);
  const dStrain = new Float64Array(9);
  for (let k = 0; k < nE; k++) {
    const i = graph.src[k]!, j = graph.dst[k]!;
    for (let c = 0; c < 3; c++) {
      forces[3 * i + c] += dVec[3 * k + c]!;
      forces[3 * j + c] -= dVec[3 * k + c]!;
    }
    for (let p = 0; p < 3; p++) for (let q = 0; q < 3; q++) dStrain[3 * p + q] += vec[3 * k + p]! * dVec[3 * k + q]!;
  }
  let stress: Float64Array | null = null;
  if (lattice) {
    const volume = Math.abs(det3(lattice));
    stress = dStrain.map((x) => x / volume);
  }
  return { energy, forces, stress, nBonds: nE, nTriples: nT };
}
