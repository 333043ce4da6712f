/**
 * Positions and cell relaxed together: the "exponential cell filter" formulation (as ASE's
 * ExpCellFilter; Tadmor, Smith, Bernstein & Kaxiras, Phys. Rev. B 59, 235 (1999) for the idea of
 * deformation-gradient degrees of freedom). The cell is the reference cell C₀ deformed by
 * F = exp(U) (U symmetric): rows of the cell c_i = F c₀_i, atom positions x_i = F X_i with X_i
 * in the reference frame. The optimiser sees the 3N + 9 generalised coordinates
 * [X; cellFactor·U] and the generalised forces
 *   atoms: −∂E/∂X_i = Fᵀ f_i             (f_i = −∂E/∂x_i)
 *   cell:  −∂E/∂U / cellFactor, with −∂E/∂U = L(U, −∂E/∂F) and ∂E/∂F = V σ F⁻ᵀ
 * where σ = (1/V) ∂E/∂ε is the stress and L the Fréchet derivative of exp (self-adjoint at a
 * symmetric U); the cell force is symmetrised (U stays symmetric: no rigid rotations). Working
 * with log-strain keeps large cell changes well conditioned. External pressure is zero.
 *
 * Two cell forces (option `cellForce`):
 * - 'ase' (default): as ASE 3.22's ExpCellFilter, which the matgl/M3GNet relaxations of the
 *   literature ran: cellFactor 1, and the exact log-strain force above is replaced by the plain
 *   virial −Vσ whenever the two point the same way (element-wise equal within numpy's isclose
 *   tolerances, or cosine > 0.8) — i.e. almost always; the exact one is used only when they
 *   disagree. Same trajectories as that reference, step for step (tested against ASE).
 * - 'exact': always the exact gradient of the energy with respect to the log-strain coordinates.
 */
import type { Matrix3, Structure } from '../crystal/types.js';
import { cartToFrac, fracToCart } from '../crystal/lattice.js';
import { expFrechetSymmetric, expSymmetric } from './symmetric3.js';
import type { PotentialEvaluation } from '../potential/types.js';

export class ExpCellFilter {
  /** reference cell (rows) */
  readonly cell0: Matrix3;
  readonly species: string[];
  readonly n: number;
  readonly cellFactor: number;
  /** reference-frame positions X (N × 3) followed by cellFactor·U (3 × 3) */
  readonly coords: Float64Array;

  readonly cellForce: 'ase' | 'exact';

  constructor(s: Structure, opts: { cellFactor?: number; cellForce?: 'ase' | 'exact' } = {}) {
    this.cell0 = [...s.lattice] as Matrix3;
    this.species = [...s.species];
    this.n = s.species.length;
    this.cellFactor = opts.cellFactor ?? 1;
    this.cellForce = opts.cellForce ?? 'ase';
    this.coords = new Float64Array(3 * this.n + 9);
    this.coords.set(fracToCart(s.lattice, s.frac), 0);
  }

  /** U = log F from the coordinates */
  private logDeformation(): number[] {
    return Array.from(this.coords.subarray(3 * this.n), (v) => v / this.cellFactor);
  }

  /** the structure the coordinates describe */
  structure(): Structure {
    const f = expSymmetric(this.logDeformation());
    const lattice = mulRowsByTransposed(this.cell0, f) as Matrix3;
    const cart = new Float64Array(3 * this.n);
    const x = this.coords;
    for (let i = 0; i < this.n; i++)
      for (let a = 0; a < 3; a++) cart[3 * i + a] = f[3 * a]! * x[3 * i]! + f[3 * a + 1]! * x[3 * i + 1]! + f[3 * a + 2]! * x[3 * i + 2]!;
    return { lattice, species: [...this.species], frac: cartToFrac(lattice, cart) };
  }

  /** generalised forces (3N + 9) from the potential's forces and stress at structure() */
  generalisedForces(ev: PotentialEvaluation, volume: number, relaxCell: boolean): Float64Array {
    const u = this.logDeformation();
    const f = expSymmetric(u);
    const g = new Float64Array(3 * this.n + 9);
    for (let i = 0; i < this.n; i++)
      for (let b = 0; b < 3; b++) {
        // (Fᵀ f_i)_b = Σ_a F_ab f_ia
        g[3 * i + b] = f[b]! * ev.forces[3 * i]! + f[3 + b]! * ev.forces[3 * i + 1]! + f[6 + b]! * ev.forces[3 * i + 2]!;
      }
    if (relaxCell) {
      if (!ev.stress) throw new Error('cell relaxation needs the stress');
      // −∂E/∂F = −V σ F⁻ᵀ; F symmetric, F⁻ᵀ = exp(−U)
      const finvT = expSymmetric(u.map((v) => -v));
      const minusG = new Array<number>(9).fill(0);
      for (let a = 0; a < 3; a++)
        for (let b = 0; b < 3; b++) {
          let s = 0;
          for (let k = 0; k < 3; k++) s += ev.stress[3 * a + k]! * finvT[3 * k + b]!;
          minusG[3 * a + b] = -volume * s;
        }
      const du = expFrechetSymmetric(u, minusG);
      let exact = du.map((_, k) => 0.5 * (du[k]! + du[3 * (k % 3) + Math.floor(k / 3)]!));
      if (this.cellForce === 'ase') {
        const virial = Array.from(ev.stress, (x) => -volume * x);
        if (aligned(exact, virial)) exact = virial;
      }
      for (let k = 0; k < 9; k++) g[3 * this.n + k] = exact[k]! / this.cellFactor;
    }
    return g;
  }
}

/** ASE's test for using the plain virial: element-wise numpy.isclose, or cosine similarity above 0.8 */
function aligned(exact: number[], naive: number[]): boolean {
  if (exact.every((x, k) => Math.abs(x - naive[k]!) <= 1e-8 + 1e-5 * Math.abs(naive[k]!))) return true;
  let dot = 0;
  let ne = 0;
  let nn = 0;
  for (let k = 0; k < 9; k++) {
    dot += exact[k]! * naive[k]!;
    ne += exact[k]! ** 2;
    nn += naive[k]! ** 2;
  }
  return dot / Math.sqrt(ne * nn) > 0.8;
}

/** rows of c times Fᵀ: (c Fᵀ)_ij = Σ_k c_ik F_jk */
function mulRowsByTransposed(c: readonly number[], f: readonly number[]): number[] {
  const out = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) out[3 * i + j]! += c[3 * i + k]! * f[3 * j + k]!;
  return out;
}

/** largest norm of a 3-vector row of the generalised forces (the fmax criterion, over atoms and cell rows) */
export function maxRowNorm(g: Float64Array): number {
  let m = 0;
  for (let r = 0; r < g.length / 3; r++) m = Math.max(m, Math.hypot(g[3 * r]!, g[3 * r + 1]!, g[3 * r + 2]!));
  return m;
}
