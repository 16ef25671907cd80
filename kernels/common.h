// Private to kernels/: what the instruction-set files share. The table of kernels one level
// provides (KernelTable, filled by scalar.cpp, avx2.cpp, avx512.cpp, avx512_bf16.cpp and chosen
// once by dispatch.cpp), the blocked-product driver the scalar and AVX-512 levels instantiate
// with their own register kernel, and the scalar helpers every level's edge paths use.
//
// Everything here is compiled for the base instruction set; the ISA files give their own
// functions target attributes, so a helper inlined into one of them runs at that level.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "kernels/kernels.h"
#include "kernels/parallel.h"

namespace docling::kernels::detail {

// --- the table ---------------------------------------------------------------------------

// One level's kernels. A level starts from the one below and replaces what it does better
// (avx512_kernels() keeps AVX2's element-wise ops, and its panel products for single panels).
struct KernelTable {
  Isa isa = Isa::Scalar;
  // gemm with M <= kSmallM: columns [n0, n1) of every row, by B's layout.
  void (*gemv_nk)(const Gemm& g, int n0, int n1) = nullptr;
  void (*gemv_panel)(const Gemm& g, int n0, int n1) = nullptr;
  void (*gemv_kn)(const Gemm& g, int n0, int n1) = nullptr;
  // gemm with M > kSmallM and K > 0, on the TBB threads unless !parallel.
  void (*gemm_large)(const Gemm& g, bool parallel) = nullptr;
  // One attention task (kv head g, query rows [i0, i1)) for an f16 or f32 cache.
  void (*attend_f16)(const KvAttention& a, int g, int i0, int i1) = nullptr;
  void (*attend_f32)(const KvAttention& a, int g, int i0, int i1) = nullptr;
  float (*online_softmax_row)(float* s, int n, int bk, float scale, float& m, float& l, float* o, int hd) = nullptr;
  void (*f32_to_f16_row)(const float* x, int n, uint16_t* out) = nullptr;
  // Element-wise ops on one chunk, on this thread (dispatch.cpp splits the work).
  void (*gelu_tanh)(float* x, int64_t n) = nullptr;
  void (*silu_mul)(float* gate, const float* up, int64_t n) = nullptr;
  void (*softmax)(float* x, int n) = nullptr;
  int (*argmax)(const float* x, int n) = nullptr;  // n >= 1
  float (*sum_exp)(const float* x, int n, float m) = nullptr;  // sum of exp(x[i] - m)
  // XType::I8 products (any M; int8_gemm.h).
  void (*gemm_i8)(const Gemm& g, bool parallel) = nullptr;
};

KernelTable scalar_kernels();                          // scalar.cpp
KernelTable avx2_kernels();                            // avx2.cpp
// int8_activations: int8 products with few rows quantize x and use vpdpbusd (AVX512-VNNI).
KernelTable avx512_kernels(bool int8_activations);     // avx512.cpp
KernelTable avx512_bf16_kernels(bool int8_activations);  // avx512_bf16.cpp: products through vdpbf16ps
const KernelTable& active_kernels();                   // dispatch.cpp: the table in use
DecodeParams decode_params();                          // dispatch.cpp: the ones in use

// Shared across levels: the AVX2 small-M NK product (AVX-512 runs it for int8 weights with
// f32 activations), the AVX2 packing (for the AVX-512 driver) and the AVX-512 large product
// (the AVX512-BF16 level's fallback where vdpbf16ps does not apply).
void gemv_nk_avx2(const Gemm& g, int n0, int n1);
void gemv_panel_avx2(const Gemm& g, int n0, int n1);  // either panel layout
template <int NR>
void pack_avx2(const Gemm& g, int k0, int kc, int n0, float* dst);  // NR = 16, 32
void gemm_large_avx512(const Gemm& g, bool parallel);
// The AVX2 element-wise ops (the AVX-512 level's run them on what is left past its 16-lane blocks).
void gelu_avx2(float* x, int64_t n);
void silu_mul_avx2(float* gate, const float* up, int64_t n);
float sum_exp_avx2(const float* x, int n, float mx);
// The attention's softmax step at the AVX2 level (Ops::max and Ops::exp_scaled of
// kernels/attention.h): the vector max of s[0..n), and s[i] = exp(s[i] * scale - mx)
// returning their sum.
float max_avx2(const float* s, int n);
float exp_scaled_avx2(float* s, int n, float scale, float mx);
// exp_scaled_avx2 continuing 8-lane sums `sum8` (lane j: the values at 8c + j so far, added
// chunk by chunk): the AVX-512 level's 16-lane step leaves its last values here, so that both
// levels add in the same order.
float exp_scaled_avx2_from(float* s, int n, float scale, float mx, const float* sum8);
// XType::BF16 rows (at most kSmallM) against bf16 panels through vdpbf16ps (avx512_bf16.cpp,
// for has_avx512_bf16() only): x's rows as bf16 pairs, row r's pair kp at xp[r * ((K + 1) / 2)
// + kp] (made once per product), then columns [n0, n1) (n0 on a panel boundary) from them.
void bf16_pairs_avx512(const Gemm& g, uint32_t* xp);
void gemv_panel_avx512_bf16(const Gemm& g, const uint32_t* xp, int n0, int n1);
// AMX-BF16 (amx.cpp): whether the CPU has it and the OS granted the tiles (asked once), and
// the bf16 product for B in the NK or KN layout (false, doing nothing, where it does not apply).
bool amx_bf16_usable();
bool gemm_amx_bf16(const Gemm& g, bool parallel);
// F32 x against PanelPairs B (a prompt's prefill) on the tiles at f32 accuracy (x in three
// bf16 parts); false, doing nothing, where it does not apply.
bool gemm_amx_f32(const Gemm& g, bool parallel);

// --- GEMM helpers --------------------------------------------------------------------------
//
// Scalar and AVX-512 (AVX2 has its own driver, gemm_avx2_blocked in avx2.cpp).
// Blocked like BLIS: a task owns rows [m0, m1) x columns [n0, n0 + NB) of y. y is first set
// to the bias (or kept, with `accumulate`); then for each KC slice of K the task packs that
// B block once into f32 panels of NR columns ([kc][NR], zero-padded) and sweeps its rows
// with an MR x NR register kernel that adds into y. x is read in place.

constexpr int MCHUNK = 256, NB = 128, KC = 256;  // NB is a multiple of every NR
constexpr int kMaxMR = 8, kMaxNR = 32;
constexpr int kGemvChunk = 64;
constexpr int kSmallM = 16;
constexpr int kGemvRows = 4;  // rows of x per pass over a chunk of B (later passes find it in L2)

inline float bf16f(uint16_t v) {
  uint32_t u = uint32_t(v) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Row 0 of panel p of a B in a panel layout (its row k: + k * panel_row_stride(g.layout)).
inline const uint16_t* panel_ptr(const Gemm& g, int p) {
  return static_cast<const uint16_t*>(g.b) + panel_start(p, g.ldb, g.layout);
}
// In a pass over panels p0, p0 + 1, ... side by side: whether panel p0 + q is a memory stream
// of its own (in PanelPairs a pair's second panel shares the first one's lines, and only the
// stream's first panel prefetches), and how many streams np panels make (they share the
// prefetch distance).
inline bool starts_stream(const Gemm& g, int p0, int q) {
  return g.layout != BLayout::PanelPairs || q == 0 || (p0 + q) % 2 == 0;
}
inline int streams_of(const Gemm& g, int p0, int np) {
  int n = 0;
  for (int q = 0; q < np; ++q) n += starts_stream(g, p0, q);
  return n;
}

// K values sharing one int8 scale, and scales per output channel.
inline int group_of(const Gemm& g) { return g.group > 0 && g.group < g.K ? g.group : g.K; }
inline int groups_of(const Gemm& g) { return (g.K + group_of(g) - 1) / group_of(g); }

inline float i8_scale(const Gemm& g, int n, int k) {
  return g.bscale[int64_t(n) * groups_of(g) + k / group_of(g)];
}

// B(k, n) as f32, any type and layout (I8 is NK only).
inline float b_at(const Gemm& g, int n, int k) {
  int64_t idx = g.layout == BLayout::NK   ? int64_t(n) * g.ldb + k
                : g.layout == BLayout::KN ? int64_t(k) * g.ldb + n
                                          : panel_index(n, k, g.ldb, g.layout);
  switch (g.btype) {
    case BType::BF16: return bf16f(static_cast<const uint16_t*>(g.b)[idx]);
    case BType::I8: return float(static_cast<const int8_t*>(g.b)[idx]) * i8_scale(g, n, k);
    case BType::F32: break;
  }
  return static_cast<const float*>(g.b)[idx];
}

// Packs B(k0..k0+kc, n0..n0+NR) into dst[k][j]; columns >= N become 0.
template <int NR>
void pack_b(const Gemm& g, int k0, int kc, int n0, float* dst) {
  int nv = std::min(NR, g.N - n0);
  if (is_panel(g.layout)) {
    for (int k = 0; k < kc; ++k)
      for (int j = 0; j < NR; ++j) dst[k * NR + j] = j < nv ? b_at(g, n0 + j, k0 + k) : 0.0f;
  } else if (g.layout == BLayout::NK) {
    for (int j = 0; j < nv; ++j) {
      int64_t base = int64_t(n0 + j) * g.ldb + k0;
      if (g.btype == BType::I8) {
        const int8_t* src = static_cast<const int8_t*>(g.b) + base;
        for (int k = 0; k < kc; ++k) dst[k * NR + j] = float(src[k]) * i8_scale(g, n0 + j, k0 + k);
      } else if (g.btype == BType::BF16) {
        const uint16_t* src = static_cast<const uint16_t*>(g.b) + base;
        for (int k = 0; k < kc; ++k) dst[k * NR + j] = bf16f(src[k]);
      } else {
        const float* src = static_cast<const float*>(g.b) + base;
        for (int k = 0; k < kc; ++k) dst[k * NR + j] = src[k];
      }
    }
    for (int j = nv; j < NR; ++j)
      for (int k = 0; k < kc; ++k) dst[k * NR + j] = 0.0f;
  } else {
    for (int k = 0; k < kc; ++k) {
      int64_t base = int64_t(k0 + k) * g.ldb + n0;
      float* d = dst + k * NR;
      if (g.btype == BType::BF16) {
        const uint16_t* src = static_cast<const uint16_t*>(g.b) + base;
        for (int j = 0; j < nv; ++j) d[j] = bf16f(src[j]);
      } else {
        std::memcpy(d, static_cast<const float*>(g.b) + base, sizeof(float) * size_t(nv));
      }
      for (int j = nv; j < NR; ++j) d[j] = 0.0f;
    }
  }
}

using PackFn = void (*)(const Gemm& g, int k0, int kc, int n0, float* dst);
using MicroFn = void (*)(const float* const*, int, const float*, float*, int64_t);

// Packed-B scratch of the calling thread, 64-byte aligned, KC x NB floats.
inline float* pack_buffer() {
  thread_local std::vector<float> buf(size_t(KC) * NB + 16);
  uintptr_t p = reinterpret_cast<uintptr_t>(buf.data());
  return reinterpret_cast<float*>((p + 63) & ~uintptr_t(63));
}

template <int MR, int NR, PackFn Pack>
void gemm_task(const Gemm& g, int m0, int m1, int n0, int n1, MicroFn micro) {
  static_assert(MR <= kMaxMR && NR <= kMaxNR && NB % NR == 0);
  float* bp = pack_buffer();
  const int ncols = n1 - n0;
  for (int m = m0; m < m1; ++m) {  // y = bias (+ y)
    float* y = g.y + int64_t(m) * g.ldy + n0;
    for (int j = 0; j < ncols; ++j) {
      float b = g.bias ? g.bias[n0 + j] : 0.0f;
      y[j] = g.accumulate ? y[j] + b : b;
    }
  }
  for (int k0 = 0; k0 < g.K; k0 += KC) {
    const int kc = std::min(KC, g.K - k0);
    for (int p0 = 0; p0 < ncols; p0 += NR) Pack(g, k0, kc, n0 + p0, bp + p0 * kc);
    for (int r0 = m0; r0 < m1; r0 += MR) {
      const int mr = std::min(MR, m1 - r0);
      const float* xr[MR];
      // Rows past the end repeat the last row; only the edge path below sees their results.
      for (int i = 0; i < MR; ++i) xr[i] = g.x + int64_t(r0 + std::min(i, mr - 1)) * g.ldx + k0;
      for (int p0 = 0; p0 < ncols; p0 += NR) {
        const int nr = std::min(NR, ncols - p0);
        float* y = g.y + int64_t(r0) * g.ldy + n0 + p0;
        if (mr == MR && nr == NR) {
          micro(xr, kc, bp + p0 * kc, y, g.ldy);
          continue;
        }
        alignas(64) float tile[kMaxMR * kMaxNR] = {};
        for (int i = 0; i < mr; ++i) std::memcpy(tile + i * NR, y + i * g.ldy, sizeof(float) * size_t(nr));
        micro(xr, kc, bp + p0 * kc, tile, NR);
        for (int i = 0; i < mr; ++i) std::memcpy(y + i * g.ldy, tile + i * NR, sizeof(float) * size_t(nr));
      }
    }
  }
}

// Rows [0, M) in chunks of MCHUNK x columns in blocks of NB, one gemm_task each (the scalar
// and AVX-512 levels; AVX2 has its own driver, gemm_avx2_blocked).
template <int MR, int NR, PackFn Pack>
void gemm_chunks(const Gemm& g, bool parallel, MicroFn micro) {
  int mb = (g.M + MCHUNK - 1) / MCHUNK, nb = (g.N + NB - 1) / NB;
  auto task = [&](int t) {
    int mi = t / nb, ni = t % nb;
    gemm_task<MR, NR, Pack>(g, mi * MCHUNK, std::min(g.M, (mi + 1) * MCHUNK), ni * NB, std::min(g.N, (ni + 1) * NB),
                            micro);
  };
  if (!parallel || mb * nb == 1) {
    for (int t = 0; t < mb * nb; ++t) task(t);
  } else {
    tbb::parallel_for(tbb::blocked_range<int>(0, mb * nb, 1), [&](const tbb::blocked_range<int>& r) {
      for (int t = r.begin(); t < r.end(); ++t) task(t);
    });
  }
}

// --- small M (decode) ---------------------------------------------------------------------

// sum over k in [k0, k1) of x[k] * B(k, n) (x indexed from 0 at k = 0).
inline float dot_scalar(const float* x, const Gemm& g, int n, int k0, int k1) {
  float s = 0.0f;
  for (int k = k0; k < k1; ++k) s += x[k] * b_at(g, n, k);
  return s;
}

inline void gemv_row_scalar(const float* x, const Gemm& g, int n0, int n1, float* out) {
  for (int n = n0; n < n1; ++n) out[n - n0] = dot_scalar(x, g, n, 0, g.K);
}

inline void write_out(const Gemm& g, int m, int n0, int n1, const float* v) {
  float* y = g.y + int64_t(m) * g.ldy;
  for (int n = n0; n < n1; ++n) {
    float r = g.bias ? v[n - n0] + g.bias[n] : v[n - n0];
    y[n] = g.accumulate ? y[n] + r : r;
  }
}

// KN layout, small M: y[m, n] = sum_k x[m, k] B[k, n]; axpy over contiguous B rows.
// Plain loops, compiled twice: for the base ISA (scalar.cpp) and, inlined into an AVX2
// function, for AVX2 (avx2.cpp).
__attribute__((always_inline)) inline void gemv_kn_body(const Gemm& g, int n0, int n1) {
  float acc[kGemvChunk];
  for (int c0 = n0; c0 < n1; c0 += kGemvChunk) {
    const int w = std::min(n1, c0 + kGemvChunk) - c0;
    for (int m = 0; m < g.M; ++m) {
      const float* x = g.x + int64_t(m) * g.ldx;
      for (int j = 0; j < w; ++j) acc[j] = 0.0f;
      for (int k = 0; k < g.K; ++k) {
        float a = x[k];
        int64_t off = int64_t(k) * g.ldb + c0;
        if (g.btype == BType::BF16) {
          const uint16_t* b = static_cast<const uint16_t*>(g.b) + off;
          for (int j = 0; j < w; ++j) acc[j] += a * bf16f(b[j]);
        } else {
          const float* b = static_cast<const float*>(g.b) + off;
          for (int j = 0; j < w; ++j) acc[j] += a * b[j];
        }
      }
      write_out(g, m, c0, c0 + w, acc);
    }
  }
}


// --- element-wise ----------------------------------------------------------------------------

template <class F>
void for_rows(int rows, int64_t row_cost, F&& f) {
  // Split only when there is enough work to pay for the threads.
  int grain = int(std::max<int64_t>(1, 16384 / std::max<int64_t>(row_cost, 1)));
  if (rows <= grain) {
    for (int r = 0; r < rows; ++r) f(r);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int>(0, rows, grain), [&](const tbb::blocked_range<int>& br) {
    for (int r = br.begin(); r < br.end(); ++r) f(r);
  });
}

}  // namespace docling::kernels::detail
