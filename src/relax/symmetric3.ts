/**
 * Functions of symmetric 3×3 matrices through their eigen-decomposition (cyclic Jacobi, exact to
 * rounding for symmetric input): exp, log (of symmetric positive definite), and the Fréchet
 * derivative of exp. The cell filter of relax (cellFilter.ts) keeps the cell's deformation gradient
 * as F = exp(U) with U symmetric, so these closed forms replace a general expm/logm.
 *
 * Matrices are flat row-major arrays of 9 numbers.
 */
export type Mat3 = number[];

/** Eigenvalues and orthonormal eigenvectors (columns of q, row-major) of a symmetric matrix. */
export function symmetricEigen(a: ArrayLike<number>): { values: [number, number, number]; q: Mat3 } {
  const m = Array.from(a);
  // symmetrise (inputs are symmetric up to rounding)
  for (const [i, j] of [[0, 1], [0, 2], [1, 2]] as const) {
    const s = 0.5 * (m[3 * i + j]! + m[3 * j + i]!);
    m[3 * i + j] = s;
    m[3 * j + i] = s;
  }
  const q: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let sweep = 0; sweep < 64; sweep++) {
    const off = m[1]! ** 2 + m[2]! ** 2 + m[5]! ** 2;
    const scale = m[0]! ** 2 + m[4]! ** 2 + m[8]! ** 2 + off;
    if (off <= 1e-30 * Math.max(scale, 1e-300) || off === 0) break;
    for (const [p, r] of [[0, 1], [0, 2], [1, 2]] as const) {
      const apr = m[3 * p + r]!;
      if (apr === 0) continue;
      const app = m[3 * p + p]!;
      const arr = m[3 * r + r]!;
      // rotation angle that zeroes m[p][r] (Golub & Van Loan, symmetric Schur decomposition)
      const theta = (arr - app) / (2 * apr);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1);
      const s = t * c;
      for (let k = 0; k < 3; k++) {
        // m <- Jᵀ m J, applied as column then row rotations
        const mkp = m[3 * k + p]!;
        const mkr = m[3 * k + r]!;
        m[3 * k + p] = c * mkp - s * mkr;
        m[3 * k + r] = s * mkp + c * mkr;
      }
      for (let k = 0; k < 3; k++) {
        const mpk = m[3 * p + k]!;
        const mrk = m[3 * r + k]!;
        m[3 * p + k] = c * mpk - s * mrk;
        m[3 * r + k] = s * mpk + c * mrk;
      }
      for (let k = 0; k < 3; k++) {
        const qkp = q[3 * k + p]!;
        const qkr = q[3 * k + r]!;
        q[3 * k + p] = c * qkp - s * qkr;
        q[3 * k + r] = s * qkp + c * qkr;
      }
    }
  }
  return { values: [m[0]!, m[4]!, m[8]!], q };
}

/** Q diag(d) Qᵀ */
function recompose(q: Mat3, d: readonly number[]): Mat3 {
  const out: Mat3 = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += q[3 * i + k]! * d[k]! * q[3 * j + k]!;
      out[3 * i + j] = s;
    }
  return out;
}

export function expSymmetric(u: ArrayLike<number>): Mat3 {
  const { values, q } = symmetricEigen(u);
  return recompose(q, values.map(Math.exp));
}

/** log of a symmetric positive definite matrix */
export function logSymmetric(f: ArrayLike<number>): Mat3 {
  const { values, q } = symmetricEigen(f);
  if (values.some((v) => !(v > 0))) throw new RangeError(`logSymmetric: matrix is not positive definite (eigenvalues ${values.join(', ')})`);
  return recompose(q, values.map(Math.log));
}

/**
 * Fréchet derivative of exp at a symmetric U in direction E: L(U, E) = d/dh exp(U + hE) at h = 0.
 * In U's eigenbasis (U = Q Λ Qᵀ): L = Q ((Qᵀ E Q) ∘ Φ) Qᵀ with Φ_ij = (e^λi − e^λj)/(λi − λj), and
 * e^λi on (near-)equal eigenvalues (Higham, Functions of Matrices, 2008, Thm 3.11). For symmetric U
 * the map is self-adjoint, so it also gives the gradient of a function of exp(U) with respect to U.
 */
export function expFrechetSymmetric(u: ArrayLike<number>, e: ArrayLike<number>): Mat3 {
  const { values: l, q } = symmetricEigen(u);
  // E in the eigenbasis: Qᵀ E Q
  const eq: Mat3 = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) s += q[3 * a + i]! * e[3 * a + b]! * q[3 * b + j]!;
      eq[3 * i + j] = s;
    }
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      const d = l[i]! - l[j]!;
      // divided difference of exp; expm1 keeps it accurate when the eigenvalues are close
      const phi = Math.abs(d) < 1e-8 ? Math.exp(0.5 * (l[i]! + l[j]!)) : (Math.exp(l[j]!) * Math.expm1(d)) / d;
      eq[3 * i + j] = eq[3 * i + j]! * phi;
    }
  const out: Mat3 = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) s += q[3 * i + a]! * eq[3 * a + b]! * q[3 * j + b]!;
      out[3 * i + j] = s;
    }
  return out;
}
