/**
 * Continuous encodings of atom types for de-novo generation (spec §5.1-5.2,
 * choices §13.12: class id = Z, K = 100, one-hot scale 1, n_bits = 7). Both are
 * diffused with the VP-SDE of §4 (latticeVp.ts) in their own dimension.
 */
import { NUM_TYPE_CLASSES } from './masking.js';

/** n_bits = ceil(log2 K) (= 7 for K = 100). */
export function numAnalogBits(numClasses = NUM_TYPE_CLASSES): number {
  return Math.ceil(Math.log2(numClasses));
}

/** One-hot rows h_0 ∈ {0, scale}^K (spec §5.1), N×K. */
export function oneHotTypes(ids: ArrayLike<number>, numClasses = NUM_TYPE_CLASSES, scale = 1): Float64Array {
  const out = new Float64Array(ids.length * numClasses);
  for (let i = 0; i < ids.length; i++) out[i * numClasses + ids[i]!] = scale;
  return out;
}

/** Decode one-hot-like rows by argmax (spec §5.1). */
export function argmaxTypes(h: ArrayLike<number>, numClasses = NUM_TYPE_CLASSES): Int32Array {
  const n = h.length / numClasses;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (h[i * numClasses + c]! > h[i * numClasses + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/** Analog bits (spec §5.2): bits of the id, most significant first, mapped to ±scale (2·bit − 1). */
export function analogBitsEncode(ids: ArrayLike<number>, nBits = numAnalogBits(), scale = 1): Float64Array {
  const out = new Float64Array(ids.length * nBits);
  for (let i = 0; i < ids.length; i++) {
    for (let b = 0; b < nBits; b++) {
      const bit = (ids[i]! >> (nBits - 1 - b)) & 1;
      out[i * nBits + b] = scale * (2 * bit - 1);
    }
  }
  return out;
}

/** Decode analog bits: bit = 1 if value > 0; id = Σ_b bit_b·2^{n_bits−1−b} (spec §5.2). */
export function analogBitsDecode(values: ArrayLike<number>, nBits = numAnalogBits()): Int32Array {
  const n = values.length / nBits;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let id = 0;
    for (let b = 0; b < nBits; b++) id = id * 2 + (values[i * nBits + b]! > 0 ? 1 : 0);
    out[i] = id;
  }
  return out;
}
