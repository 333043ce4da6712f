/**
 * Float64 dense layers of the M3GNet reference with hand-written backward passes (no weight
 * gradients: the potential only needs d energy / d inputs). Row-major (rows x features).
 */
import type { GatedMLPWeights, LinearWeights } from './weights.js';

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** y = x W^T (+ b) for `rows` rows. */
export function linearForward(w: LinearWeights, x: Float64Array, rows: number): Float64Array {
  const y = new Float64Array(rows * w.out);
  for (let r = 0; r < rows; r++) {
    const xo = r * w.in;
    for (let o = 0; o < w.out; o++) {
      let s = w.bias ? w.bias[o]! : 0;
      const wo = o * w.in;
      for (let i = 0; i < w.in; i++) s += x[xo + i]! * w.weight[wo + i]!;
      y[r * w.out + o] = s;
    }
  }
  return y;
}

/** dx += dy W (the input gradient of linearForward). */
export function linearBackward(w: LinearWeights, dy: Float64Array, rows: number, dx: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    const xo = r * w.in;
    for (let o = 0; o < w.out; o++) {
      const g = dy[r * w.out + o]!;
      if (g === 0) continue;
      const wo = o * w.in;
      for (let i = 0; i < w.in; i++) dx[xo + i] += g * w.weight[wo + i]!;
    }
  }
}

/** What a gated MLP keeps for its backward pass. */
export interface GatedMLPTape {
  rows: number;
  /** pre-activations of each value and gate layer */
  zValue: Float64Array[];
  zGate: Float64Array[];
  /** value-stack output and sigmoid gate: out = value * gate */
  value: Float64Array;
  gate: Float64Array;
}

function silu(z: Float64Array): Float64Array {
  const y = new Float64Array(z.length);
  for (let i = 0; i < z.length; i++) y[i] = z[i]! * sigmoid(z[i]!);
  return y;
}

/** dz = dy * silu'(z), silu'(z) = s (1 + z (1 - s)), s = sigmoid(z) */
function siluBackward(z: Float64Array, dy: Float64Array): Float64Array {
  const dz = new Float64Array(z.length);
  for (let i = 0; i < z.length; i++) {
    const s = sigmoid(z[i]!);
    dz[i] = dy[i]! * s * (1 + z[i]! * (1 - s));
  }
  return dz;
}

/** matgl GatedMLP: value(x) * sigmoid(gate(x)); SiLU between layers (and after the last value layer if activateLast). */
export function gatedMLPForward(w: GatedMLPWeights, x: Float64Array, rows: number): { out: Float64Array; tape: GatedMLPTape } {
  const depth = w.layers.length;
  const zValue: Float64Array[] = [], zGate: Float64Array[] = [];
  let a = x, g = x;
  for (let k = 0; k < depth; k++) {
    const za = linearForward(w.layers[k]!, a, rows);
    const zg = linearForward(w.gates[k]!, g, rows);
    zValue.push(za);
    zGate.push(zg);
    const last = k === depth - 1;
    a = !last || w.activateLast ? silu(za) : za;
    if (!last) g = silu(zg);
    else {
      g = new Float64Array(zg.length);
      for (let i = 0; i < zg.length; i++) g[i] = sigmoid(zg[i]!);
    }
  }
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! * g[i]!;
  return { out, tape: { rows, zValue, zGate, value: a, gate: g } };
}

/** The input gradient of gatedMLPForward, added into dx. */
export function gatedMLPBackward(w: GatedMLPWeights, tape: GatedMLPTape, dOut: Float64Array, dx: Float64Array): void {
  const depth = w.layers.length;
  const { rows } = tape;
  let da = new Float64Array(dOut.length), dg = new Float64Array(dOut.length);
  for (let i = 0; i < dOut.length; i++) {
    da[i] = dOut[i]! * tape.gate[i]!;
    dg[i] = dOut[i]! * tape.value[i]!;
  }
  for (let k = depth - 1; k >= 0; k--) {
    const last = k === depth - 1;
    const za = tape.zValue[k]!, zg = tape.zGate[k]!;
    const dza = !last || w.activateLast ? siluBackward(za, da) : da;
    let dzg: Float64Array;
    if (last) {
      dzg = new Float64Array(zg.length);
      for (let i = 0; i < zg.length; i++) {
        const s = tape.gate[i]!;
        dzg[i] = dg[i]! * s * (1 - s);
      }
    } else dzg = siluBackward(zg, dg);
    if (k === 0) {
      linearBackward(w.layers[0]!, dza, rows, dx);
      linearBackward(w.gates[0]!, dzg, rows, dx);
    } else {
      da = new Float64Array(rows * w.layers[k]!.in);
      dg = new Float64Array(rows * w.gates[k]!.in);
      linearBackward(w.layers[k]!, dza, rows, da);
      linearBackward(w.gates[k]!, dzg, rows, dg);
    }
  }
}
