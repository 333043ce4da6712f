/**
 * pymatgen `CrystalNN().get_nn_data(structure, n)` with the defaults matminer's CrystalNNFingerprint
 * uses (spec §10.1): weighted_cn = False, cation_anion = False, distance_cutoffs = (0.5, 1),
 * x_diff_weight = 3, porous_adjustment = True, search_cutoff = 7. Algorithm (Pan et al., Inorg. Chem.
 * 60, 1590 (2021), and pymatgen's local_env):
 *
 * 1. Voronoi neighbours weighted by face solid angle (voronoiNN.ts), scaled by solid angle / face area
 *    (porous adjustment) and by 1 + 3·sqrt(|ΔX| / 3.3) (Pauling electronegativity difference; 1 when
 *    either X is missing), then normalised so the largest weight is 1.
 * 2. A distance cut: with d = r_centre + r_neighbour (covalent radii: structures without oxidation
 *    states), weight × 1 up to d + 0.5 Å, a half-cosine down to 0 at d + 1 Å.
 * 3. Weights rounded to 3 decimals (Python `round`); the distinct weights w_1 > w_2 > ... > 0 define
 *    nested neighbour shells; shell k (all neighbours with weight ≥ w_k) gets the probability
 *    ∫_{w_{k+1}}^{w_k} of the quarter-circle density, normalised by π/4; what is left is CN = 0.
 */
import type { Structure } from '../../crystal/types.js';
import { fracToCart } from '../../crystal/lattice.js';
import { voronoiNeighbours, type VoronoiNeighbour } from './voronoiNN.js';
import { defaultRadius, paulingX } from './pymatgenElements.js';
import { pyRound } from './pyRound.js';

export interface CrystalNNNeighbour extends VoronoiNeighbour {
  /** CrystalNN weight after rounding to 3 decimals */
  weight: number;
}

export interface CrystalNNData {
  /** CN → probability of that coordination number */
  cnWeights: Map<number, number>;
  /** CN → the neighbours of that shell, highest weight first */
  cnNeighbours: Map<number, CrystalNNNeighbour[]>;
}

const X_DIFF_WEIGHT = 3;
const DISTANCE_CUTOFFS = [0.5, 1] as const;
const SEARCH_CUTOFF = 7;

/** Integral of the unit quarter circle between two shell weights, over π/4 (pymatgen `_semicircle_integral`). */
export function semicircleIntegral(bins: readonly number[], idx: number): number {
  const area = (x: number): number => 0.5 * (x * Math.sqrt(1 - x * x) + Math.atan(x / Math.sqrt(1 - x * x)));
  const x1 = bins[idx]!;
  const x2 = bins[idx + 1]!;
  const area1 = x1 === 1 ? 0.25 * Math.PI : area(x1);
  return (area1 - area(x2)) / (0.25 * Math.PI);
}

function zeroCoordination(): CrystalNNData {
  return { cnWeights: new Map([[0, 1]]), cnNeighbours: new Map([[0, []]]) };
}

/** Stable sort by weight, highest first (Python `sorted(..., reverse=True)` keeps ties in order). */
function byWeightDescending<T extends { w: number }>(xs: T[]): T[] {
  return xs.map((x, i) => ({ x, i })).sort((a, b) => (b.x.w - a.x.w) || (a.i - b.i)).map((e) => e.x);
}

export function crystalNNData(s: Structure, n: number, cart?: Float64Array): CrystalNNData {
  const xyz = cart ?? fracToCart(s.lattice, s.frac);
  const voronoi = voronoiNeighbours(s, n, SEARCH_CUTOFF, xyz);
  const maxAngle = Math.max(...voronoi.map((v) => v.solidAngle));
  const x1 = paulingX(s.species[n]!);
  let nn = voronoi.map((v) => {
    let w = (v.solidAngle / maxAngle) * (v.solidAngle / v.area);
    const x2 = paulingX(s.species[v.site]!);
    const chemical = Number.isNaN(x1) || Number.isNaN(x2) ? 1 : 1 + X_DIFF_WEIGHT * Math.sqrt(Math.abs(x1 - x2) / 3.3);
    w *= chemical;
    return { v, w };
  });
  nn = byWeightDescending(nn);
  if (nn[0]!.w === 0) return zeroCoordination();
  const highest = nn[0]!.w;
  const r1 = defaultRadius(s.species[n]!);
  for (const e of nn) {
    e.w /= highest;
    const d = r1 + defaultRadius(s.species[e.v.site]!);
    if (Number.isNaN(d)) throw new Error(`CrystalNN: no covalent or atomic radius for ${s.species[n]} or ${s.species[e.v.site]}`);
    const low = d + DISTANCE_CUTOFFS[0];
    const high = d + DISTANCE_CUTOFFS[1];
    const dist = e.v.distance;
    let dw = 0;
    if (dist <= low) dw = 1;
    else if (dist < high) dw = (Math.cos(((dist - low) / (high - low)) * Math.PI) + 1) * 0.5;
    e.w *= dw;
  }
  nn = byWeightDescending(nn);
  if (nn[0]!.w === 0) return zeroCoordination();
  const kept: CrystalNNNeighbour[] = nn.map((e) => ({ ...e.v, weight: pyRound(e.w, 3) })).filter((e) => e.weight > 0);
  const bins: number[] = [];
  for (const e of kept) if (bins.length === 0 || bins[bins.length - 1] !== e.weight) bins.push(e.weight);
  bins.push(0);
  const cnWeights = new Map<number, number>();
  const cnNeighbours = new Map<number, CrystalNNNeighbour[]>();
  let total = 0;
  for (let i = 0; i < bins.length; i++) {
    const val = bins[i]!;
    if (val === 0) continue;
    const shell = kept.filter((e) => e.weight >= val);
    const w = semicircleIntegral(bins, i);
    cnNeighbours.set(shell.length, shell);
    cnWeights.set(shell.length, w);
    total += w;
  }
  const cn0 = 1 - total;
  if (cn0 > 0) {
    cnWeights.set(0, cn0);
    cnNeighbours.set(0, []);
  }
  return { cnWeights, cnNeighbours };
}
