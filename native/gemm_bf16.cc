#include "gemm_bf16.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <tuple>
#include <vector>

#ifdef KLDM_HAVE_DNNL
#include <dnnl.h>
#endif
#ifdef __AVX512BF16__
#include <immintrin.h>
#endif

namespace kldm {

#ifdef KLDM_HAVE_DNNL
// The bf16 bits of oneDNN's ISA masks (dnnl_cpu_isa_avx512_core_bf16 = 0xe7); AMX ISAs include them.
static bool isa_has_bf16(dnnl_cpu_isa_t isa) {
  const unsigned want = (unsigned)dnnl_cpu_isa_avx512_core_bf16;
  return ((unsigned)isa & want) == want;
}
#endif

bool bf16_supported() {
#ifdef KLDM_HAVE_DNNL
  return isa_has_bf16(dnnl_get_effective_cpu_isa());
#else
  return false;
#endif
}

const char* bf16_isa_name() {
#ifdef KLDM_HAVE_DNNL
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
#else
  return "no oneDNN";
#endif
}

uint16_t f32_to_bf16_scalar(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  const uint32_t mag = u & 0x7fffffffu;
  if (mag > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);  // NaN: keep sign, quiet
  if (mag < 0x00800000u) return (uint16_t)((u >> 16) & 0x8000u);  // denormal or zero: signed zero
  u += 0x7fffu + ((u >> 16) & 1u);                                  // round to nearest even (overflow -> inf)
  return (uint16_t)(u >> 16);
}

void f32_to_bf16(const float* src, uint16_t* dst, int64_t n) {
  constexpr int64_t kChunk = 1 << 14;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(dynamic, 4) if (n > (1 << 16))
  for (int64_t ch = 0; ch < chunks; ch++) {
    const int64_t lo = ch * kChunk;
    const int64_t hi = std::min(n, lo + kChunk);
    int64_t i = lo;
#ifdef __AVX512BF16__
    for (; i + 32 <= hi; i += 32) {
      const __m512 x0 = _mm512_loadu_ps(src + i);
      const __m512 x1 = _mm512_loadu_ps(src + i + 16);
      const __m512bh r = _mm512_cvtne2ps_pbh(x1, x0);  // low half from x0, high half from x1
      _mm512_storeu_si512((void*)(dst + i), (__m512i)r);
    }
#endif
    for (; i < hi; i++) dst[i] = f32_to_bf16_scalar(src[i]);
  }
}

// rows×cols block at src with leading dimension ld -> dense bf16 (ld = cols)
static void convert_block(const float* src, int64_t rows, int64_t cols, int64_t ld, uint16_t* dst) {
  if (ld == cols) {
    f32_to_bf16(src, dst, rows * cols);
    return;
  }
#pragma omp parallel for schedule(dynamic, 64) if (rows * cols > (1 << 16))
  for (int64_t r = 0; r < rows; r++) {
    const float* s = src + r * ld;
    uint16_t* d = dst + r * cols;
    int64_t i = 0;
#ifdef __AVX512BF16__
    for (; i + 32 <= cols; i += 32) {
      const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(s + i + 16), _mm512_loadu_ps(s + i));
      _mm512_storeu_si512((void*)(d + i), (__m512i)v);
    }
#endif
    for (; i < cols; i++) d[i] = f32_to_bf16_scalar(s[i]);
  }
}

// All mutable state below is per thread: the server runs networks in worker_threads of one
// process, which share this addon's globals; each JS thread calls the engine from its own thread.
struct Pin {
  int64_t n;
  std::vector<uint16_t> bf;
};
static thread_local std::map<const float*, Pin> g_pins;

void bf16_pin(const float* base, int64_t n) {
  Pin& p = g_pins[base];
  p.n = n;
  p.bf.resize((size_t)n);
  f32_to_bf16(base, p.bf.data(), n);
}
void bf16_unpin(const float* base) { g_pins.erase(base); }
void bf16_unpin_all() { g_pins.clear(); }
int64_t bf16_pinned_count() { return (int64_t)g_pins.size(); }

// The pinned copy holding [p, p + span), or nullptr.
static const uint16_t* pinned(const float* p, int64_t span) {
  if (g_pins.empty()) return nullptr;
  auto it = g_pins.upper_bound(p);
  if (it == g_pins.begin()) return nullptr;
  --it;
  const float* base = it->first;
  if (p + span > base + it->second.n) return nullptr;
  return it->second.bf.data() + (p - base);
}

#ifdef KLDM_HAVE_DNNL
namespace {

struct Prim {
  dnnl_primitive_t prim = nullptr;
};

using Key = std::tuple<bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, float>;

dnnl_engine_t engine() {
  static dnnl_engine_t e = [] {  // an engine may be shared by threads (streams may not)
    dnnl_engine_t x = nullptr;
    dnnl_engine_create(&x, dnnl_cpu, 0);
    return x;
  }();
  return e;
}
dnnl_stream_t stream() {
  static thread_local dnnl_stream_t s = [] {
    dnnl_stream_t x = nullptr;
    dnnl_stream_create(&x, engine(), dnnl_stream_default_flags);
    return x;
  }();
  return s;
}

// logical rows×cols matrix stored row-major (trans = stored transposed) with leading dimension ld
void plain_md(dnnl_memory_desc_t* md, int64_t rows, int64_t cols, int64_t ld, bool trans, dnnl_data_type_t dt) {
  const dnnl_dims_t dims = {rows, cols};
  dnnl_dims_t strides;
  if (trans) {
    strides[0] = 1;
    strides[1] = ld;
  } else {
    strides[0] = ld;
    strides[1] = 1;
  }
  dnnl_memory_desc_init_by_strides(md, 2, dims, dt, strides);
}

// Primitives by shape, layout and beta. The batch shapes vary step to step (atom and edge
// counts), so the cache is bounded: cleared when it grows past kMaxPrims.
constexpr size_t kMaxPrims = 512;
struct PrimCache {
  std::map<Key, Prim> map;
  void clear() {
    for (auto& kv : map) dnnl_primitive_destroy(kv.second.prim);
    map.clear();
  }
  ~PrimCache() { clear(); }
};
thread_local PrimCache g_prims;

dnnl_primitive_t get_prim(bool tA, bool tB, int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc,
                          float beta) {
  const Key key{tA, tB, m, n, k, lda, ldb, ldc, beta};
  auto it = g_prims.map.find(key);
  if (it != g_prims.map.end()) return it->second.prim;
  if (g_prims.map.size() >= kMaxPrims) g_prims.clear();
  dnnl_memory_desc_t amd, bmd, cmd;
  plain_md(&amd, m, k, lda, tA, dnnl_bf16);
  plain_md(&bmd, k, n, ldb, tB, dnnl_bf16);
  plain_md(&cmd, m, n, ldc, false, dnnl_f32);
  dnnl_matmul_desc_t desc;
  if (dnnl_matmul_desc_init(&desc, &amd, &bmd, nullptr, &cmd) != dnnl_success) return nullptr;
  dnnl_primitive_attr_t attr = nullptr;
  dnnl_primitive_attr_create(&attr);
  dnnl_post_ops_t po = nullptr;
  if (beta != 0.0f) {
    dnnl_post_ops_create(&po);
    dnnl_post_ops_append_sum(po, beta);
    dnnl_primitive_attr_set_post_ops(attr, po);
  }
  dnnl_primitive_desc_t pd = nullptr;
  dnnl_status_t st = dnnl_primitive_desc_create(&pd, &desc, attr, engine(), nullptr);
  if (po) dnnl_post_ops_destroy(po);
  dnnl_primitive_attr_destroy(attr);
  if (st != dnnl_success) return nullptr;
  dnnl_primitive_t prim = nullptr;
  st = dnnl_primitive_create(&prim, pd);
  dnnl_primitive_desc_destroy(pd);
  if (st != dnnl_success) return nullptr;
  g_prims.map[key].prim = prim;
  return prim;
}

thread_local std::vector<uint16_t> g_abuf, g_bbuf;

}  // namespace
#endif

bool gemm_bf16(bool tA, bool tB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
               const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
#ifdef KLDM_HAVE_DNNL
  if (alpha != 1.0f || m <= 0 || n <= 0 || k <= 0) return false;
  // stored shapes of A and B
  const int64_t ar = tA ? k : m, ac = tA ? m : k;
  const int64_t br = tB ? n : k, bc = tB ? k : n;
  const uint16_t* ab = pinned(a, (ar - 1) * lda + ac);
  int64_t lda2 = lda;
  if (!ab) {
    if (g_abuf.size() < (size_t)(ar * ac)) g_abuf.resize((size_t)(ar * ac));
    convert_block(a, ar, ac, lda, g_abuf.data());
    ab = g_abuf.data();
    lda2 = ac;
  }
  const uint16_t* bb = pinned(b, (br - 1) * ldb + bc);
  int64_t ldb2 = ldb;
  if (!bb) {
    if (g_bbuf.size() < (size_t)(br * bc)) g_bbuf.resize((size_t)(br * bc));
    convert_block(b, br, bc, ldb, g_bbuf.data());
    bb = g_bbuf.data();
    ldb2 = bc;
  }
  // beta = 0 must ignore C's old content (even NaN): oneDNN's matmul without a sum post-op overwrites
  dnnl_primitive_t prim = get_prim(tA, tB, m, n, k, lda2, ldb2, ldc, beta);
  if (!prim) return false;
  dnnl_memory_desc_t amd, bmd, cmd;
  plain_md(&amd, m, k, lda2, tA, dnnl_bf16);
  plain_md(&bmd, k, n, ldb2, tB, dnnl_bf16);
  plain_md(&cmd, m, n, ldc, false, dnnl_f32);
  dnnl_memory_t am = nullptr, bm = nullptr, cm = nullptr;
  dnnl_memory_create(&am, &amd, engine(), const_cast<uint16_t*>(ab));
  dnnl_memory_create(&bm, &bmd, engine(), const_cast<uint16_t*>(bb));
  dnnl_memory_create(&cm, &cmd, engine(), c);
  const dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}};
  const dnnl_status_t st = dnnl_primitive_execute(prim, stream(), 3, args);
  dnnl_stream_wait(stream());
  dnnl_memory_destroy(am);
  dnnl_memory_destroy(bm);
  dnnl_memory_destroy(cm);
  if (st != dnnl_success) {
    // C may be partly written (beta != 0 cannot be redone): never continue with a wrong product
    std::fprintf(stderr, "kldm: oneDNN bf16 matmul failed (status %d, m=%lld n=%lld k=%lld)\n", (int)st, (long long)m,
                 (long long)n, (long long)k);
    std::abort();
  }
  return true;
#else
  (void)tA; (void)tB; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)b; (void)ldb; (void)beta;
  (void)c; (void)ldc;
  return false;
#endif
}

}  // namespace kldm
