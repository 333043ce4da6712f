/**
 * Engine precision (docs/engine.md "Precision"): 'f32' (default, every product in float32) or
 * 'bf16' (mixed precision as in GPU training practice: the operands of the large GEMMs are
 * rounded to bfloat16, products are accumulated in float32, and everything else — master
 * weights, gradients, optimiser state, elementwise kernels, reductions — stays float32).
 *
 * bf16 is only used where it is fast: the native engine built with oneDNN on a CPU whose ISA
 * has native bf16 dot products (AVX512-BF16 or AMX). Elsewhere a bf16 request falls back to
 * f32 and says so in one line.
 */
import { InputError } from '../util/errors.js';

export type Precision = 'f32' | 'bf16';
export const PRECISIONS: readonly Precision[] = ['f32', 'bf16'];

export function parsePrecision(value: string, source: string): Precision {
  if (value === 'f32' || value === 'bf16') return value;
  throw new InputError(`${source}: precision must be 'f32' or 'bf16', got '${value}'`);
}

/** What the loaded engine can do (from the native addon; null when the addon is not loaded). */
export interface PrecisionCapabilities {
  /** the native addon is loaded (the reference kernels have no bf16 path) */
  native: boolean;
  /** oneDNN is built in and its effective ISA has native bf16 dot products */
  bf16: boolean;
  /** oneDNN's effective ISA in words, e.g. 'avx512_core_bf16' */
  isa: string;
}

export interface PrecisionChoice {
  precision: Precision;
  /** one line saying what is used and why (printed on stderr when bf16 was asked for) */
  line: string;
}

/** The precision actually used for a request, given the engine's capabilities. */
export function resolvePrecision(requested: Precision, caps: PrecisionCapabilities): PrecisionChoice {
  if (requested === 'f32') return { precision: 'f32', line: 'kldm: engine precision f32' };
  if (!caps.native) return { precision: 'f32', line: 'kldm: engine precision f32 (bf16 asked for, but the native engine is not loaded; the reference kernels are f32 only)' };
  if (!caps.bf16) return { precision: 'f32', line: `kldm: engine precision f32 (bf16 asked for, but this CPU/oneDNN has no native bf16 dot products: oneDNN ISA ${caps.isa})` };
  return { precision: 'bf16', line: `kldm: engine precision bf16 (bf16 GEMM operands, f32 accumulation, f32 weights and optimiser state; oneDNN ISA ${caps.isa})` };
}

/**
 * Whether a GEMM of this shape runs with bf16 operands in the bf16 path. Small or thin products
 * (the K=3 velocity fold, the 6-wide lattice blocks, the 3- and 6-wide heads) stay f32: they cost
 * nothing and rounding a 3-long dot product to 8 bits of mantissa buys nothing.
 */
export function bf16Eligible(m: number, n: number, k: number): boolean {
  return Math.min(m, n, k) >= 16 && m * n * k >= 1 << 18;
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/**
 * x rounded to bfloat16 (round to nearest even) and widened back to a number: the scalar
 * rule of native/gemm_bf16.cc (denormals become signed zero, as VCVTNE2PS2BF16 does). Used as
 * the oracle of the native conversion and of the bf16 GEMM.
 */
export function roundToBf16(x: number): number {
  f32buf[0] = x;
  let u = u32buf[0]!;
  const mag = u & 0x7fffffff;
  if (mag > 0x7f800000) return Number.NaN;
  if (mag < 0x00800000) {
    u32buf[0] = u & 0x80000000;
    return f32buf[0];
  }
  u = (u + 0x7fff + ((u >>> 16) & 1)) >>> 0;
  u32buf[0] = (u & 0xffff0000) >>> 0;
  return f32buf[0];
}
