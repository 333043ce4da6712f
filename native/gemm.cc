#include "gemm.h"

#include <algorithm>

#ifdef KLDM_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef KLDM_HAVE_DNNL
#include <dnnl.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

namespace kldm {

static GemmBackend g_default = GemmBackend::Auto;

void set_default_backend(GemmBackend b) { g_default = b; }
GemmBackend default_backend() { return g_default; }

bool has_backend(GemmBackend b) {
  switch (b) {
#ifdef KLDM_HAVE_OPENBLAS
    case GemmBackend::OpenBlas: return true;
#endif
#ifdef KLDM_HAVE_DNNL
    case GemmBackend::Dnnl: return true;
#endif
    case GemmBackend::Auto: return true;
    default: return false;
  }
}

int gemm_threads() {
#ifdef KLDM_HAVE_OPENBLAS
  return openblas_get_num_threads();
#elif defined(_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Library choice. Measured on the network's shapes (bench/RESULTS.md): each library alone
// reaches 230-300 GFLOP/s on every large product of a training step, but mixing them
// per shape collapses both to 60-90 GFLOP/s, because OpenBLAS's pthreads spin-wait
// after a call while oneDNN's OpenMP threads (shared with our elementwise kernels)
// need the same two cores. So one library serves every call: oneDNN when built
// (its OpenMP pool is the one our kernels use), else OpenBLAS.
static GemmBackend choose_backend(bool, bool, int64_t, int64_t, int64_t) {
#if defined(KLDM_HAVE_DNNL)
  return GemmBackend::Dnnl;
#else
  return GemmBackend::OpenBlas;
#endif
}

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc, GemmBackend forced) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {
    for (int64_t i = 0; i < m; i++) {
      float* row = c + i * ldc;
      if (beta == 0.0f)
        std::fill(row, row + n, 0.0f);
      else
        for (int64_t j = 0; j < n; j++) row[j] *= beta;
    }
    return;
  }
  GemmBackend be = forced != GemmBackend::Auto ? forced : g_default;
  if (be == GemmBackend::Auto || !has_backend(be)) be = choose_backend(transA, transB, m, n, k);
#ifdef KLDM_HAVE_DNNL
  if (be == GemmBackend::Dnnl) {
    dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
#endif
#ifdef KLDM_HAVE_OPENBLAS
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, (int)m, (int)n,
              (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
  return;
#endif
  // No BLAS at all (should not be built this way): plain loops.
  for (int64_t i = 0; i < m; i++) {
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int64_t p = 0; p < k; p++)
        s += (double)(transA ? a[p * lda + i] : a[i * lda + p]) * (double)(transB ? b[j * ldb + p] : b[p * ldb + j]);
      float* cij = c + i * ldc + j;
      *cij = (beta == 0.0f ? 0.0f : beta * *cij) + alpha * (float)s;
    }
  }
}

}  // namespace kldm
