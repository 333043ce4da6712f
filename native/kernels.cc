// Fused elementwise / segment kernels of the CSPVNet engine (float32), the native
// counterparts of src/engine/reference.ts (same names, same semantics; see the
// doc comments of src/engine/kernels.ts). Both cores are used through OpenMP
// where the work is large enough to pay for the fork/join.
#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace kldm {

static constexpr int64_t kParallelMin = 1 << 15;  // elements below which threads do not pay

// Reductions (bias, LayerNorm and dWv gradients) split their outer range into kBlocks fixed
// blocks, hand the blocks to threads dynamically (so a thread descheduled by another process
// does not hold up the other), and add the per-block partial sums in block order: results do
// not depend on the thread count or on scheduling, so training is bitwise reproducible.
static constexpr int64_t kBlocks = 32;
static inline int64_t block_begin(int64_t b, int64_t n, int64_t blocks) { return b * n / blocks; }

static inline int nthreads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}
static inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// exp(x) for float, branch-free so that gcc vectorises the loops that call it:
// Cephes expf (range reduction by ln2 split in two constants, degree-6 polynomial),
// relative error ~2e-7 over the clamped range [-87.3, 88]. n = round(x·log2 e) is
// obtained with the 1.5·2^23 shifter (no floor call, which blocks vectorisation), and
// 2^n is built in the exponent bits.
static inline float fast_expf(float x) {
  x = std::min(std::max(x, -87.3f), 88.0f);
  const float shifter = 12582912.0f;
  const float t = x * 1.44269504088896341f + shifter;
  const float n = t - shifter;
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t ti;
  std::memcpy(&ti, &t, sizeof ti);
  const int32_t bits = (ti - 0x4B400000 + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

static inline float sigmoidf(float z) { return 1.0f / (1.0f + fast_expf(-z)); }

void bias_silu(float* z, const float* bias, int64_t rows, int64_t cols, float* out) {
#pragma omp parallel for schedule(dynamic, 32) if (rows * cols > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    float* zr = z + r * cols;
    float* orow = out + r * cols;
    if (bias) {
      for (int64_t c = 0; c < cols; c++) {
        float v = zr[c] + bias[c];
        zr[c] = v;
        orow[c] = v * sigmoidf(v);
      }
    } else {
      for (int64_t c = 0; c < cols; c++) {
        float v = zr[c];
        orow[c] = v * sigmoidf(v);
      }
    }
  }
}

void silu_backward(const float* dout, const float* z, int64_t n, float* dz) {
#pragma omp parallel for schedule(dynamic, 8192) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    float v = z[i];
    float s = sigmoidf(v);
    dz[i] = dout[i] * s * (1.0f + v * (1.0f - s));
  }
}

void sigmoid_gate(const float* z, const float* value, int64_t n, float* gate, float* out) {
#pragma omp parallel for schedule(dynamic, 8192) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const float s = sigmoidf(z[i]);
    gate[i] = s;
    if (out) out[i] = value[i] * s;
  }
}

void sigmoid_gate_backward(const float* dout, const float* gate, const float* value, int64_t n, float* dvalue, float* dz) {
#pragma omp parallel for schedule(dynamic, 8192) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const float s = gate[i];
    float dg = dout[i];
    if (value) {
      dvalue[i] = dout[i] * s;
      dg = dout[i] * value[i];
    }
    dz[i] = dg * s * (1.0f - s);
  }
}

void hadamard(const float* x, const float* a, const float* b, int64_t n, float* xa, float* xb) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    xa[i] = x[i] * a[i];
    if (b) xb[i] = x[i] * b[i];
  }
}

void bias_silu_segment_mean(float* z, const float* bias, const int32_t* off, int64_t S, int64_t cols, float* out) {
#pragma omp parallel for schedule(dynamic, 16) if ((int64_t)off[S] * cols > kParallelMin)
  for (int64_t s = 0; s < S; s++) {
    float* o = out + s * cols;
    std::fill(o, o + cols, 0.0f);
    const int64_t r0 = off[s], r1 = off[s + 1];
    if (r1 <= r0) continue;
    for (int64_t r = r0; r < r1; r++) {
      float* zr = z + r * cols;
      for (int64_t c = 0; c < cols; c++) {
        const float v = zr[c] + bias[c];
        zr[c] = v;
        o[c] += v * sigmoidf(v);
      }
    }
    const float inv = 1.0f / (float)(r1 - r0);
    for (int64_t c = 0; c < cols; c++) o[c] *= inv;
  }
}

void silu_segment_mean_backward(const float* dout, const float* z, const int32_t* off, int64_t S, int64_t cols,
                                float* dz, float* dbias) {
  const int64_t blocks = (int64_t)off[S] * cols > kParallelMin ? std::min<int64_t>(kBlocks, S) : 1;
  std::vector<float> part((size_t)blocks * cols, 0.0f);
#pragma omp parallel for schedule(dynamic, 1) if (blocks > 1)
  for (int64_t bk = 0; bk < blocks; bk++) {
    float* pb = part.data() + (size_t)bk * cols;
    for (int64_t s = block_begin(bk, S, blocks); s < block_begin(bk + 1, S, blocks); s++) {
      const int64_t r0 = off[s], r1 = off[s + 1];
      if (r1 <= r0) continue;
      const float inv = 1.0f / (float)(r1 - r0);
      const float* d = dout + s * cols;
      for (int64_t r = r0; r < r1; r++) {
        const float* zr = z + r * cols;
        float* o = dz + r * cols;
        for (int64_t c = 0; c < cols; c++) {
          const float v = zr[c];
          const float sg = sigmoidf(v);
          const float g = d[c] * inv * sg * (1.0f + v * (1.0f - sg));
          o[c] = g;
          pb[c] += g;
        }
      }
    }
  }
  for (int64_t bk = 0; bk < blocks; bk++)
    for (int64_t c = 0; c < cols; c++) dbias[c] += part[(size_t)bk * cols + c];
}

void add_bias(float* x, const float* bias, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(dynamic, 32) if (rows * cols > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    float* xr = x + r * cols;
    for (int64_t c = 0; c < cols; c++) xr[c] += bias[c];
  }
}

void col_sum_add(const float* src, int64_t rows, int64_t cols, float* dst) {
  const int64_t blocks = rows * cols > kParallelMin ? std::min<int64_t>(kBlocks, rows) : 1;
  std::vector<double> part((size_t)blocks * cols, 0.0);
#pragma omp parallel for schedule(dynamic, 1) if (blocks > 1)
  for (int64_t bk = 0; bk < blocks; bk++) {
    double* acc = part.data() + (size_t)bk * cols;
    for (int64_t r = block_begin(bk, rows, blocks); r < block_begin(bk + 1, rows, blocks); r++) {
      const float* sr = src + r * cols;
      for (int64_t c = 0; c < cols; c++) acc[c] += sr[c];
    }
  }
  for (int64_t c = 0; c < cols; c++) {
    double sum = 0;
    for (int64_t bk = 0; bk < blocks; bk++) sum += part[(size_t)bk * cols + c];
    dst[c] += (float)sum;
  }
}

void add_into(float* dst, const float* src, int64_t n) {
#pragma omp parallel for schedule(dynamic, 8192) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) dst[i] += src[i];
}

void layer_norm_forward(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t cols, float eps,
                        float* y, float* mean, float* rstd) {
#pragma omp parallel for schedule(dynamic, 32) if (rows * cols > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * cols;
    double mu = 0;
    for (int64_t c = 0; c < cols; c++) mu += xr[c];
    mu /= (double)cols;
    double var = 0;
    for (int64_t c = 0; c < cols; c++) {
      double d = xr[c] - mu;
      var += d * d;
    }
    var /= (double)cols;
    float rs = (float)(1.0 / std::sqrt(var + eps));
    float m = (float)mu;
    mean[r] = m;
    rstd[r] = rs;
    float* yr = y + r * cols;
    for (int64_t c = 0; c < cols; c++) yr[c] = (xr[c] - m) * rs * gamma[c] + beta[c];
  }
}

void layer_norm_backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                         int64_t rows, int64_t cols, float* dx, float* dgamma, float* dbeta) {
  const int64_t blocks = rows * cols > kParallelMin ? std::min<int64_t>(kBlocks, rows) : 1;
  std::vector<float> part((size_t)blocks * 2 * cols, 0.0f);
#pragma omp parallel for schedule(dynamic, 1) if (blocks > 1)
  for (int64_t bk = 0; bk < blocks; bk++) {
    float* pg = part.data() + (size_t)bk * 2 * cols;
    float* pb = pg + cols;
    for (int64_t r = block_begin(bk, rows, blocks); r < block_begin(bk + 1, rows, blocks); r++) {
      const float* xr = x + r * cols;
      const float* dyr = dy + r * cols;
      const float mu = mean[r], rs = rstd[r];
      float sg = 0, sgx = 0;
      for (int64_t c = 0; c < cols; c++) {
        const float xh = (xr[c] - mu) * rs;
        const float g = dyr[c] * gamma[c];
        sg += g;
        sgx += g * xh;
        pg[c] += dyr[c] * xh;
        pb[c] += dyr[c];
      }
      sg /= (float)cols;
      sgx /= (float)cols;
      float* dxr = dx + r * cols;
      for (int64_t c = 0; c < cols; c++) {
        const float xh = (xr[c] - mu) * rs;
        dxr[c] += rs * (dyr[c] * gamma[c] - sg - xh * sgx);
      }
    }
  }
  for (int64_t bk = 0; bk < blocks; bk++) {
    const float* pg = part.data() + (size_t)bk * 2 * cols;
    for (int64_t c = 0; c < cols; c++) {
      dgamma[c] += pg[c];
      dbeta[c] += pg[cols + c];
    }
  }
}

// sin/cos(kθ) for k = 0..F-1 by the angle-addition recurrence in double
// (exact to ~1e-14 over 128 steps, and much cheaper than 2F libm calls).
// One row per pair p (its forward edge i→j, i < j).
void fourier_features(const float* pos, const int32_t* src, const int32_t* dst, const int32_t* pair_fwd, int64_t P,
                      int64_t F, float* out) {
  const double two_pi = 6.283185307179586476925286766559;
#pragma omp parallel for schedule(dynamic, 16) if (P * F > 4096)
  for (int64_t p = 0; p < P; p++) {
    const int32_t e = pair_fwd[p];
    const int32_t i = src[e], j = dst[e];
    float* o = out + p * 6 * F;
    for (int d = 0; d < 3; d++) {
      double delta = (double)pos[j * 3 + d] - (double)pos[i * 3 + d];
      double th = two_pi * delta;
      double s1 = std::sin(th), c1 = std::cos(th);
      double s = 0.0, c = 1.0;
      float* os = o + d * F;
      float* oc = o + 3 * F + d * F;
      for (int64_t k = 0; k < F; k++) {
        os[k] = (float)s;
        oc[k] = (float)c;
        double sn = s * c1 + c * s1;
        c = c * c1 - s * s1;
        s = sn;
      }
    }
  }
}

void fourier_backward(const float* pos, const int32_t* src, const int32_t* dst, const int32_t* pair_fwd,
                      const int32_t* crystal_pair_offsets, int64_t G, int64_t F, const float* dpsi, float* dpos) {
  const double two_pi = 6.283185307179586476925286766559;
  // pairs of a crystal only touch that crystal's atoms: parallel over crystals is race-free
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t g = 0; g < G; g++) {
    for (int64_t p = crystal_pair_offsets[g]; p < crystal_pair_offsets[g + 1]; p++) {
      const int32_t e = pair_fwd[p];
      const int32_t i = src[e], j = dst[e];
      const float* dp = dpsi + p * 6 * F;
      for (int d = 0; d < 3; d++) {
        double delta = (double)pos[j * 3 + d] - (double)pos[i * 3 + d];
        double th = two_pi * delta;
        double s1 = std::sin(th), c1 = std::cos(th);
        double s = 0.0, c = 1.0, acc = 0.0;
        for (int64_t k = 0; k < F; k++) {
          acc += two_pi * (double)k * (c * dp[d * F + k] - s * dp[3 * F + d * F + k]);
          double sn = s * c1 + c * s1;
          c = c * c1 - s * s1;
          s = sn;
        }
        dpos[j * 3 + d] += (float)acc;
        dpos[i * 3 + d] -= (float)acc;
      }
    }
  }
}

void segment_mean(const float* x, const int32_t* off, int64_t S, int64_t cols, float* out) {
#pragma omp parallel for schedule(dynamic, 32) if ((int64_t)off[S] * cols > kParallelMin)
  for (int64_t s = 0; s < S; s++) {
    float* o = out + s * cols;
    std::fill(o, o + cols, 0.0f);
    int64_t r0 = off[s], r1 = off[s + 1];
    if (r1 <= r0) continue;
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = x + r * cols;
      for (int64_t c = 0; c < cols; c++) o[c] += xr[c];
    }
    float inv = 1.0f / (float)(r1 - r0);
    for (int64_t c = 0; c < cols; c++) o[c] *= inv;
  }
}

void segment_mean_backward(const float* dout, const int32_t* off, int64_t S, int64_t cols, float* dx) {
#pragma omp parallel for schedule(dynamic, 32) if ((int64_t)off[S] * cols > kParallelMin)
  for (int64_t s = 0; s < S; s++) {
    int64_t r0 = off[s], r1 = off[s + 1];
    if (r1 <= r0) continue;
    float inv = 1.0f / (float)(r1 - r0);
    const float* d = dout + s * cols;
    for (int64_t r = r0; r < r1; r++) {
      float* o = dx + r * cols;
      for (int64_t c = 0; c < cols; c++) o[c] = d[c] * inv;
    }
  }
}

void segment_sum(const float* x, const int32_t* off, int64_t S, int64_t cols, float* out) {
#pragma omp parallel for schedule(dynamic, 32) if ((int64_t)off[S] * cols > kParallelMin)
  for (int64_t s = 0; s < S; s++) {
    float* o = out + s * cols;
    std::fill(o, o + cols, 0.0f);
    for (int64_t r = off[s]; r < off[s + 1]; r++) {
      const float* xr = x + r * cols;
      for (int64_t c = 0; c < cols; c++) o[c] += xr[c];
    }
  }
}

void segment_centre(float* x, const int32_t* off, int64_t S, int64_t cols) {
  for (int64_t s = 0; s < S; s++) {
    int64_t r0 = off[s], r1 = off[s + 1];
    if (r1 <= r0) continue;
    for (int64_t c = 0; c < cols; c++) {
      double acc = 0;
      for (int64_t r = r0; r < r1; r++) acc += x[r * cols + c];
      float mu = (float)(acc / (double)(r1 - r0));
      for (int64_t r = r0; r < r1; r++) x[r * cols + c] -= mu;
    }
  }
}

void segment_broadcast_add(float* x, const int32_t* off, int64_t S, int64_t cols, const float* src) {
#pragma omp parallel for schedule(dynamic, 32) if ((int64_t)off[S] * cols > kParallelMin)
  for (int64_t s = 0; s < S; s++) {
    const float* v = src + s * cols;
    for (int64_t r = off[s]; r < off[s + 1]; r++) {
      float* xr = x + r * cols;
      for (int64_t c = 0; c < cols; c++) xr[c] += v[c];
    }
  }
}

void gather_rows(const float* table, const int32_t* ids, int64_t rows, int64_t cols, float* out) {
  for (int64_t r = 0; r < rows; r++) std::memcpy(out + r * cols, table + (int64_t)ids[r] * cols, cols * sizeof(float));
}

void scatter_add_rows(const float* dout, const int32_t* ids, int64_t rows, int64_t cols, float* dtable) {
  for (int64_t r = 0; r < rows; r++) {
    float* t = dtable + (int64_t)ids[r] * cols;
    const float* d = dout + r * cols;
    for (int64_t c = 0; c < cols; c++) t[c] += d[c];
  }
}

void edge_combine(float* z, const float* pq, const float* a, const float* b, const float* c, const float* wv,
                  const float* bias, const float* dv, const int32_t* src, const int32_t* dst,
                  const int32_t* crystal_of_edge, const int32_t* pair_of_edge, int64_t E, int64_t cols) {
#pragma omp parallel for schedule(dynamic, 32) if (E * cols > kParallelMin)
  for (int64_t e = 0; e < E; e++) {
    const int32_t i = src[e], j = dst[e], g = crystal_of_edge[e], q = pair_of_edge[e];
    const int64_t p = q >= 0 ? q : -(int64_t)q - 1;
    const float sign = q >= 0 ? 1.0f : -1.0f;
    const float dv0 = dv[e * 3], dv1 = dv[e * 3 + 1], dv2 = dv[e * 3 + 2];
    float* ze = z + e * cols;
    const float* ps = pq + p * 2 * cols;
    const float* pc = ps + cols;
    const float* ai = a + (int64_t)i * cols;
    const float* bj = b + (int64_t)j * cols;
    const float* cg = c + (int64_t)g * cols;
    for (int64_t h = 0; h < cols; h++)
      ze[h] = sign * ps[h] + pc[h] + ai[h] + bj[h] + cg[h] + wv[h * 3] * dv0 + wv[h * 3 + 1] * dv1 +
              wv[h * 3 + 2] * dv2 + bias[h];
  }
}

void edge_combine_backward(const float* dz, const float* dv, const int32_t* dst, const int32_t* node_edge_offsets,
                           const int32_t* atom_offsets, const int32_t* pair_of_edge, const int32_t* crystal_pair_offsets,
                           int64_t G, int64_t cols, float* da, float* db, float* dc, float* dwv, float* dpq) {
  // crystals are independent: every row of da/db/dc/dpq is written by one block; dwv gets
  // per-block partial sums (one contiguous row per velocity component, so it vectorises)
  const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>(kBlocks, G));
  std::vector<float> part((size_t)blocks * 3 * cols, 0.0f);
#pragma omp parallel for schedule(dynamic, 1) if (blocks > 1)
  for (int64_t bk = 0; bk < blocks; bk++) {
    float* p0 = part.data() + (size_t)bk * 3 * cols;
    float* p1 = p0 + cols;
    float* p2 = p1 + cols;
    for (int64_t g = block_begin(bk, G, blocks); g < block_begin(bk + 1, G, blocks); g++) {
      const int64_t a0 = atom_offsets[g], a1 = atom_offsets[g + 1];
      std::fill(db + a0 * cols, db + a1 * cols, 0.0f);
      std::fill(dpq + (int64_t)crystal_pair_offsets[g] * 2 * cols, dpq + (int64_t)crystal_pair_offsets[g + 1] * 2 * cols,
                0.0f);
      float* dcg = dc + g * cols;
      std::fill(dcg, dcg + cols, 0.0f);
      for (int64_t i = a0; i < a1; i++) {
        float* dai = da + i * cols;
        std::fill(dai, dai + cols, 0.0f);
        for (int64_t e = node_edge_offsets[i]; e < node_edge_offsets[i + 1]; e++) {
          const float* d = dz + e * cols;
          float* dbj = db + (int64_t)dst[e] * cols;
          const int32_t q = pair_of_edge[e];
          const int64_t p = q >= 0 ? q : -(int64_t)q - 1;
          const float sign = q >= 0 ? 1.0f : -1.0f;
          float* ps = dpq + p * 2 * cols;
          float* pc = ps + cols;
          const float v0 = dv[e * 3], v1 = dv[e * 3 + 1], v2 = dv[e * 3 + 2];
          // the seven rows written here lie in different buffers or different rows of one
          // (da, db, dpq's sine and cosine halves, the three dwv partials) and dz is only read:
          // no two alias, which gcc cannot prove with this many pointers (it then leaves the
          // loop scalar on AVX2), so say so.
#pragma GCC ivdep
          for (int64_t h = 0; h < cols; h++) {
            const float x = d[h];
            dai[h] += x;
            dbj[h] += x;
            ps[h] += sign * x;
            pc[h] += x;
            p0[h] += x * v0;
            p1[h] += x * v1;
            p2[h] += x * v2;
          }
        }
        for (int64_t h = 0; h < cols; h++) dcg[h] += dai[h];
      }
    }
  }
  for (int64_t bk = 0; bk < blocks; bk++) {
    const float* p = part.data() + (size_t)bk * 3 * cols;
    for (int64_t h = 0; h < cols; h++)
      for (int d = 0; d < 3; d++) dwv[h * 3 + d] += p[d * cols + h];
  }
}

void adamw(float* p, const float* g, float* m, float* v, float* vmax, int64_t n, double lr, double beta1, double beta2,
           double eps, double wd, double step) {
  const float decay = (float)(1.0 - lr * wd);
  const float b1 = (float)beta1, b2 = (float)beta2;
  const float step_size = (float)(lr / (1.0 - std::pow(beta1, step)));
  const float inv_bc2sqrt = (float)(1.0 / std::sqrt(1.0 - std::pow(beta2, step)));
  const float feps = (float)eps;
#pragma omp parallel for schedule(dynamic, 8192) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    float gi = g[i];
    float mi = b1 * m[i] + (1.0f - b1) * gi;
    float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    float second = vi;
    if (vmax) {
      second = std::max(vmax[i], vi);
      vmax[i] = second;
    }
    float denom = std::sqrt(second) * inv_bc2sqrt + feps;
    p[i] = p[i] * decay - step_size * mi / denom;
  }
}

void ema_update(float* ema, const float* p, int64_t n, double decay) {
  const float w = (float)(1.0 - decay);
#pragma omp parallel for schedule(dynamic, 8192) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) ema[i] += w * (p[i] - ema[i]);
}

}  // namespace kldm
