/**
 * The local structure order parameters of pymatgen's `LocalStructOrderParams` that matminer's
 * CrystalNNFingerprint "ops" preset evaluates (spec §10.1), for one centre and an explicit neighbour list.
 * Definitions: Zimmermann, Horton, Jain, Haranczyk, Front. Mater. 4, 34 (2017) and Zimmermann & Jain,
 * RSC Adv. 10, 6063 (2020), as parameterised in pymatgen's op_params.yaml / cn_opt_params.yaml.
 *
 * Geometric ("motif") parameters put each neighbour j in turn on the north pole; for every other neighbour
 * k the polar angle θ_k scores a Gaussian around the motif's ideal angle, and for every third neighbour m
 * the polar angle θ_m and the azimuth φ_m (measured from the meridian through k) add angular terms. The
 * "max" variants normalise per (j, k) pair and take the maximum; "bent" averages over all pairs; "bcc"
 * sums with a closed-form normaliser. q2/q4/q6 are Steinhardt bond-orientational parameters, computed
 * here through the spherical-harmonic addition theorem q_l² = Σ_jk P_l(r̂_j·r̂_k) / N².
 */
import type { Vec3 } from './voronoiCell.js';

export type OrderParamType =
  | 'sgl_bd' | 'bent' | 'tri_plan_max' | 'tet_max' | 'T' | 'sq_plan_max' | 'see_saw_rect' | 'tri_bipyr'
  | 'tri_pyr' | 'pent_plan_max' | 'sq_pyr' | 'hex_plan_max' | 'oct_max' | 'pent_pyr' | 'hex_pyr'
  | 'pent_bipyr' | 'bcc' | 'hex_bipyr' | 'cuboct_max' | 'q2' | 'q4' | 'q6';

/** Parameters by name (pymatgen's YAML keys; cuboct's numeric keys as "2", "4", "5", "6"). */
export type OrderParamParams = Readonly<Record<string, number>>;

/** pymatgen op_params.yaml defaults for the types above (those without parameters map to {}). */
export const DEFAULT_OP_PARAMS: Readonly<Record<OrderParamType, OrderParamParams>> = {
  sgl_bd: {},
  bent: { TA: 1, IGW_TA: 8.667 },
  T: { IGW_EP: 15.5, fac_AA: 1, exp_cos_AA: 2 },
  see_saw_rect: { min_SPP: 2.356194490192345, IGW_SPP: 11.5, IGW_EP: 27, fac_AA: 2, exp_cos_AA: 2 },
  tet_max: { IGW_TA: 18.5, TA: 0.6081734479693927, fac_AA: 1.5, exp_cos_AA: 2 },
  oct_max: { min_SPP: 2.356194490192345, IGW_SPP: 15, IGW_EP: 18, w_SPP: 1, fac_AA: 2, exp_cos_AA: 2 },
  bcc: { min_SPP: 2.5261129449194057, IGW_SPP: 15, w_SPP: 6 },
  tri_plan_max: { IGW_TA: 17.5, TA: 0.66666666667, fac_AA: 1, exp_cos_AA: 2 },
  sq_plan_max: { min_SPP: 2.356194490192345, IGW_SPP: 13.5, IGW_EP: 17.7, w_SPP: 1, fac_AA: 1, exp_cos_AA: 2 },
  pent_plan_max: { TA: 0.6, IGW_TA: 19.333 },
  tri_pyr: { IGW_EP: 15.5, fac_AA: 1.5, exp_cos_AA: 2 },
  sq_pyr: { IGW_EP: 14.9, fac_AA: 2, exp_cos_AA: 2 },
  pent_pyr: { IGW_EP: 13.8, fac_AA: 2.5, exp_cos_AA: 2 },
  hex_pyr: { IGW_EP: 12.5, fac_AA: 3, exp_cos_AA: 2 },
  tri_bipyr: { min_SPP: 2.356194490192345, IGW_SPP: 12, IGW_EP: 16.6, fac_AA: 1.5, exp_cos_AA: 2, w_SPP: 1 },
  pent_bipyr: { min_SPP: 2.356194490192345, IGW_SPP: 12.5, IGW_EP: 14.75, fac_AA: 2.5, exp_cos_AA: 2, w_SPP: 1 },
  hex_bipyr: { min_SPP: 2.356194490192345, IGW_SPP: 14.1, IGW_EP: 13.6, fac_AA: 3, exp_cos_AA: 2, w_SPP: 1 },
  cuboct_max: { min_SPP: 2.792526803190927, IGW_SPP: 28.75, '2': 1.8325957145940461, w_SPP: 1.8, '4': 1.3089969389957472, '5': 25.5, '6': 31.25 },
  hex_plan_max: { min_SPP: 2.6179938779914944, IGW_SPP: 7.5, w_SPP: 1, fac_AA: 1, exp_cos_AA: 2, IGW_TA: 25, TA: 0.16666667 },
  q2: {},
  q4: {},
  q6: {},
};

/** Types scored with a per-(j, k) normalisation and a maximum over pairs. */
const MAX_TYPES = new Set<OrderParamType>([
  'T', 'tri_pyr', 'see_saw_rect', 'sq_pyr', 'tri_bipyr', 'pent_pyr', 'hex_pyr', 'pent_bipyr', 'hex_bipyr',
  'oct_max', 'tri_plan_max', 'tet_max', 'sq_plan_max', 'pent_plan_max', 'cuboct_max', 'hex_plan_max',
]);
/** Types whose "opposite pole" (south-pole) terms use min_SPP for both θ_k and θ_m. */
const SPP_TYPES = new Set<OrderParamType>(['tri_bipyr', 'pent_bipyr', 'hex_bipyr', 'oct_max', 'sq_plan_max', 'hex_plan_max', 'see_saw_rect']);
const PYR_TYPES = new Set<OrderParamType>(['T', 'tri_pyr', 'sq_pyr', 'pent_pyr', 'hex_pyr']);
const VERY_SMALL = 1e-12;
const FAC_BCC = 1 / Math.exp(-0.5);

const clamp1 = (x: number): number => Math.max(-1, Math.min(x, 1));
const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const gauss = (x: number): number => Math.exp(-0.5 * x * x);

/** Component of v orthogonal to u (not normalised). */
function gramSchmidt(v: Vec3, u: Vec3): Vec3 {
  const f = dot(v, u) / dot(u, u);
  return [v[0] - f * u[0], v[1] - f * u[1], v[2] - f * u[2]];
}

function legendre(l: 2 | 4 | 6, x: number): number {
  const x2 = x * x;
  if (l === 2) return 0.5 * (3 * x2 - 1);
  if (l === 4) return (35 * x2 * x2 - 30 * x2 + 3) / 8;
  return (231 * x2 * x2 * x2 - 315 * x2 * x2 + 105 * x2 - 5) / 16;
}

function steinhardt(l: 2 | 4 | 6, u: readonly Vec3[]): number {
  let acc = 0;
  for (const a of u) for (const b of u) acc += legendre(l, clamp1(dot(a, b)));
  return Math.sqrt(Math.max(acc, 0)) / u.length;
}

/**
 * One order parameter for a centre at the origin and neighbours at `offsets` (Cartesian, relative to the
 * centre). Returns null where pymatgen returns None (too few neighbours, nothing to normalise).
 */
export function orderParameter(type: OrderParamType, params: OrderParamParams, offsets: readonly Vec3[]): number | null {
  const n = offsets.length;
  const dist = offsets.map((r) => Math.hypot(r[0], r[1], r[2]));
  const u = offsets.map((r, j): Vec3 => [r[0] / dist[j]!, r[1] / dist[j]!, r[2] / dist[j]!]);
  if (type === 'sgl_bd') {
    const d = [...dist].sort((a, b) => a - b);
    if (n === 1) return 1;
    return n > 1 ? 1 - d[0]! / d[1]! : 0;
  }
  if (type === 'q2' || type === 'q4' || type === 'q6') return n > 0 ? steinhardt(Number(type[1]) as 2 | 4 | 6, u) : null;

  const p = (key: string): number => {
    const v = params[key];
    if (v === undefined) throw new Error(`order parameter ${type}: missing parameter ${key}`);
    return v;
  };
  const ipi = 1 / Math.PI;
  const isMax = MAX_TYPES.has(type);
  let sumQ = 0;
  let sumNorm = 0;
  let best: number | null = null;
  for (let j = 0; j < n; j++) {
    const z = u[j]!;
    for (let k = 0; k < n; k++) {
      if (k === j) continue;
      let q = 0;
      let norms = 0;
      const thetak = Math.acos(clamp1(dot(z, u[k]!)));
      let xaxis = gramSchmidt(u[k]!, z);
      const xl = Math.hypot(...xaxis);
      const flagX = xl < VERY_SMALL;
      if (!flagX) xaxis = [xaxis[0] / xl, xaxis[1] / xl, xaxis[2] / xl];
      // terms of the pair (j, k) alone
      if (type === 'bent') {
        q += gauss(p('IGW_TA') * (thetak * ipi - p('TA')));
        norms += 1;
      } else if (type === 'tri_plan_max' || type === 'tet_max') {
        q += gauss(p('IGW_TA') * (thetak * ipi - p('TA')));
        norms += 1;
      } else if (PYR_TYPES.has(type)) {
        q += gauss(p('IGW_EP') * (thetak * ipi - 0.5));
        norms += 1;
      } else if (type === 'cuboct_max') {
        if (thetak >= p('min_SPP')) {
          q += p('w_SPP') * gauss(p('IGW_SPP') * (thetak * ipi - 1));
          norms += p('w_SPP');
        }
      } else if (SPP_TYPES.has(type)) {
        if (thetak < p('min_SPP')) {
          const t = type !== 'hex_plan_max' ? p('IGW_EP') * (thetak * ipi - 0.5) : p('IGW_TA') * (Math.abs(thetak * ipi - 0.5) - p('TA'));
          q += gauss(t);
          norms += 1;
        }
      } else if (type === 'pent_plan_max') {
        const c = thetak <= p('TA') * Math.PI ? 0.4 : 0.8;
        q += gauss(p('IGW_TA') * (thetak * ipi - c));
        norms += 1;
      } else if (type === 'bcc' && j < k) {
        if (thetak >= p('min_SPP')) {
          q += p('w_SPP') * gauss(p('IGW_SPP') * (thetak * ipi - 1));
          norms += p('w_SPP');
        }
      }
      // terms of the triple (j, k, m)
      if (!flagX) {
        for (let m = 0; m < n; m++) {
          if (m === j || m === k) continue;
          const thetam = Math.acos(clamp1(dot(z, u[m]!)));
          const x2 = gramSchmidt(u[m]!, z);
          const l = Math.hypot(...x2);
          const flagX2 = l < VERY_SMALL;
          const phi = flagX2 ? NaN : Math.acos(clamp1((x2[0] * xaxis[0] + x2[1] * xaxis[1] + x2[2] * xaxis[2]) / l));
          if (SPP_TYPES.has(type) && thetam >= p('min_SPP')) {
            q += gauss(p('IGW_SPP') * (thetam * ipi - 1));
            norms += 1;
          }
          if (flagX2) continue;
          if (type === 'tri_plan_max' || type === 'tet_max') {
            q += gauss(p('IGW_TA') * (thetam * ipi - p('TA'))) * Math.pow(Math.cos(p('fac_AA') * phi), p('exp_cos_AA'));
            norms += 1;
          } else if (type === 'pent_plan_max') {
            const c = thetam <= p('TA') * Math.PI ? 0.4 : 0.8;
            const cp = Math.cos(phi);
            q += gauss(p('IGW_TA') * (thetam * ipi - c)) * cp * cp;
            norms += 1;
          } else if (PYR_TYPES.has(type)) {
            q += Math.pow(Math.cos(p('fac_AA') * phi), p('exp_cos_AA')) * gauss(p('IGW_EP') * (thetam * ipi - 0.5));
            norms += 1;
          } else if (type === 'see_saw_rect') {
            if (thetam < p('min_SPP') && thetak < p('min_SPP') && phi < 0.75 * Math.PI) {
              q += Math.pow(Math.cos(p('fac_AA') * phi), p('exp_cos_AA')) * gauss(p('IGW_EP') * (thetam * ipi - 0.5));
              norms += 1;
            }
          } else if (SPP_TYPES.has(type)) {
            if (thetam < p('min_SPP') && thetak < p('min_SPP')) {
              const t = type !== 'hex_plan_max' ? p('IGW_EP') * (thetam * ipi - 0.5) : p('IGW_TA') * (Math.abs(thetam * ipi - 0.5) - p('TA'));
              q += Math.pow(Math.cos(p('fac_AA') * phi), p('exp_cos_AA')) * gauss(t);
              norms += 1;
            }
          } else if (type === 'bcc' && j < k) {
            if (thetak < p('min_SPP')) {
              const fac = thetak > Math.PI / 2 ? 1 : -1;
              const t = (thetam - Math.PI / 2) / Math.asin(1 / 3);
              q += fac * Math.cos(3 * phi) * FAC_BCC * t * gauss(t);
              norms += 1;
            }
          } else if (type === 'cuboct_max') {
            if (thetam < p('min_SPP') && p('4') < thetak && thetak < p('2')) {
              if (p('4') < thetam && thetam < p('2')) {
                const cp = Math.cos(phi);
                q += cp * cp * gauss(p('5') * (thetam * ipi - 0.5));
                norms += 1;
              } else if (thetam < p('4')) {
                q += gauss(0.0556 * (Math.cos(phi - 0.5 * Math.PI) - 0.81649658)) * gauss(p('6') * (thetam * ipi - 1 / 3));
                norms += 1;
              } else if (thetam > p('2')) {
                q += gauss(0.0556 * (Math.cos(phi - 0.5 * Math.PI) - 0.81649658)) * gauss(p('6') * (thetam * ipi - 2 / 3));
                norms += 1;
              }
            }
          }
        }
      }
      if (isMax) {
        const v = norms > VERY_SMALL ? q / norms : 0;
        best = best === null ? v : Math.max(best, v);
      } else {
        sumQ += q;
        sumNorm += norms;
      }
    }
  }
  if (isMax) return n > 1 ? best : null;
  if (type === 'bent') return sumNorm > VERY_SMALL ? sumQ / sumNorm : null;
  // bcc
  return n > 3 ? sumQ / (0.5 * n * (6 + (n - 2) * (n - 3))) : null;
}
