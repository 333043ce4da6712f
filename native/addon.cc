// Node-API bindings of the native engine: thin positional wrappers over
// native/gemm.cc and native/kernels.cc that work on the Float32Array/Int32Array
// memory in place (no copies). Argument checking (types, bounds) is done by the
// TypeScript wrapper in src/engine/native.ts, which is the only caller.
#include <napi.h>

#include <string>

#include "gemm.h"
#include "gemm_bf16.h"
#include "kernels.h"

#ifdef KLDM_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using kldm::GemmBackend;

inline float* F(const Napi::CallbackInfo& info, size_t i) {
  if (info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  return info[i].As<Napi::Float32Array>().Data();
}
inline int32_t* I(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Int32Array>().Data(); }
inline int64_t L(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }
inline double D(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
inline bool B(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Boolean>().Value(); }

// gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, backend)
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  kldm::sgemm(B(info, 0), B(info, 1), L(info, 2), L(info, 3), L(info, 4), (float)D(info, 5), F(info, 6) + L(info, 7),
              L(info, 8), F(info, 9) + L(info, 10), L(info, 11), (float)D(info, 12), F(info, 13) + L(info, 14),
              L(info, 15), static_cast<GemmBackend>(L(info, 16)));
  return info.Env().Undefined();
}

// gemmBf16(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, backend):
// bf16 operands, f32 accumulation (gemm_bf16.cc); calls it cannot take run as f32 sgemm.
Napi::Value GemmBf16(const Napi::CallbackInfo& info) {
  const bool tA = B(info, 0), tB = B(info, 1);
  const int64_t m = L(info, 2), n = L(info, 3), k = L(info, 4);
  const float alpha = (float)D(info, 5), beta = (float)D(info, 12);
  const float* a = F(info, 6) + L(info, 7);
  const float* b = F(info, 9) + L(info, 10);
  float* c = F(info, 13) + L(info, 14);
  if (!kldm::gemm_bf16(tA, tB, m, n, k, alpha, a, L(info, 8), b, L(info, 11), beta, c, L(info, 15)))
    kldm::sgemm(tA, tB, m, n, k, alpha, a, L(info, 8), b, L(info, 11), beta, c, L(info, 15),
                static_cast<GemmBackend>(L(info, 16)));
  return info.Env().Undefined();
}
Napi::Value Bf16Supported(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), kldm::bf16_supported()); }
Napi::Value Bf16Isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), kldm::bf16_isa_name()); }
// toBf16(src Float32Array, dst Uint16Array, n)
Napi::Value ToBf16(const Napi::CallbackInfo& info) {
  kldm::f32_to_bf16(F(info, 0), info[1].As<Napi::Uint16Array>().Data(), L(info, 2));
  return info.Env().Undefined();
}
// bf16Pin(array, n) / bf16Unpin(array) / bf16UnpinAll() / bf16PinnedCount()
Napi::Value Bf16Pin(const Napi::CallbackInfo& info) {
  kldm::bf16_pin(F(info, 0), L(info, 1));
  return info.Env().Undefined();
}
Napi::Value Bf16Unpin(const Napi::CallbackInfo& info) {
  kldm::bf16_unpin(F(info, 0));
  return info.Env().Undefined();
}
Napi::Value Bf16UnpinAll(const Napi::CallbackInfo& info) {
  kldm::bf16_unpin_all();
  return info.Env().Undefined();
}
Napi::Value Bf16PinnedCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), (double)kldm::bf16_pinned_count());
}

Napi::Value BiasSilu(const Napi::CallbackInfo& info) {
  kldm::bias_silu(F(info, 0), F(info, 1), L(info, 2), L(info, 3), F(info, 4));
  return info.Env().Undefined();
}
Napi::Value SiluBackward(const Napi::CallbackInfo& info) {
  kldm::silu_backward(F(info, 0), F(info, 1), L(info, 2), F(info, 3));
  return info.Env().Undefined();
}
// hadamard(x, a, b|null, n, xa, xb|null)
Napi::Value Hadamard(const Napi::CallbackInfo& info) {
  kldm::hadamard(F(info, 0), F(info, 1), F(info, 2), L(info, 3), F(info, 4), F(info, 5));
  return info.Env().Undefined();
}
// sigmoidGate(z, value|null, n, gate, out|null)
Napi::Value SigmoidGate(const Napi::CallbackInfo& info) {
  kldm::sigmoid_gate(F(info, 0), F(info, 1), L(info, 2), F(info, 3), F(info, 4));
  return info.Env().Undefined();
}
// sigmoidGateBackward(dout, gate, value|null, n, dvalue|null, dz)
Napi::Value SigmoidGateBackward(const Napi::CallbackInfo& info) {
  kldm::sigmoid_gate_backward(F(info, 0), F(info, 1), F(info, 2), L(info, 3), F(info, 4), F(info, 5));
  return info.Env().Undefined();
}
Napi::Value BiasSiluSegmentMean(const Napi::CallbackInfo& info) {
  kldm::bias_silu_segment_mean(F(info, 0), F(info, 1), I(info, 2), L(info, 3), L(info, 4), F(info, 5));
  return info.Env().Undefined();
}
Napi::Value SiluSegmentMeanBackward(const Napi::CallbackInfo& info) {
  kldm::silu_segment_mean_backward(F(info, 0), F(info, 1), I(info, 2), L(info, 3), L(info, 4), F(info, 5), F(info, 6));
  return info.Env().Undefined();
}
Napi::Value AddBias(const Napi::CallbackInfo& info) {
  kldm::add_bias(F(info, 0), F(info, 1), L(info, 2), L(info, 3));
  return info.Env().Undefined();
}
Napi::Value ColSumAdd(const Napi::CallbackInfo& info) {
  kldm::col_sum_add(F(info, 0), L(info, 1), L(info, 2), F(info, 3));
  return info.Env().Undefined();
}
Napi::Value AddInto(const Napi::CallbackInfo& info) {
  kldm::add_into(F(info, 0), F(info, 1), L(info, 2));
  return info.Env().Undefined();
}
Napi::Value LayerNormForward(const Napi::CallbackInfo& info) {
  kldm::layer_norm_forward(F(info, 0), F(info, 1), F(info, 2), L(info, 3), L(info, 4), (float)D(info, 5), F(info, 6),
                           F(info, 7), F(info, 8));
  return info.Env().Undefined();
}
Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  kldm::layer_norm_backward(F(info, 0), F(info, 1), F(info, 2), F(info, 3), F(info, 4), L(info, 5), L(info, 6),
                            F(info, 7), F(info, 8), F(info, 9));
  return info.Env().Undefined();
}
// fourierFeatures(pos, src, dst, pairFwd, P, F, out)
Napi::Value FourierFeatures(const Napi::CallbackInfo& info) {
  kldm::fourier_features(F(info, 0), I(info, 1), I(info, 2), I(info, 3), L(info, 4), L(info, 5), F(info, 6));
  return info.Env().Undefined();
}
// fourierBackward(pos, src, dst, pairFwd, crystalPairOffsets, G, F, dpsi, dpos)
Napi::Value FourierBackward(const Napi::CallbackInfo& info) {
  kldm::fourier_backward(F(info, 0), I(info, 1), I(info, 2), I(info, 3), I(info, 4), L(info, 5), L(info, 6),
                         F(info, 7), F(info, 8));
  return info.Env().Undefined();
}
Napi::Value SegmentMean(const Napi::CallbackInfo& info) {
  kldm::segment_mean(F(info, 0), I(info, 1), L(info, 2), L(info, 3), F(info, 4));
  return info.Env().Undefined();
}
Napi::Value SegmentMeanBackward(const Napi::CallbackInfo& info) {
  kldm::segment_mean_backward(F(info, 0), I(info, 1), L(info, 2), L(info, 3), F(info, 4));
  return info.Env().Undefined();
}
Napi::Value SegmentSum(const Napi::CallbackInfo& info) {
  kldm::segment_sum(F(info, 0), I(info, 1), L(info, 2), L(info, 3), F(info, 4));
  return info.Env().Undefined();
}
Napi::Value SegmentCentre(const Napi::CallbackInfo& info) {
  kldm::segment_centre(F(info, 0), I(info, 1), L(info, 2), L(info, 3));
  return info.Env().Undefined();
}
Napi::Value SegmentBroadcastAdd(const Napi::CallbackInfo& info) {
  kldm::segment_broadcast_add(F(info, 0), I(info, 1), L(info, 2), L(info, 3), F(info, 4));
  return info.Env().Undefined();
}
Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  kldm::gather_rows(F(info, 0), I(info, 1), L(info, 2), L(info, 3), F(info, 4));
  return info.Env().Undefined();
}
Napi::Value ScatterAddRows(const Napi::CallbackInfo& info) {
  kldm::scatter_add_rows(F(info, 0), I(info, 1), L(info, 2), L(info, 3), F(info, 4));
  return info.Env().Undefined();
}
// edgeCombine(z, pq, a, b, c, wv, bias, dv, src, dst, crystalOfEdge, pairOfEdge, E, cols)
Napi::Value EdgeCombine(const Napi::CallbackInfo& info) {
  kldm::edge_combine(F(info, 0), F(info, 1), F(info, 2), F(info, 3), F(info, 4), F(info, 5), F(info, 6), F(info, 7),
                     I(info, 8), I(info, 9), I(info, 10), I(info, 11), L(info, 12), L(info, 13));
  return info.Env().Undefined();
}
// edgeCombineBackward(dz, dv, dst, nodeEdgeOffsets, atomOffsets, pairOfEdge, crystalPairOffsets, G, cols, da, db, dc, dwv, dpq)
Napi::Value EdgeCombineBackward(const Napi::CallbackInfo& info) {
  kldm::edge_combine_backward(F(info, 0), F(info, 1), I(info, 2), I(info, 3), I(info, 4), I(info, 5), I(info, 6),
                              L(info, 7), L(info, 8), F(info, 9), F(info, 10), F(info, 11), F(info, 12), F(info, 13));
  return info.Env().Undefined();
}
Napi::Value AdamW(const Napi::CallbackInfo& info) {
  kldm::adamw(F(info, 0), F(info, 1), F(info, 2), F(info, 3), F(info, 4), L(info, 5), D(info, 6), D(info, 7),
              D(info, 8), D(info, 9), D(info, 10), D(info, 11));
  return info.Env().Undefined();
}
Napi::Value EmaUpdate(const Napi::CallbackInfo& info) {
  kldm::ema_update(F(info, 0), F(info, 1), L(info, 2), D(info, 3));
  return info.Env().Undefined();
}

Napi::Value Backends(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t n = 0;
  if (kldm::has_backend(GemmBackend::OpenBlas)) out.Set(n++, "openblas");
  if (kldm::has_backend(GemmBackend::Dnnl)) out.Set(n++, "dnnl");
  return out;
}

Napi::Value Threads(const Napi::CallbackInfo& info) {
#ifdef _OPENMP
  return Napi::Number::New(info.Env(), omp_get_max_threads());
#else
  return Napi::Number::New(info.Env(), kldm::gemm_threads());
#endif
}

// setThreads(n): BLAS and OpenMP thread counts
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int n = (int)L(info, 0);
#ifdef KLDM_HAVE_OPENBLAS
  openblas_set_num_threads(n);
#endif
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  return info.Env().Undefined();
}

Napi::Value SetGemmBackend(const Napi::CallbackInfo& info) {
  kldm::set_default_backend(static_cast<GemmBackend>(L(info, 0)));
  return info.Env().Undefined();
}

// Bumped whenever a binding's signature changes; src/engine/native.ts refuses a stale build.
constexpr int kAbiVersion = 6;

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, kAbiVersion));
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("gemmBf16", Napi::Function::New(env, GemmBf16));
  exports.Set("bf16Supported", Napi::Function::New(env, Bf16Supported));
  exports.Set("bf16Isa", Napi::Function::New(env, Bf16Isa));
  exports.Set("toBf16", Napi::Function::New(env, ToBf16));
  exports.Set("bf16Pin", Napi::Function::New(env, Bf16Pin));
  exports.Set("bf16Unpin", Napi::Function::New(env, Bf16Unpin));
  exports.Set("bf16UnpinAll", Napi::Function::New(env, Bf16UnpinAll));
  exports.Set("bf16PinnedCount", Napi::Function::New(env, Bf16PinnedCount));
  exports.Set("biasSilu", Napi::Function::New(env, BiasSilu));
  exports.Set("siluBackward", Napi::Function::New(env, SiluBackward));
  exports.Set("hadamard", Napi::Function::New(env, Hadamard));
  exports.Set("sigmoidGate", Napi::Function::New(env, SigmoidGate));
  exports.Set("sigmoidGateBackward", Napi::Function::New(env, SigmoidGateBackward));
  exports.Set("addBias", Napi::Function::New(env, AddBias));
  exports.Set("biasSiluSegmentMean", Napi::Function::New(env, BiasSiluSegmentMean));
  exports.Set("siluSegmentMeanBackward", Napi::Function::New(env, SiluSegmentMeanBackward));
  exports.Set("colSumAdd", Napi::Function::New(env, ColSumAdd));
  exports.Set("addInto", Napi::Function::New(env, AddInto));
  exports.Set("layerNormForward", Napi::Function::New(env, LayerNormForward));
  exports.Set("layerNormBackward", Napi::Function::New(env, LayerNormBackward));
  exports.Set("fourierFeatures", Napi::Function::New(env, FourierFeatures));
  exports.Set("fourierBackward", Napi::Function::New(env, FourierBackward));
  exports.Set("segmentMean", Napi::Function::New(env, SegmentMean));
  exports.Set("segmentMeanBackward", Napi::Function::New(env, SegmentMeanBackward));
  exports.Set("segmentSum", Napi::Function::New(env, SegmentSum));
  exports.Set("segmentCentre", Napi::Function::New(env, SegmentCentre));
  exports.Set("segmentBroadcastAdd", Napi::Function::New(env, SegmentBroadcastAdd));
  exports.Set("gatherRows", Napi::Function::New(env, GatherRows));
  exports.Set("scatterAddRows", Napi::Function::New(env, ScatterAddRows));
  exports.Set("edgeCombine", Napi::Function::New(env, EdgeCombine));
  exports.Set("edgeCombineBackward", Napi::Function::New(env, EdgeCombineBackward));
  exports.Set("adamw", Napi::Function::New(env, AdamW));
  exports.Set("emaUpdate", Napi::Function::New(env, EmaUpdate));
  exports.Set("backends", Napi::Function::New(env, Backends));
  exports.Set("threads", Napi::Function::New(env, Threads));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("setGemmBackend", Napi::Function::New(env, SetGemmBackend));
  return exports;
}

}  // namespace

NODE_API_MODULE(kldm_native, Init)
