// Mixed-precision GEMM for the bf16 engine path (docs/engine.md "Precision"): the two
// operands are rounded to bfloat16 (round to nearest even), the products are accumulated
// in float32 by oneDNN's matmul (brgemm, AVX512-BF16), and C stays float32. Everything else
// of the engine (master weights, optimiser state, elementwise kernels, reductions) stays f32.
#pragma once
#include <cstdint>

namespace kldm {

// True when the addon was built with oneDNN and oneDNN reports an ISA with native bf16
// dot products (AVX512-BF16 or AMX) on this CPU. Without it oneDNN would emulate bf16
// (slower than f32), so the engine falls back to f32.
bool bf16_supported();
// oneDNN's effective CPU ISA in words (e.g. "avx512_core_bf16"), or "no oneDNN".
const char* bf16_isa_name();

// dst[i] = bf16(src[i]), round to nearest even; denormal inputs become (signed) zero and NaN
// stays NaN, exactly as the AVX512-BF16 instruction VCVTNE2PS2BF16 does.
void f32_to_bf16(const float* src, uint16_t* dst, int64_t n);
// The scalar rounding rule (reference of the vector kernel, used for tails).
uint16_t f32_to_bf16_scalar(float x);

// bf16 copies of whole float32 arrays kept between GEMM calls: a GEMM operand that lies inside
// a pinned array uses the copy (same layout) instead of converting again. The caller owns
// consistency: it pins an array after writing it and unpins it before writing it again.
void bf16_pin(const float* base, int64_t n);
void bf16_unpin(const float* base);
void bf16_unpin_all();
int64_t bf16_pinned_count();

// C = alpha·op(A)·op(B) + beta·C (row-major, as sgemm) with bf16 operands and f32
// accumulation. Returns false (nothing done) when it cannot run this call (no oneDNN, alpha
// other than 1): the caller then uses sgemm.
bool gemm_bf16(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
               const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace kldm
