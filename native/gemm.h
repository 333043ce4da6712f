// Row-major SGEMM dispatch between OpenBLAS (cblas_sgemm) and oneDNN (dnnl_sgemm).
// Which library is faster depends on the shape (issue #3 measurements: oneDNN on the
// small node-sized products, OpenBLAS on the large weight-gradient ones), so the
// choice is made per call; see choose_backend() in gemm.cc.
#pragma once
#include <cstdint>

namespace kldm {

enum class GemmBackend { Auto = 0, OpenBlas = 1, Dnnl = 2 };

// C = alpha*op(A)*op(B) + beta*C, row-major, op(A) m×k, op(B) k×n.
void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc, GemmBackend forced = GemmBackend::Auto);

void set_default_backend(GemmBackend b);
GemmBackend default_backend();
bool has_backend(GemmBackend b);
int gemm_threads();

}  // namespace kldm
