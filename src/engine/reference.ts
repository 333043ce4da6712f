/**
 * Plain-loop TypeScript kernels: the test oracle for the native addon and the
 * fallback where the addon is not built. They work on Float32Array and on
 * Float64Array (finite-difference gradient checks). Sums are accumulated in JS
 * numbers (float64) so that the oracle is at least as accurate as native code.
 */
import type { AdamWHyper, EdgeLayout, FloatArray, Kernels } from './kernels.js';

const TWO_PI = 2 * Math.PI;

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

class ReferenceKernels implements Kernels {
  readonly name = 'reference';
  readonly supportsFloat64 = true;
  private rowAcc = new Float64Array(64);

  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: FloatArray, aOff: number, lda: number,
    b: FloatArray, bOff: number, ldb: number,
    beta: number, c: FloatArray, cOff: number, ldc: number,
  ): void {
    if (this.rowAcc.length < n) this.rowAcc = new Float64Array(n);
    const acc = this.rowAcc;
    for (let i = 0; i < m; i++) {
      acc.fill(0, 0, n);
      for (let p = 0; p < k; p++) {
        const aip = transA ? a[aOff + p * lda + i]! : a[aOff + i * lda + p]!;
        if (aip === 0) continue;
        if (!transB) {
          const row = bOff + p * ldb;
          for (let j = 0; j < n; j++) acc[j]! += aip * b[row + j]!;
        } else {
          for (let j = 0; j < n; j++) acc[j]! += aip * b[bOff + j * ldb + p]!;
        }
      }
      const crow = cOff + i * ldc;
      if (beta === 0) for (let j = 0; j < n; j++) c[crow + j] = alpha * acc[j]!;
      else for (let j = 0; j < n; j++) c[crow + j] = beta * c[crow + j]! + alpha * acc[j]!;
    }
  }

  biasSilu(z: FloatArray, bias: FloatArray | null, rows: number, cols: number, out: FloatArray): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let c = 0; c < cols; c++) {
        const v = bias ? z[o + c]! + bias[c]! : z[o + c]!;
        z[o + c] = v;
        out[o + c] = v * sigmoid(v);
      }
    }
  }

  siluBackward(dout: FloatArray, z: FloatArray, n: number, dz: FloatArray): void {
    for (let i = 0; i < n; i++) {
      const v = z[i]!;
      const s = sigmoid(v);
      dz[i] = dout[i]! * s * (1 + v * (1 - s));
    }
  }

  hadamard(x: FloatArray, a: FloatArray, b: FloatArray | null, n: number, xa: FloatArray, xb: FloatArray | null): void {
    if ((b === null) !== (xb === null)) throw new TypeError('hadamard: b and xb go together');
    for (let i = 0; i < n; i++) {
      xa[i] = x[i]! * a[i]!;
      if (xb) xb[i] = x[i]! * b![i]!;
    }
  }

  sigmoidGate(z: FloatArray, value: FloatArray | null, n: number, gate: FloatArray, out: FloatArray | null): void {
    if ((value === null) !== (out === null)) throw new TypeError('sigmoidGate: value and out go together');
    for (let i = 0; i < n; i++) {
      gate[i] = sigmoid(z[i]!);
      if (out) out[i] = value![i]! * gate[i]!;
    }
  }

  sigmoidGateBackward(dout: FloatArray, gate: FloatArray, value: FloatArray | null, n: number, dvalue: FloatArray | null, dz: FloatArray): void {
    if ((value === null) !== (dvalue === null)) throw new TypeError('sigmoidGateBackward: value and dvalue go together');
    for (let i = 0; i < n; i++) {
      const s = gate[i]!, d = dout[i]!;
      const dg = value ? d * value[i]! : d;
      if (dvalue) dvalue[i] = d * s;
      dz[i] = dg * s * (1 - s);
    }
  }

  biasSiluSegmentMean(z: FloatArray, bias: FloatArray, offsets: Int32Array, segments: number, cols: number, out: FloatArray): void {
    const r0 = offsets[0]!;
    const rows = offsets[segments]! - r0;
    const act = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const i = (r0 + r) * cols + c;
        const v = z[i]! + bias[c]!;
        z[i] = v;
        act[r * cols + c] = z[i]! * sigmoid(z[i]!);
      }
    }
    for (let s = 0; s < segments; s++) {
      const a = offsets[s]!;
      const b = offsets[s + 1]!;
      for (let c = 0; c < cols; c++) {
        let acc = 0;
        for (let r = a; r < b; r++) acc += act[(r - r0) * cols + c]!;
        out[s * cols + c] = b > a ? acc / (b - a) : 0;
      }
    }
  }

  siluSegmentMeanBackward(dout: FloatArray, z: FloatArray, offsets: Int32Array, segments: number, cols: number, dz: FloatArray, dbias: FloatArray): void {
    for (let s = 0; s < segments; s++) {
      const a = offsets[s]!;
      const b = offsets[s + 1]!;
      if (b <= a) continue;
      const inv = 1 / (b - a);
      for (let r = a; r < b; r++) {
        for (let c = 0; c < cols; c++) {
          const v = z[r * cols + c]!;
          const sg = sigmoid(v);
          const d = dout[s * cols + c]! * inv * sg * (1 + v * (1 - sg));
          dz[r * cols + c] = d;
          dbias[c]! += d;
        }
      }
    }
  }

  addBias(x: FloatArray, bias: FloatArray, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) x[r * cols + c]! += bias[c]!;
  }

  colSumAdd(src: FloatArray, rows: number, cols: number, dst: FloatArray): void {
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += src[r * cols + c]!;
      dst[c]! += s;
    }
  }

  addInto(dst: FloatArray, src: FloatArray, n: number): void {
    for (let i = 0; i < n; i++) dst[i]! += src[i]!;
  }

  layerNormForward(
    x: FloatArray, gamma: FloatArray, beta: FloatArray, rows: number, cols: number, eps: number,
    y: FloatArray, mean: FloatArray, rstd: FloatArray,
  ): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let mu = 0;
      for (let c = 0; c < cols; c++) mu += x[o + c]!;
      mu /= cols;
      let v = 0;
      for (let c = 0; c < cols; c++) v += (x[o + c]! - mu) ** 2;
      v /= cols;
      const rs = 1 / Math.sqrt(v + eps);
      mean[r] = mu;
      rstd[r] = rs;
      for (let c = 0; c < cols; c++) y[o + c] = (x[o + c]! - mu) * rs * gamma[c]! + beta[c]!;
    }
  }

  layerNormBackward(
    dy: FloatArray, x: FloatArray, gamma: FloatArray, mean: FloatArray, rstd: FloatArray,
    rows: number, cols: number, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray,
  ): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const mu = mean[r]!;
      const rs = rstd[r]!;
      // dx = rs·(g − mean(g) − x̂·mean(g·x̂)), g = dy·γ
      let sg = 0;
      let sgx = 0;
      for (let c = 0; c < cols; c++) {
        const xh = (x[o + c]! - mu) * rs;
        const g = dy[o + c]! * gamma[c]!;
        sg += g;
        sgx += g * xh;
        dgamma[c]! += dy[o + c]! * xh;
        dbeta[c]! += dy[o + c]!;
      }
      sg /= cols;
      sgx /= cols;
      for (let c = 0; c < cols; c++) {
        const xh = (x[o + c]! - mu) * rs;
        dx[o + c]! += rs * (dy[o + c]! * gamma[c]! - sg - xh * sgx);
      }
    }
  }

  fourierFeatures(pos: FloatArray, edges: EdgeLayout, freqs: number, out: FloatArray): void {
    const w = 6 * freqs;
    for (let p = 0; p < edges.numPairs; p++) {
      const e = edges.pairFwd[p]!;
      const i = edges.src[e]!;
      const j = edges.dst[e]!;
      const o = p * w;
      for (let d = 0; d < 3; d++) {
        const delta = pos[j * 3 + d]! - pos[i * 3 + d]!;
        for (let k = 0; k < freqs; k++) {
          const z = delta * TWO_PI * k;
          out[o + d * freqs + k] = Math.sin(z);
          out[o + 3 * freqs + d * freqs + k] = Math.cos(z);
        }
      }
    }
  }

  fourierBackward(pos: FloatArray, edges: EdgeLayout, freqs: number, dpsi: FloatArray, dpos: FloatArray): void {
    const w = 6 * freqs;
    for (let p = 0; p < edges.numPairs; p++) {
      const e = edges.pairFwd[p]!;
      const i = edges.src[e]!;
      const j = edges.dst[e]!;
      const o = p * w;
      for (let d = 0; d < 3; d++) {
        const delta = pos[j * 3 + d]! - pos[i * 3 + d]!;
        let g = 0;
        for (let k = 0; k < freqs; k++) {
          const om = TWO_PI * k;
          const z = delta * om;
          g += om * (Math.cos(z) * dpsi[o + d * freqs + k]! - Math.sin(z) * dpsi[o + 3 * freqs + d * freqs + k]!);
        }
        dpos[j * 3 + d]! += g;
        dpos[i * 3 + d]! -= g;
      }
    }
  }

  segmentMean(x: FloatArray, offsets: Int32Array, segments: number, cols: number, out: FloatArray): void {
    for (let s = 0; s < segments; s++) {
      const r0 = offsets[s]!;
      const r1 = offsets[s + 1]!;
      const inv = r1 > r0 ? 1 / (r1 - r0) : 0;
      for (let c = 0; c < cols; c++) {
        let acc = 0;
        for (let r = r0; r < r1; r++) acc += x[r * cols + c]!;
        out[s * cols + c] = acc * inv;
      }
    }
  }

  segmentMeanBackward(dout: FloatArray, offsets: Int32Array, segments: number, cols: number, dx: FloatArray): void {
    for (let s = 0; s < segments; s++) {
      const r0 = offsets[s]!;
      const r1 = offsets[s + 1]!;
      if (r1 <= r0) continue;
      const inv = 1 / (r1 - r0);
      for (let r = r0; r < r1; r++) for (let c = 0; c < cols; c++) dx[r * cols + c] = dout[s * cols + c]! * inv;
    }
  }

  segmentSum(x: FloatArray, offsets: Int32Array, segments: number, cols: number, out: FloatArray): void {
    for (let s = 0; s < segments; s++) {
      for (let c = 0; c < cols; c++) {
        let acc = 0;
        for (let r = offsets[s]!; r < offsets[s + 1]!; r++) acc += x[r * cols + c]!;
        out[s * cols + c] = acc;
      }
    }
  }

  segmentCentre(x: FloatArray, offsets: Int32Array, segments: number, cols: number): void {
    for (let s = 0; s < segments; s++) {
      const r0 = offsets[s]!;
      const r1 = offsets[s + 1]!;
      if (r1 <= r0) continue;
      for (let c = 0; c < cols; c++) {
        let acc = 0;
        for (let r = r0; r < r1; r++) acc += x[r * cols + c]!;
        const mu = acc / (r1 - r0);
        for (let r = r0; r < r1; r++) x[r * cols + c]! -= mu;
      }
    }
  }

  segmentBroadcastAdd(x: FloatArray, offsets: Int32Array, segments: number, cols: number, src: FloatArray): void {
    for (let s = 0; s < segments; s++) {
      for (let r = offsets[s]!; r < offsets[s + 1]!; r++) {
        for (let c = 0; c < cols; c++) x[r * cols + c]! += src[s * cols + c]!;
      }
    }
  }

  gatherRows(table: FloatArray, ids: Int32Array, cols: number, out: FloatArray): void {
    for (let r = 0; r < ids.length; r++) {
      const t = ids[r]! * cols;
      for (let c = 0; c < cols; c++) out[r * cols + c] = table[t + c]!;
    }
  }

  scatterAddRows(dout: FloatArray, ids: Int32Array, cols: number, dtable: FloatArray): void {
    for (let r = 0; r < ids.length; r++) {
      const t = ids[r]! * cols;
      for (let c = 0; c < cols; c++) dtable[t + c]! += dout[r * cols + c]!;
    }
  }

  edgeCombine(
    z: FloatArray, pq: FloatArray, a: FloatArray, b: FloatArray, c: FloatArray, wv: FloatArray, bias: FloatArray,
    dv: FloatArray, edges: EdgeLayout, cols: number,
  ): void {
    for (let e = 0; e < edges.numEdges; e++) {
      const i = edges.src[e]!;
      const j = edges.dst[e]!;
      const g = edges.crystalOfEdge[e]!;
      const q = edges.pairOfEdge[e]!;
      const p = q >= 0 ? q : -q - 1;
      const sign = q >= 0 ? 1 : -1;
      const dv0 = dv[e * 3]!;
      const dv1 = dv[e * 3 + 1]!;
      const dv2 = dv[e * 3 + 2]!;
      for (let h = 0; h < cols; h++) {
        z[e * cols + h] =
          sign * pq[p * 2 * cols + h]! + pq[p * 2 * cols + cols + h]! +
          a[i * cols + h]! + b[j * cols + h]! + c[g * cols + h]! +
          wv[h * 3]! * dv0 + wv[h * 3 + 1]! * dv1 + wv[h * 3 + 2]! * dv2 + bias[h]!;
      }
    }
  }

  edgeCombineBackward(
    dz: FloatArray, dv: FloatArray, edges: EdgeLayout, cols: number, numAtoms: number, numCrystals: number,
    da: FloatArray, db: FloatArray, dc: FloatArray, dwv: FloatArray, dpq: FloatArray,
  ): void {
    da.fill(0, 0, numAtoms * cols);
    db.fill(0, 0, numAtoms * cols);
    dc.fill(0, 0, numCrystals * cols);
    dpq.fill(0, 0, edges.numPairs * 2 * cols);
    for (let e = 0; e < edges.numEdges; e++) {
      const i = edges.src[e]!;
      const j = edges.dst[e]!;
      const g = edges.crystalOfEdge[e]!;
      const q = edges.pairOfEdge[e]!;
      const p = q >= 0 ? q : -q - 1;
      const sign = q >= 0 ? 1 : -1;
      const dv0 = dv[e * 3]!;
      const dv1 = dv[e * 3 + 1]!;
      const dv2 = dv[e * 3 + 2]!;
      for (let h = 0; h < cols; h++) {
        const d = dz[e * cols + h]!;
        da[i * cols + h]! += d;
        db[j * cols + h]! += d;
        dc[g * cols + h]! += d;
        dwv[h * 3]! += d * dv0;
        dwv[h * 3 + 1]! += d * dv1;
        dwv[h * 3 + 2]! += d * dv2;
        dpq[p * 2 * cols + h]! += sign * d;
        dpq[p * 2 * cols + cols + h]! += d;
      }
    }
  }

  adamw(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, vmax: FloatArray | null, n: number, hp: AdamWHyper): void {
    const decay = 1 - hp.lr * hp.weightDecay;
    const bc1 = 1 - hp.beta1 ** hp.step;
    const bc2sqrt = Math.sqrt(1 - hp.beta2 ** hp.step);
    const stepSize = hp.lr / bc1;
    for (let i = 0; i < n; i++) {
      const gi = g[i]!;
      const mi = hp.beta1 * m[i]! + (1 - hp.beta1) * gi;
      const vi = hp.beta2 * v[i]! + (1 - hp.beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      let second = v[i]!;
      if (vmax) {
        if (second > vmax[i]!) vmax[i] = second;
        second = vmax[i]!;
      }
      const denom = Math.sqrt(second) / bc2sqrt + hp.eps;
      p[i] = p[i]! * decay - (stepSize * m[i]!) / denom;
    }
  }

  emaUpdate(ema: FloatArray, p: FloatArray, n: number, decay: number): void {
    const w = 1 - decay;
    for (let i = 0; i < n; i++) ema[i]! += w * (p[i]! - ema[i]!);
  }
}

export const referenceKernels: Kernels = new ReferenceKernels();
