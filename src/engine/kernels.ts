/**
 * The numeric kernels the CSPVNet network (spec §2) needs, behind one interface
 * so that the network code is the same whether the kernels run as plain
 * TypeScript loops (src/engine/reference.ts, the test oracle and fallback), as
 * the native C++ addon (src/engine/native.ts), or later on a GPU.
 *
 * Conventions:
 * - Every matrix is row-major and addressed by (array, offset, leading dimension)
 *   so that column blocks of a weight matrix (spec §15: the split of the first
 *   edge-MLP matrix) are used in place, without copies.
 * - Arrays are Float32Array in production; the reference kernels also accept
 *   Float64Array (finite-difference gradient checks), native ones only float32.
 * - "Segments" are contiguous row ranges [offsets[s], offsets[s+1]): atoms of a
 *   crystal, edges of a crystal, outgoing edges of an atom (spec §15).
 * - Outputs are overwritten unless the doc says "accumulates" (+=).
 */
export type FloatArray = Float32Array | Float64Array;

/** Directed edges of a batch (spec §1.6): all ordered pairs i≠j within a crystal, row-major. */
export interface EdgeLayout {
  numEdges: number;
  /** source atom i of edge e */
  src: Int32Array;
  /** target atom j of edge e */
  dst: Int32Array;
  /** crystal g(i) of edge e */
  crystalOfEdge: Int32Array;
  /** length N+1: the outgoing edges of atom i are [nodeEdgeOffsets[i], nodeEdgeOffsets[i+1]) */
  nodeEdgeOffsets: Int32Array;
  /** length G+1: the edges of crystal g are [crystalEdgeOffsets[g], crystalEdgeOffsets[g+1]) */
  crystalEdgeOffsets: Int32Array;
  /** length G+1: the atoms of crystal g are [atomOffsets[g], atomOffsets[g+1]) (as in BatchLayout) */
  atomOffsets: Int32Array;
  /** unordered pairs {i < j} within crystals, n(n−1)/2 per crystal, row-major, contiguous per crystal */
  numPairs: number;
  /** edge i→j (i < j) of pair p */
  pairFwd: Int32Array;
  /** edge j→i of pair p */
  pairRev: Int32Array;
  /** pair of edge e: p if e = pairFwd[p], −p−1 if e = pairRev[p] */
  pairOfEdge: Int32Array;
  /** length G+1: the pairs of crystal g are [crystalPairOffsets[g], crystalPairOffsets[g+1]) */
  crystalPairOffsets: Int32Array;
}

/** Hyper-parameters of one AdamW step (torch.optim.AdamW semantics). */
export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step number, used for the bias corrections */
  step: number;
}

export interface Kernels {
  /** 'reference' or 'native' */
  readonly name: string;
  /** whether the kernels accept Float64Array (only the reference does) */
  readonly supportsFloat64: boolean;

  /**
   * C = alpha·op(A)·op(B) + beta·C, op(X) = X or Xᵀ; op(A) is m×k, op(B) k×n, C m×n.
   * beta = 0 means C is overwritten (its old content, even NaN, is ignored).
   */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: FloatArray, aOff: number, lda: number,
    b: FloatArray, bOff: number, ldb: number,
    beta: number, c: FloatArray, cOff: number, ldc: number,
  ): void;

  /**
   * Optional bf16 operand cache (native kernels in bf16 precision; absent or no-op elsewhere): keep a
   * bf16 copy of a[0..n) for the GEMMs that read it, until unpinned. Numerically a no-op (the same
   * rounding happens either way); the caller must unpin before writing the array again.
   */
  pinOperand?(a: FloatArray, n: number): void;
  unpinOperand?(a: FloatArray): void;
  unpinAllOperands?(): void;

  /** z[r,c] += bias[c] (if bias), then out = silu(z) = z·σ(z). out may be z itself. */
  biasSilu(z: FloatArray, bias: FloatArray | null, rows: number, cols: number, out: FloatArray): void;
  /** dz = dout · silu'(z) over n elements; dz may alias dout or z. */
  siluBackward(dout: FloatArray, z: FloatArray, n: number, dz: FloatArray): void;
  /** xa = x ⊙ a and, with b, xb = x ⊙ b (elementwise products over n elements; b and xb both given or both null). */
  hadamard(x: FloatArray, a: FloatArray, b: FloatArray | null, n: number, xa: FloatArray, xb: FloatArray | null): void;
  /**
   * Sigmoid gate over n elements (the last layer of M3GNet's gated MLPs, src/potential/fast.ts):
   * gate = σ(z), and with value, out = value · gate. value and out are both given or both null.
   */
  sigmoidGate(z: FloatArray, value: FloatArray | null, n: number, gate: FloatArray, out: FloatArray | null): void;
  /**
   * Backward of sigmoidGate from dout = ∂L/∂out (or ∂L/∂gate when value is null): with value,
   * dvalue = dout · gate and dz = (dout · value) · gate · (1 − gate); without, dz = dout · gate · (1 − gate).
   * Overwrites dvalue and dz.
   */
  sigmoidGateBackward(dout: FloatArray, gate: FloatArray, value: FloatArray | null, n: number, dvalue: FloatArray | null, dz: FloatArray): void;
  /**
   * Fused edge-message aggregation (spec §2.2 steps 2-3): z[r] += bias (kept, it is the stored
   * pre-activation), out[s] = mean over rows r of segment s of silu(z[r]) (zero if empty).
   */
  biasSiluSegmentMean(z: FloatArray, bias: FloatArray, offsets: Int32Array, segments: number, cols: number, out: FloatArray): void;
  /**
   * Backward of biasSiluSegmentMean: dz[r] = dout[s]/|s| · silu'(z[r]) for every row r of segment s
   * (overwrites; dz may alias z), and dbias[c] += Σ_r dz[r,c] (accumulates).
   */
  siluSegmentMeanBackward(dout: FloatArray, z: FloatArray, offsets: Int32Array, segments: number, cols: number, dz: FloatArray, dbias: FloatArray): void;
  /** x[r,c] += bias[c] */
  addBias(x: FloatArray, bias: FloatArray, rows: number, cols: number): void;
  /** dst[c] += Σ_r src[r,c] (accumulates) */
  colSumAdd(src: FloatArray, rows: number, cols: number, dst: FloatArray): void;
  /** dst[i] += src[i], i < n (accumulates) */
  addInto(dst: FloatArray, src: FloatArray, n: number): void;

  /** y = γ·(x − mean)/sqrt(var + eps) + β per row (biased variance); stores mean and 1/sqrt(var+eps). */
  layerNormForward(
    x: FloatArray, gamma: FloatArray, beta: FloatArray, rows: number, cols: number, eps: number,
    y: FloatArray, mean: FloatArray, rstd: FloatArray,
  ): void;
  /** Backward of layerNormForward: dx, dgamma, dbeta all accumulate. */
  layerNormBackward(
    dy: FloatArray, x: FloatArray, gamma: FloatArray, mean: FloatArray, rstd: FloatArray,
    rows: number, cols: number, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray,
  ): void;

  /**
   * Edge position features ψ(p_j − p_i) of spec §2.1 item 4 for the forward edge i→j (i < j) of
   * every pair p: z_{d·F+k} = Δ_d·2πk, out[p] = [sin(z_0..z_{3F−1}), cos(z_0..z_{3F−1})] (6F wide).
   * The reverse edge has ψ = [−sin, cos] (Δ → −Δ), which the network exploits (spec §15 note).
   */
  fourierFeatures(pos: FloatArray, edges: EdgeLayout, freqs: number, out: FloatArray): void;
  /** dpos += ∂/∂pos of Σ_p dpsi[p]·ψ_p (per pair, accumulates). */
  fourierBackward(pos: FloatArray, edges: EdgeLayout, freqs: number, dpsi: FloatArray, dpos: FloatArray): void;

  /** out[s] = mean of rows of segment s (zero row if the segment is empty). */
  segmentMean(x: FloatArray, offsets: Int32Array, segments: number, cols: number, out: FloatArray): void;
  /** dx[r] = dout[s]/|s| for every row r of segment s (overwrites all rows [0, offsets[segments])). */
  segmentMeanBackward(dout: FloatArray, offsets: Int32Array, segments: number, cols: number, dx: FloatArray): void;
  /** out[s] = Σ rows of segment s. */
  segmentSum(x: FloatArray, offsets: Int32Array, segments: number, cols: number, out: FloatArray): void;
  /** In place x[r] −= mean of its segment (spec "centre(·)"). Self-adjoint, so also its own backward. */
  segmentCentre(x: FloatArray, offsets: Int32Array, segments: number, cols: number): void;
  /** x[r] += src[s] for every row r of segment s. */
  segmentBroadcastAdd(x: FloatArray, offsets: Int32Array, segments: number, cols: number, src: FloatArray): void;

  /** out[r] = table[ids[r]] */
  gatherRows(table: FloatArray, ids: Int32Array, cols: number, out: FloatArray): void;
  /** dtable[ids[r]] += dout[r] (accumulates) */
  scatterAddRows(dout: FloatArray, ids: Int32Array, cols: number, dtable: FloatArray): void;

  /**
   * The split first edge-MLP linear (spec §15), written (overwrite) for every edge e of pair p:
   * z[e] = ±pq[p, 0:cols] + pq[p, cols:2cols] + a[src] + b[dst] + c[g(e)] + wv·dv[e] + bias,
   * + for the forward edge (i < j), − for the reverse one. pq (P × 2cols) holds the ψ block's
   * products with the sine and cosine halves of ψ per pair; dv[e] = v_dst − v_src (E×3); wv H×3.
   */
  edgeCombine(
    z: FloatArray, pq: FloatArray, a: FloatArray, b: FloatArray, c: FloatArray, wv: FloatArray, bias: FloatArray,
    dv: FloatArray, edges: EdgeLayout, cols: number,
  ): void;
  /**
   * Backward of edgeCombine (overwrites da, db (N×cols), dc (G×cols), dpq (P×2cols)):
   * da[i] = Σ_{e from i} dz[e], db[j] = Σ_{e to j} dz[e], dc[g] = Σ_{e in g} dz[e],
   * dpq[p] = [dz[fwd] − dz[rev], dz[fwd] + dz[rev]]; dwv[h,d] += Σ_e dz[e,h]·dv[e,d] accumulates.
   * (The gradient w.r.t. dv, dz·wv, is a GEMM left to the caller.)
   * The five outputs and dz must be distinct, non-overlapping arrays (the native kernel is
   * vectorised on that promise).
   */
  edgeCombineBackward(
    dz: FloatArray, dv: FloatArray, edges: EdgeLayout, cols: number, numAtoms: number, numCrystals: number,
    da: FloatArray, db: FloatArray, dc: FloatArray, dwv: FloatArray, dpq: FloatArray,
  ): void;

  /**
   * One AdamW step on n elements (torch.optim.AdamW): p ·= 1 − lr·wd; m, v moments;
   * with vmax (AMSGrad) vmax = max(vmax, v) is used in the denominator.
   */
  adamw(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, vmax: FloatArray | null, n: number, hp: AdamWHyper): void;
  /** ema += (1 − decay)·(p − ema) (spec §8) */
  emaUpdate(ema: FloatArray, p: FloatArray, n: number, decay: number): void;
}
