// Declarations of the native kernels (native/kernels.cc); semantics as in src/engine/kernels.ts.
#pragma once
#include <cstdint>

namespace kldm {
void bias_silu(float* z, const float* bias, int64_t rows, int64_t cols, float* out);
void silu_backward(const float* dout, const float* z, int64_t n, float* dz);
void hadamard(const float* x, const float* a, const float* b, int64_t n, float* xa, float* xb);
void sigmoid_gate(const float* z, const float* value, int64_t n, float* gate, float* out);
void sigmoid_gate_backward(const float* dout, const float* gate, const float* value, int64_t n, float* dvalue, float* dz);
void bias_silu_segment_mean(float* z, const float* bias, const int32_t* off, int64_t S, int64_t cols, float* out);
void silu_segment_mean_backward(const float* dout, const float* z, const int32_t* off, int64_t S, int64_t cols,
                                float* dz, float* dbias);
void add_bias(float* x, const float* bias, int64_t rows, int64_t cols);
void col_sum_add(const float* src, int64_t rows, int64_t cols, float* dst);
void add_into(float* dst, const float* src, int64_t n);
void layer_norm_forward(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t cols, float eps,
                        float* y, float* mean, float* rstd);
void layer_norm_backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                         int64_t rows, int64_t cols, float* dx, float* dgamma, float* dbeta);
void fourier_features(const float* pos, const int32_t* src, const int32_t* dst, const int32_t* pair_fwd, int64_t P,
                      int64_t F, float* out);
void fourier_backward(const float* pos, const int32_t* src, const int32_t* dst, const int32_t* pair_fwd,
                      const int32_t* crystal_pair_offsets, int64_t G, int64_t F, const float* dpsi, float* dpos);
void segment_mean(const float* x, const int32_t* off, int64_t S, int64_t cols, float* out);
void segment_mean_backward(const float* dout, const int32_t* off, int64_t S, int64_t cols, float* dx);
void segment_sum(const float* x, const int32_t* off, int64_t S, int64_t cols, float* out);
void segment_centre(float* x, const int32_t* off, int64_t S, int64_t cols);
void segment_broadcast_add(float* x, const int32_t* off, int64_t S, int64_t cols, const float* src);
void gather_rows(const float* table, const int32_t* ids, int64_t rows, int64_t cols, float* out);
void scatter_add_rows(const float* dout, const int32_t* ids, int64_t rows, int64_t cols, float* dtable);
void edge_combine(float* z, const float* pq, const float* a, const float* b, const float* c, const float* wv,
                  const float* bias, const float* dv, const int32_t* src, const int32_t* dst,
                  const int32_t* crystal_of_edge, const int32_t* pair_of_edge, int64_t E, int64_t cols);
void edge_combine_backward(const float* dz, const float* dv, const int32_t* dst, const int32_t* node_edge_offsets,
                           const int32_t* atom_offsets, const int32_t* pair_of_edge, const int32_t* crystal_pair_offsets,
                           int64_t G, int64_t cols, float* da, float* db, float* dc, float* dwv, float* dpq);
void adamw(float* p, const float* g, float* m, float* v, float* vmax, int64_t n, double lr, double beta1, double beta2,
           double eps, double wd, double step);
void ema_update(float* ema, const float* p, int64_t n, double decay);
}  // namespace kldm
