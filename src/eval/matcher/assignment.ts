/**
 * Minimum-cost perfect assignment on a square cost matrix (Hungarian method with
 * potentials, O(n³)). The matcher uses it where pymatgen uses its
 * `LinearAssignment` (Jonker–Volgenant): both return an optimal assignment;
 * they can differ only when several assignments have exactly equal cost.
 */

/**
 * cost: n×n row-major. Returns `rowToCol` with rowToCol[i] = column assigned to row i.
 */
export function solveAssignment(cost: Float64Array, n: number): Int32Array {
  const INF = Number.POSITIVE_INFINITY;
  // 1-based arrays as in the classic formulation
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1); // p[j] = row matched to column j
  const way = new Int32Array(n + 1);
  const minv = new Float64Array(n + 1);
  const used = new Uint8Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(INF);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = INF;
      let j1 = 0;
      const rowOff = (i0 - 1) * n;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost[rowOff + j - 1]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else {
          minv[j]! -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const rowToCol = new Int32Array(n);
  for (let j = 1; j <= n; j++) rowToCol[p[j]! - 1] = j - 1;
  return rowToCol;
}
