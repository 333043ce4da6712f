/**
 * matminer `CrystalNNFingerprint.from_preset("ops")` (61 features per site) and its mean over the sites
 * of a structure, DiffCSP/KLDM's structural fingerprint for the DNG coverage metrics (spec §10.1).
 *
 * For CN = 1..24 the fingerprint lists the CrystalNN probability w_CN of that coordination number and,
 * for CN ≤ 12, w_CN × each motif order parameter of that CN evaluated on the CN-shell neighbours
 * (0 when w_CN = 0 or the parameter is undefined). The motif list per CN is matminer's
 * `load_cn_target_motif_op()`; each motif maps to an order-parameter type and parameter set through
 * pymatgen's cn_opt_params.yaml (parameters given there replace the type's defaults entirely).
 */
import type { Structure } from '../../crystal/types.js';
import { fracToCart } from '../../crystal/lattice.js';
import { crystalNNData } from './crystalNN.js';
import { DEFAULT_OP_PARAMS, orderParameter, type OrderParamParams, type OrderParamType } from './orderParams.js';

interface Motif {
  /** matminer's motif name (feature label) */
  name: string;
  type: OrderParamType;
  params: OrderParamParams;
}

const m = (name: string, type: OrderParamType, params?: OrderParamParams): Motif => ({ name, type, params: params ?? DEFAULT_OP_PARAMS[type] });
const TET_3 = { TA: 0.6081734479693927, IGW_TA: 18.33, fac_AA: 1.5, exp_cos_AA: 2 };
const SEE_SAW = { min_SPP: 2.356194490192345, IGW_EP: 15.75, IGW_SPP: 12.75, fac_AA: 1.5, exp_cos_AA: 2, w_SPP: 1 };

/** CN → motifs, in matminer's feature order (cn_target_motif_op + cn_opt_params). */
export const OPS_MOTIFS: ReadonlyMap<number, readonly Motif[]> = new Map<number, Motif[]>([
  [1, [m('sgl_bd', 'sgl_bd')]],
  [2, [
    m('L-shaped', 'bent', { TA: 0.5, IGW_TA: 15.15 }),
    m('water-like', 'bent', { TA: 0.5802777777777778, IGW_TA: 13.95 }),
    m('bent 120 degrees', 'bent', { TA: 0.666666666667, IGW_TA: 13.25 }),
    m('bent 150 degrees', 'bent', { TA: 0.833333333333333, IGW_TA: 12.45 }),
    m('linear', 'bent', { TA: 1, IGW_TA: 8.667 }),
  ]],
  [3, [m('trigonal planar', 'tri_plan_max'), m('trigonal non-coplanar', 'tet_max', TET_3), m('T-shaped', 'T')]],
  [4, [
    m('square co-planar', 'sq_plan_max'), m('tetrahedral', 'tet_max'), m('rectangular see-saw-like', 'see_saw_rect'),
    m('see-saw-like', 'tri_bipyr', SEE_SAW), m('trigonal pyramidal', 'tri_pyr'),
  ]],
  [5, [m('pentagonal planar', 'pent_plan_max'), m('square pyramidal', 'sq_pyr'), m('trigonal bipyramidal', 'tri_bipyr')]],
  [6, [m('hexagonal planar', 'hex_plan_max'), m('octahedral', 'oct_max'), m('pentagonal pyramidal', 'pent_pyr')]],
  [7, [m('hexagonal pyramidal', 'hex_pyr'), m('pentagonal bipyramidal', 'pent_bipyr')]],
  [8, [m('body-centered cubic', 'bcc'), m('hexagonal bipyramidal', 'hex_bipyr')]],
  [9, [m('q2', 'q2'), m('q4', 'q4'), m('q6', 'q6')]],
  [10, [m('q2', 'q2'), m('q4', 'q4'), m('q6', 'q6')]],
  [11, [m('q2', 'q2'), m('q4', 'q4'), m('q6', 'q6')]],
  [12, [m('cuboctahedral', 'cuboct_max'), m('q2', 'q2'), m('q4', 'q4'), m('q6', 'q6')]],
]);

const MAX_CN = 24;

/** Feature labels in matminer's order ("wt CN_k", "<motif> CN_k"). */
export const OPS_FEATURE_LABELS: readonly string[] = (() => {
  const out: string[] = [];
  for (let cn = 1; cn <= MAX_CN; cn++) {
    out.push(`wt CN_${cn}`);
    for (const mo of OPS_MOTIFS.get(cn) ?? []) out.push(`${mo.name} CN_${cn}`);
  }
  return out;
})();

export const OPS_FINGERPRINT_LENGTH = OPS_FEATURE_LABELS.length; // 61

/** The 61-feature "ops" fingerprint of site n. Throws where CrystalNN fails (the caller marks the structure invalid). */
export function siteOpsFingerprint(s: Structure, n: number, cart?: Float64Array): Float64Array {
  const xyz = cart ?? fracToCart(s.lattice, s.frac);
  const nn = crystalNNData(s, n, xyz);
  const out = new Float64Array(OPS_FINGERPRINT_LENGTH);
  let f = 0;
  for (let cn = 1; cn <= MAX_CN; cn++) {
    const wt = nn.cnWeights.get(cn) ?? 0;
    out[f++] = wt;
    const motifs = OPS_MOTIFS.get(cn) ?? [];
    if (motifs.length === 0) continue;
    const offsets = wt === 0 ? [] : nn.cnNeighbours.get(cn)!.map((e) => e.offset);
    for (const mo of motifs) {
      if (wt === 0) {
        out[f++] = 0;
        continue;
      }
      const v = orderParameter(mo.type, mo.params, offsets);
      // matminer: `opval or 0` maps None (and 0) to 0; NaN would pass through
      out[f++] = wt * (v ?? 0);
    }
  }
  return out;
}

/** Mean of the site fingerprints (DiffCSP `np.array(site_fps).mean(axis=0)`). */
export function structureOpsFingerprint(s: Structure): Float64Array {
  const n = s.species.length;
  if (n === 0) throw new Error('structure has no sites');
  const xyz = fracToCart(s.lattice, s.frac);
  const mean = new Float64Array(OPS_FINGERPRINT_LENGTH);
  for (let i = 0; i < n; i++) {
    const fp = siteOpsFingerprint(s, i, xyz);
    for (let k = 0; k < mean.length; k++) mean[k]! += fp[k]!;
  }
  for (let k = 0; k < mean.length; k++) mean[k]! /= n;
  return mean;
}
