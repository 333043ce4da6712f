/**
 * A periodic Lennard-Jones potential with the conventions of ASE's LennardJones calculator
 * (smooth = False): pair energy 4ε[(σ/r)¹² − (σ/r)⁶] − e(rc) for r < rc, forces from the unshifted
 * derivative, stress (1/V) Σ_pairs φ'(r) r⊗r / r. Test support for relax/: a potential with closed
 * forms that ASE (python3-ase) evaluates too, so relaxation trajectories can be compared step by step.
 */
import type { Structure } from '../../crystal/types.js';
import { fracToCart, volume } from '../../crystal/lattice.js';
import type { BatchPotential, PotentialEvaluation } from '../../potential/types.js';

export interface LJParams {
  epsilon: number;
  sigma: number;
  rc: number;
}

function cross(a: number[], b: number[]): number[] {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}

export function lennardJones(s: Structure, p: LJParams): PotentialEvaluation {
  const n = s.species.length;
  const L = s.lattice;
  const rows = [0, 1, 2].map((i) => [L[3 * i]!, L[3 * i + 1]!, L[3 * i + 2]!]);
  const V = volume(L);
  // image range from the perpendicular heights of the cell
  const reach = [0, 1, 2].map((k) => {
    const c = cross(rows[(k + 1) % 3]!, rows[(k + 2) % 3]!);
    return Math.ceil(p.rc / (V / Math.hypot(c[0]!, c[1]!, c[2]!)));
  });
  const x = fracToCart(L, s.frac);
  const e0 = 4 * p.epsilon * ((p.sigma / p.rc) ** 12 - (p.sigma / p.rc) ** 6);
  let energy = 0;
  const forces = new Float64Array(3 * n);
  const stress = new Float64Array(9);
  const d = [0, 0, 0];
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      for (let a = -reach[0]!; a <= reach[0]!; a++)
        for (let b = -reach[1]!; b <= reach[1]!; b++)
          for (let c = -reach[2]!; c <= reach[2]!; c++) {
            if (i === j && a === 0 && b === 0 && c === 0) continue;
            for (let k = 0; k < 3; k++) d[k] = x[3 * j + k]! + a * rows[0]![k]! + b * rows[1]![k]! + c * rows[2]![k]! - x[3 * i + k]!;
            const r2 = d[0]! ** 2 + d[1]! ** 2 + d[2]! ** 2;
            if (r2 >= p.rc * p.rc) continue;
            const c6 = (p.sigma * p.sigma / r2) ** 3;
            const c12 = c6 * c6;
            // ordered pairs: half of each pair's energy and stress per direction
            energy += 0.5 * (4 * p.epsilon * (c12 - c6) - e0);
            const dphiOverR = (-24 * p.epsilon * (2 * c12 - c6)) / r2; // φ'(r)/r
            for (let k = 0; k < 3; k++) forces[3 * i + k]! += dphiOverR * d[k]!;
            for (let u = 0; u < 3; u++) for (let v = 0; v < 3; v++) stress[3 * u + v]! += (0.5 * dphiOverR * d[u]! * d[v]!) / V;
          }
  return { energy, forces, stress };
}

export function lennardJonesBatch(p: LJParams): BatchPotential {
  return (structures) => structures.map((s) => lennardJones(s, p));
}
