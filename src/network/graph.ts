/**
 * The batch graph of spec §1.6: within each crystal all ordered pairs (i, j),
 * i ≠ j, enumerated row-major (source outer, target inner); no edges across
 * crystals; a 1-atom crystal has none. The outgoing edges of an atom and the
 * edges of a crystal are therefore contiguous (spec §15), which the segment
 * kernels rely on.
 */
import type { EdgeLayout } from '../engine/kernels.js';
import type { BatchLayout } from './types.js';

export function buildEdges(layout: BatchLayout): EdgeLayout {
  const G = layout.numCrystals;
  const N = layout.numAtoms;
  const crystalEdgeOffsets = new Int32Array(G + 1);
  for (let g = 0; g < G; g++) {
    const n = layout.atomOffsets[g + 1]! - layout.atomOffsets[g]!;
    if (n < 0) throw new Error(`BatchLayout: atomOffsets decrease at crystal ${g}`);
    crystalEdgeOffsets[g + 1] = crystalEdgeOffsets[g]! + n * (n - 1);
  }
  const E = crystalEdgeOffsets[G]!;
  const src = new Int32Array(E);
  const dst = new Int32Array(E);
  const crystalOfEdge = new Int32Array(E);
  const nodeEdgeOffsets = new Int32Array(N + 1);
  let e = 0;
  for (let g = 0; g < G; g++) {
    const a0 = layout.atomOffsets[g]!;
    const a1 = layout.atomOffsets[g + 1]!;
    for (let i = a0; i < a1; i++) {
      nodeEdgeOffsets[i] = e;
      for (let j = a0; j < a1; j++) {
        if (j === i) continue;
        src[e] = i;
        dst[e] = j;
        crystalOfEdge[e] = g;
        e++;
      }
    }
  }
  nodeEdgeOffsets[N] = e;
  // unordered pairs {i < j}: edge (i→j) and (j→i) share |ψ| (ψ(−Δ) = [−sin, cos]), see cspvnet.ts
  const P = E / 2;
  const pairFwd = new Int32Array(P);
  const pairRev = new Int32Array(P);
  const pairOfEdge = new Int32Array(E);
  const crystalPairOffsets = new Int32Array(G + 1);
  let p = 0;
  for (let g = 0; g < G; g++) {
    const a0 = layout.atomOffsets[g]!;
    const n = layout.atomOffsets[g + 1]! - a0;
    const e0 = crystalEdgeOffsets[g]!;
    const edgeOf = (i: number, j: number): number => e0 + i * (n - 1) + (j < i ? j : j - 1);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const f = edgeOf(i, j);
        const r = edgeOf(j, i);
        pairFwd[p] = f;
        pairRev[p] = r;
        pairOfEdge[f] = p;
        pairOfEdge[r] = -p - 1;
        p++;
      }
    }
    crystalPairOffsets[g + 1] = p;
  }
  return {
    numEdges: E, src, dst, crystalOfEdge, nodeEdgeOffsets, crystalEdgeOffsets, atomOffsets: Int32Array.from(layout.atomOffsets),
    numPairs: P, pairFwd, pairRev, pairOfEdge, crystalPairOffsets,
  };
}
