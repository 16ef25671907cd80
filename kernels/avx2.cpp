// The AVX2 + FMA (+ F16C) level: packing, the small-M products (NK rows, bf16 panels, KN),
// the blocked large-M product with its 6x16 register kernel, the attention's register kernel
// (kernels/micro.h), the vector exp and the element-wise ops. Every function here carries
// the target attribute; nothing runs unless the CPU has AVX2 and FMA.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/attention.h"
#include "kernels/common.h"
#include "kernels/exp_avx2.h"
#include "kernels/int8_gemm.h"
#include "kernels/micro.h"

#define AVX2_FN __attribute__((target("avx2,fma")))

namespace docling::kernels::detail {

namespace {

// Transposes the 8x8 block in r[0..8) (r[i][j] -> r[j][i]).
AVX2_FN inline void transpose8(__m256* r) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

AVX2_FN inline __m256 load8_bf16(const uint16_t* p) {
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}

AVX2_FN inline __m256 load8_i8(const int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

// pack_b for the NK layout with 8x8 transposes: full groups of 8 columns, 8 k at a time.
// Returns how many leading columns it packed (the caller packs the rest).
template <int NR>
AVX2_FN int pack_nk_avx2(const Gemm& g, int k0, int kc, int n0, float* dst) {
  const int nv = std::min(NR, g.N - n0), groups = nv / 8, k8 = kc / 8 * 8;
  for (int grp = 0; grp < groups; ++grp) {
    const int64_t row0 = int64_t(n0 + grp * 8) * g.ldb + k0;
    for (int k = 0; k < kc; k += 8) {
      if (k == k8) {  // k tail: scalar
        for (int i = 0; i < 8; ++i)
          for (int kk = k; kk < kc; ++kk) dst[kk * NR + grp * 8 + i] = b_at(g, n0 + grp * 8 + i, k0 + kk);
        break;
      }
      __m256 r[8];
      for (int i = 0; i < 8; ++i) {
        int64_t off = row0 + i * g.ldb + k;
        if (g.btype == BType::I8)  // the 8 values share a scale (group % 8 == 0, k0 + k % 8 == 0)
          r[i] = _mm256_mul_ps(load8_i8(static_cast<const int8_t*>(g.b) + off),
                               _mm256_set1_ps(i8_scale(g, n0 + grp * 8 + i, k0 + k)));
        else
          r[i] = g.btype == BType::BF16 ? load8_bf16(static_cast<const uint16_t*>(g.b) + off)
                                        : _mm256_loadu_ps(static_cast<const float*>(g.b) + off);
      }
      transpose8(r);
      for (int j = 0; j < 8; ++j) _mm256_store_ps(dst + (k + j) * NR + grp * 8, r[j]);
    }
  }
  return groups * 8;
}

// Both 8-column halves of a panel row as f32 (see panel_slot).
AVX2_FN inline void load_panel_row(const uint16_t* p, __m256& lo, __m256& hi) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  lo = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  hi = _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(int32_t(0xffff0000u))));
}

// pack_b for the panel layouts (n0 on a panel boundary): widening copies. Panels past the
// end of B are zero columns; the padding inside the last panel is zero already.
template <int NR>
AVX2_FN void pack_panel_avx2(const Gemm& g, int k0, int kc, int n0, float* dst) {
  static_assert(NR % kPanel == 0);
  const int panels = (g.N + kPanel - 1) / kPanel, rs = panel_row_stride(g.layout);
  for (int h = 0; h < NR / kPanel; ++h) {
    const int p = n0 / kPanel + h;
    const uint16_t* src = p < panels ? panel_ptr(g, p) + int64_t(k0) * rs : nullptr;
    for (int k = 0; k < kc; ++k) {
      __m256 lo = _mm256_setzero_ps(), hi = lo;
      if (src) load_panel_row(src + int64_t(k) * rs, lo, hi);
      _mm256_storeu_ps(dst + k * NR + h * kPanel, lo);
      _mm256_storeu_ps(dst + k * NR + h * kPanel + 8, hi);
    }
  }
}


}  // namespace

// Packs with the fastest routine AVX2 allows (the AVX2 and AVX-512 drivers).
template <int NR>
void pack_avx2(const Gemm& g, int k0, int kc, int n0, float* dst) {
  if (is_panel(g.layout) && n0 % kPanel == 0) {
    pack_panel_avx2<NR>(g, k0, kc, n0, dst);
    return;
  }
  if (g.layout == BLayout::NK && g.N - n0 >= 8) {
    int done = pack_nk_avx2<NR>(g, k0, kc, n0, dst);
    if (done == NR) return;
    // remaining columns: scalar, into a shifted view
    int nv = std::min(NR, g.N - n0);
    for (int j = done; j < NR; ++j)
      for (int k = 0; k < kc; ++k)
        dst[k * NR + j] = j < nv ? b_at(g, n0 + j, k0 + k) : 0.0f;
    return;
  }
  pack_b<NR>(g, k0, kc, n0, dst);
}

template void pack_avx2<16>(const Gemm&, int, int, int, float*);
template void pack_avx2<32>(const Gemm&, int, int, int, float*);

namespace {

// --- small M (decode) ------------------------------------------------------------------------

AVX2_FN inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}


// I8: per scale group, sum x * q in f32, then add that times the group's scale.
AVX2_FN void gemv_row_i8_avx2(const float* x, const Gemm& g, int n0, int n1, float* out) {
  const int K = g.K, G = group_of(g), ng = groups_of(g);
  const int8_t* B = static_cast<const int8_t*>(g.b);
  int n = n0;
  for (; n + 4 <= n1; n += 4) {
    const int8_t* b = B + int64_t(n) * g.ldb;
    const float* sc = g.bscale + int64_t(n) * ng;
    __m256 t0 = _mm256_setzero_ps(), t1 = t0, t2 = t0, t3 = t0;
    float tail[4] = {0, 0, 0, 0};
    for (int gi = 0; gi < ng; ++gi) {
      const int k1 = std::min(K, (gi + 1) * G);
      __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
      int k = gi * G;
      for (; k + 8 <= k1; k += 8) {
        __m256 a = _mm256_loadu_ps(x + k);
        s0 = _mm256_fmadd_ps(a, load8_i8(b + k), s0);
        s1 = _mm256_fmadd_ps(a, load8_i8(b + g.ldb + k), s1);
        s2 = _mm256_fmadd_ps(a, load8_i8(b + 2 * g.ldb + k), s2);
        s3 = _mm256_fmadd_ps(a, load8_i8(b + 3 * g.ldb + k), s3);
      }
      t0 = _mm256_fmadd_ps(s0, _mm256_set1_ps(sc[gi]), t0);
      t1 = _mm256_fmadd_ps(s1, _mm256_set1_ps(sc[ng + gi]), t1);
      t2 = _mm256_fmadd_ps(s2, _mm256_set1_ps(sc[2 * ng + gi]), t2);
      t3 = _mm256_fmadd_ps(s3, _mm256_set1_ps(sc[3 * ng + gi]), t3);
      if (k < k1)
        for (int i = 0; i < 4; ++i) tail[i] += dot_scalar(x, g, n + i, k, k1);
    }
    out[n - n0] = hsum256(t0) + tail[0];
    out[n + 1 - n0] = hsum256(t1) + tail[1];
    out[n + 2 - n0] = hsum256(t2) + tail[2];
    out[n + 3 - n0] = hsum256(t3) + tail[3];
  }
  for (; n < n1; ++n) {
    const int8_t* b = B + int64_t(n) * g.ldb;
    __m256 t = _mm256_setzero_ps();
    float tail = 0.0f;
    for (int gi = 0; gi < ng; ++gi) {
      const int k1 = std::min(K, (gi + 1) * G);
      __m256 s = _mm256_setzero_ps();
      int k = gi * G;
      for (; k + 8 <= k1; k += 8) s = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), load8_i8(b + k), s);
      t = _mm256_fmadd_ps(s, _mm256_set1_ps(g.bscale[int64_t(n) * ng + gi]), t);
      if (k < k1) tail += dot_scalar(x, g, n, k, k1);
    }
    out[n - n0] = hsum256(t) + tail;
  }
}

// Rows of x inside the column chunk loop: a chunk of B is read from memory once and
// reused from cache by every row (batched decode).
// MR rows of x against NC rows of B at a time: each B vector (converted once) feeds MR
// FMAs and each x vector NC. I8 weights are dequantized per vector (times the group's
// scale), so no per-group partial sums are needed. out[r * kGemvChunk + (n - n0)].
template <BType BT>
AVX2_FN inline __m256 load8_b(const Gemm& g, int n, int k, __m256 scale) {
  const int64_t off = int64_t(n) * g.ldb + k;
  if constexpr (BT == BType::BF16) return load8_bf16(static_cast<const uint16_t*>(g.b) + off);
  else if constexpr (BT == BType::I8) return _mm256_mul_ps(load8_i8(static_cast<const int8_t*>(g.b) + off), scale);
  else return _mm256_loadu_ps(static_cast<const float*>(g.b) + off);
}

constexpr int kPrefetchCols = 16;
template <BType BT>
constexpr int sizeof_b() { return BT == BType::F32 ? 4 : BT == BType::BF16 ? 2 : 1; }
template <BType BT>
inline const char* b_addr(const Gemm& g, int n, int k) {
  return static_cast<const char*>(g.b) + (int64_t(n) * g.ldb + k) * sizeof_b<BT>();
}

template <BType BT, int MR, int NC>
AVX2_FN void gemv_cols_avx2(const float* const* xr, const Gemm& g, int n, int n0, float* out) {
  const int K = g.K, G = BT == BType::I8 ? group_of(g) : K, ng = (K + G - 1) / G;
  __m256 acc[MR][NC];
  float tail[MR][NC];
  for (int r = 0; r < MR; ++r)
    for (int c = 0; c < NC; ++c) acc[r][c] = _mm256_setzero_ps(), tail[r][c] = 0.0f;
  for (int gi = 0; gi < ng; ++gi) {
    const int k1 = std::min(K, (gi + 1) * G);
    __m256 sc[NC];
    for (int c = 0; c < NC; ++c)
      sc[c] = _mm256_set1_ps(BT == BType::I8 ? g.bscale[int64_t(n + c) * ng + gi] : 1.0f);
    int k = gi * G;
    for (; k + 8 <= k1; k += 8) {
      // B rows are short streams (K values each) that the hardware prefetcher barely picks
      // up: fetch the rows PF columns ahead, a cache line per row every 64 bytes.
      if ((k * int(sizeof_b<BT>())) % 64 == 0)
        for (int c = 0; c < NC; ++c) _mm_prefetch(b_addr<BT>(g, n + c + kPrefetchCols, k), _MM_HINT_T0);
      __m256 b[NC];
      for (int c = 0; c < NC; ++c) b[c] = load8_b<BT>(g, n + c, k, sc[c]);
      for (int r = 0; r < MR; ++r) {
        __m256 a = _mm256_loadu_ps(xr[r] + k);
        for (int c = 0; c < NC; ++c) acc[r][c] = _mm256_fmadd_ps(a, b[c], acc[r][c]);
      }
    }
    if (k < k1)
      for (int r = 0; r < MR; ++r)
        for (int c = 0; c < NC; ++c) tail[r][c] += dot_scalar(xr[r], g, n + c, k, k1);
  }
  for (int r = 0; r < MR; ++r)
    for (int c = 0; c < NC; ++c) out[r * kGemvChunk + n + c - n0] = hsum256(acc[r][c]) + tail[r][c];
}

template <BType BT, int MR>
AVX2_FN void gemv_block_avx2(const float* const* xr, const Gemm& g, int n0, int n1, float* out) {
  constexpr int NC = MR <= 3 ? 4 : 3;  // 12 accumulators at most: loads of x, not FMAs, are the limit
  int n = n0;
  for (; n + NC <= n1; n += NC) gemv_cols_avx2<BT, MR, NC>(xr, g, n, n0, out);
  for (; n < n1; ++n) gemv_cols_avx2<BT, MR, 1>(xr, g, n, n0, out);
}

template <BType BT>
void gemv_rows_avx2(const float* const* xr, int mr, const Gemm& g, int n0, int n1, float* out) {
  switch (mr) {
    case 1: gemv_block_avx2<BT, 1>(xr, g, n0, n1, out); break;
    case 2: gemv_block_avx2<BT, 2>(xr, g, n0, n1, out); break;
    case 3: gemv_block_avx2<BT, 3>(xr, g, n0, n1, out); break;
    default: gemv_block_avx2<BT, 4>(xr, g, n0, n1, out); break;
  }
}

// R rows (2 to 6) x 16 columns: s[2r], s[2r + 1] += sum over k in [k0, k1) of
// xr[r][k] * B row k, the row given by load(k, b0, b1) as two 8-column halves; s holds the
// sums to continue (zeros to start). The sums are named locals (an array is spilled by GCC).
// Used by the large-M register kernel (6 rows) and the decode turns (2 to 6 rows).
template <int R, class LoadB>
AVX2_FN __attribute__((always_inline)) inline void row_sums(int k0, int k1, const float* const* xr, LoadB load,
                                                            __m256* s) {
  static_assert(R >= 2 && R <= 6);
  const float *x0 = xr[0], *x1 = xr[1], *x2 = xr[std::min(2, R - 1)], *x3 = xr[std::min(3, R - 1)],
              *x4 = xr[std::min(4, R - 1)], *x5 = xr[R - 1];
  __m256 c00 = s[0], c01 = s[1], c10 = s[2], c11 = s[3];
  __m256 c20 = R > 2 ? s[4] : c00, c21 = R > 2 ? s[5] : c00, c30 = R > 3 ? s[6] : c00, c31 = R > 3 ? s[7] : c00;
  __m256 c40 = R > 4 ? s[8] : c00, c41 = R > 4 ? s[9] : c00, c50 = R > 5 ? s[10] : c00, c51 = R > 5 ? s[11] : c00;
#pragma GCC unroll 4
  for (int k = k0; k < k1; ++k) {
    __m256 b0, b1;
    load(k, b0, b1);
    __m256 x = _mm256_broadcast_ss(x0 + k);
    c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
    x = _mm256_broadcast_ss(x1 + k);
    c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
    if constexpr (R > 2) {
      x = _mm256_broadcast_ss(x2 + k);
      c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
    }
    if constexpr (R > 3) {
      x = _mm256_broadcast_ss(x3 + k);
      c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
    }
    if constexpr (R > 4) {
      x = _mm256_broadcast_ss(x4 + k);
      c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
    }
    if constexpr (R > 5) {
      x = _mm256_broadcast_ss(x5 + k);
      c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
    }
  }
  s[0] = c00; s[1] = c01; s[2] = c10; s[3] = c11;
  if constexpr (R > 2) s[4] = c20, s[5] = c21;
  if constexpr (R > 3) s[6] = c30, s[7] = c31;
  if constexpr (R > 4) s[8] = c40, s[9] = c41;
  if constexpr (R > 5) s[10] = c50, s[11] = c51;
}


// kGroup panels, one block of rows runs over the group's panels, sums in registers.
// At most kPanelRows rows per block (DecodeParams::single_pass_rows).
constexpr int kGroup = 4, kPanelRows = 6;
// The software prefetch distance is DecodeParams::prefetch_rows half-lines, split among the
// streams (panel pairs) a pass reads side by side. The lines go to L2, far enough ahead that
// many are in flight: L1 has fewer miss buffers, and asking for lines there just ahead (2 KB)
// kept batched products waiting on memory.

// y (+)= v + bias for the 8 columns of half a panel, of which n < 8 may be inside N.
AVX2_FN inline void put_half(const Gemm& g, int row, int col, __m256 v) {
  if (col >= g.N) return;
  float* y = g.y + int64_t(row) * g.ldy + col;
  if (col + 8 <= g.N) {
    if (g.bias) v = _mm256_add_ps(v, _mm256_loadu_ps(g.bias + col));
    if (g.accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(y));
    _mm256_storeu_ps(y, v);
    return;
  }
  alignas(32) float t[8];
  _mm256_store_ps(t, v);
  for (int j = 0; j < g.N - col; ++j) {
    const float o = t[j] + (g.bias ? g.bias[col + j] : 0.0f);
    y[j] = g.accumulate ? y[j] + o : o;
  }
}

// Rows [0, MR) x panels [p0, p0 + NP): one load per panel and k (16 columns),
// a broadcast per row and 2 x MR x NP FMAs per k. The unroll pragmas must cover MR and NP
// entirely: a loop left rolled keeps s in memory (unroll 4 gave <5,1> a store per FMA).
template <int MR, int NP, bool Pairs>
AVX2_FN void gemv_panels_avx2(const float* const* xr, const Gemm& g, int p0, int ahead) {
  constexpr int rs = Pairs ? 2 * kPanel : kPanel, odd = Pairs ? 0 : 1;  // a line: 1 or 2 rows
  const uint16_t* b[NP];
  bool fetch[NP];
#pragma GCC unroll 8
  for (int p = 0; p < NP; ++p) b[p] = panel_ptr(g, p0 + p), fetch[p] = starts_stream(g, p0, p);
  __m256 s[MR][NP][2];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p) s[r][p][0] = s[r][p][1] = _mm256_setzero_ps();
  for (int k = 0; k < g.K; ++k) {
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p) {
      const uint16_t* bk = b[p] + int64_t(k) * rs;
      if (fetch[p] && (k & odd) == 0) _mm_prefetch(reinterpret_cast<const char*>(bk + ahead), _MM_HINT_T1);
      __m256 lo, hi;
      load_panel_row(bk, lo, hi);
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        const __m256 a = _mm256_broadcast_ss(xr[r] + k);
        s[r][p][0] = _mm256_fmadd_ps(a, lo, s[r][p][0]);
        s[r][p][1] = _mm256_fmadd_ps(a, hi, s[r][p][1]);
      }
    }
  }
  // Out through memory with constant indices: otherwise GCC keeps s in memory in the loop.
  __m256 t[MR][NP][2];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p) t[r][p][0] = s[r][p][0], t[r][p][1] = s[r][p][1];
  for (int r = 0; r < MR; ++r)
    for (int p = 0; p < NP; ++p) {
      put_half(g, r, (p0 + p) * kPanel, t[r][p][0]);
      put_half(g, r, (p0 + p) * kPanel + 8, t[r][p][1]);
    }
}

// Six rows, one panel (the Panel layout): row_sums keeps the 12 sums in registers (GCC spills
// the array form above).
template <>
AVX2_FN void gemv_panels_avx2<6, 1, false>(const float* const* xr, const Gemm& g, int p0, int ahead) {
  const uint16_t* b = panel_ptr(g, p0);
  constexpr int rs = kPanel;
  __m256 acc[12];
  for (__m256& v : acc) v = _mm256_setzero_ps();
  row_sums<6>(0, g.K, xr, [&](int k, __m256& lo, __m256& hi) AVX2_FN {
    if (k % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(b + int64_t(k) * rs + ahead), _MM_HINT_T1);
    load_panel_row(b + int64_t(k) * rs, lo, hi);
  }, acc);
  for (int r = 0; r < 6; ++r) {
    put_half(g, r, p0 * kPanel, acc[2 * r]);
    put_half(g, r, p0 * kPanel + 8, acc[2 * r + 1]);
  }
}

// Panels [p, p + np) of MR rows, as many panels per call as the registers allow.
template <int MR>
AVX2_FN void gemv_panel_block(const float* const* xr, const Gemm& g, int p, int np, int ahead) {
  constexpr int NP = MR == 1 ? 4 : MR == 2 ? 2 : 1;
  auto run = [&](auto pairs) AVX2_FN {
    constexpr bool kPairs = decltype(pairs)::value;
    int q = p;
    for (; q + NP <= p + np; q += NP) gemv_panels_avx2<MR, NP, kPairs>(xr, g, q, ahead / streams_of(g, q, NP));
    for (; q < p + np; ++q) gemv_panels_avx2<MR, 1, kPairs>(xr, g, q, ahead);
  };
  g.layout == BLayout::PanelPairs ? run(std::true_type{}) : run(std::false_type{});
}

// More rows than one pass takes (batched decoding; with PanelPairs, 3 or more): a single
// pass would need more accumulators than AVX2 has registers, and a second pass over rows 7+
// (or over a pair's other panel) would find B in L2 only, leaving the memory idle while it
// runs. So the work goes in blocks of DecodeParams::turn_k values of k, and in each block
// every unit, one turn of about turn_rows rows times one panel (of a pair: each in turn),
// runs with its sums parked in L1 in between: the first unit pulls the block from memory, the
// others find it in L1, and the prefetch keeps the stream going meanwhile.
constexpr int kMaxTurns = kSmallM / 2;

// R rows x 16 columns over [k0, k1), continuing the sums parked in c (row r: c[16 r .. 16 r + 16)).
template <int R, class LoadB>
AVX2_FN __attribute__((always_inline)) inline void turn_sums(int k0, int k1, const float* const* xr, LoadB load,
                                                             float* c) {
  __m256 s[2 * R];
  for (int i = 0; i < 2 * R; ++i) s[i] = _mm256_load_ps(c + 8 * i);
  row_sums<R>(k0, k1, xr, load, s);
  for (int i = 0; i < 2 * R; ++i) _mm256_store_ps(c + 8 * i, s[i]);
}

// Rows [0, M) (2 <= M <= kSmallM) x panels [p0, p1), in `turns` turns of rows (2 to 6 each).
AVX2_FN void gemv_panel_turns_avx2(const Gemm& g, int p0, int p1, int turns, const DecodeParams& d) {
  const bool pairs = g.layout == BLayout::PanelPairs;
  const int ahead = d.prefetch_rows * kPanel, turn_k = d.turn_k, rs = panel_row_stride(g.layout);
  int first[kMaxTurns + 1];  // turn t: rows [first[t], first[t + 1]), sizes differ by at most 1
  for (int t = 0; t <= turns; ++t) first[t] = t * g.M / turns;
  const float* xr[kSmallM];
  for (int r = 0; r < g.M; ++r) xr[r] = g.x + int64_t(r) * g.ldx;
  alignas(32) float c[2][kSmallM * kPanel];
  const uint16_t* b = nullptr;  // the panel being worked on
  // A turn's first unit prefetches the lines of the rows k with k & mask == at: a line holds
  // two rows of a Panel panel; a pair's two panels share each line and take every other one.
  int fetch_mask = 0, fetch_at = 0;
  auto stream = [&](int k, __m256& lo, __m256& hi) AVX2_FN {
    if ((k & fetch_mask) == fetch_at) _mm_prefetch(reinterpret_cast<const char*>(b + int64_t(k) * rs + ahead), _MM_HINT_T1);
    load_panel_row(b + int64_t(k) * rs, lo, hi);
  };
  auto cached = [&](int k, __m256& lo, __m256& hi) AVX2_FN { load_panel_row(b + int64_t(k) * rs, lo, hi); };
  for (int p = p0; p < p1;) {
    const int np = pairs && p % 2 == 0 && p + 1 < p1 ? 2 : 1;  // the panels of this pair inside [p0, p1)
    for (int h = 0; h < np; ++h)
      for (int i = 0; i < g.M * kPanel; i += 8) _mm256_store_ps(c[h] + i, _mm256_setzero_ps());  // not all 1 KB
    for (int k0 = 0; k0 < g.K; k0 += turn_k) {
      const int k1 = std::min(g.K, k0 + turn_k);
      for (int h = 0; h < np; ++h) {
        b = panel_ptr(g, p + h);
        fetch_mask = pairs ? np - 1 : 1, fetch_at = pairs ? h : 0;
        for (int t = 0; t < turns; ++t) {
          const float* const* x = xr + first[t];
          float* ct = c[h] + first[t] * kPanel;
          auto turn = [&](auto load) AVX2_FN {
            switch (first[t + 1] - first[t]) {
              case 2: turn_sums<2>(k0, k1, x, load, ct); break;
              case 3: turn_sums<3>(k0, k1, x, load, ct); break;
              case 4: turn_sums<4>(k0, k1, x, load, ct); break;
              case 5: turn_sums<5>(k0, k1, x, load, ct); break;
              default: turn_sums<6>(k0, k1, x, load, ct); break;
            }
          };
          t == 0 ? turn(stream) : turn(cached);
        }
      }
    }
    for (int h = 0; h < np; ++h)
      for (int r = 0; r < g.M; ++r) {
        put_half(g, r, (p + h) * kPanel, _mm256_load_ps(c[h] + r * kPanel));
        put_half(g, r, (p + h) * kPanel + 8, _mm256_load_ps(c[h] + r * kPanel + 8));
      }
    p += np;
  }
}

}  // namespace

// Columns [n0, n1) (n0 on a panel boundary) of every row.
AVX2_FN void gemv_panel_avx2(const Gemm& g, int n0, int n1) {
  const int p0 = n0 / kPanel, p1 = (n1 + kPanel - 1) / kPanel;
  const DecodeParams d = decode_params();
  if (g.M > d.single_pass_rows || (g.layout == BLayout::PanelPairs && g.M > 2)) {
    const int turns = g.M <= d.single_pass_rows
                          ? 1
                          : std::clamp((g.M + d.turn_rows - 1) / d.turn_rows, (g.M + 5) / 6, std::max(1, g.M / 2));
    gemv_panel_turns_avx2(g, p0, p1, turns, d);
    return;
  }
  const int ahead = d.prefetch_rows * kPanel;
  const float* xr[kPanelRows];
  for (int r = 0; r < g.M; ++r) xr[r] = g.x + int64_t(r) * g.ldx;
  for (int p = p0; p < p1; p += kGroup) {
    const int np = std::min(kGroup, p1 - p);
    switch (g.M) {
      case 1: gemv_panel_block<1>(xr, g, p, np, ahead); break;
      case 2: gemv_panel_block<2>(xr, g, p, np, ahead); break;
      case 3: gemv_panel_block<3>(xr, g, p, np, ahead); break;
      case 4: gemv_panel_block<4>(xr, g, p, np, ahead); break;
      case 5: gemv_panel_block<5>(xr, g, p, np, ahead); break;
      default: gemv_panel_block<6>(xr, g, p, np, ahead); break;
    }
  }
}

// Small M, NK layout: up to kGemvRows rows of x per pass over a chunk of B.
void gemv_nk_avx2(const Gemm& g, int n0, int n1) {
  float blk[kGemvRows * kGemvChunk];
  for (int c0 = n0; c0 < n1; c0 += kGemvChunk) {
    const int c1 = std::min(n1, c0 + kGemvChunk);
    for (int m = 0; m < g.M; m += kGemvRows) {
      const int mr = std::min(kGemvRows, g.M - m);
      const float* xr[kGemvRows];
      for (int r = 0; r < mr; ++r) xr[r] = g.x + int64_t(m + r) * g.ldx;
      if (g.btype == BType::BF16) gemv_rows_avx2<BType::BF16>(xr, mr, g, c0, c1, blk);
      else if (g.btype == BType::I8 && mr == 1) gemv_row_i8_avx2(xr[0], g, c0, c1, blk);  // scale per group
      else if (g.btype == BType::I8) gemv_rows_avx2<BType::I8>(xr, mr, g, c0, c1, blk);
      else gemv_rows_avx2<BType::F32>(xr, mr, g, c0, c1, blk);
      for (int r = 0; r < mr; ++r) write_out(g, m + r, c0, c1, blk + r * kGemvChunk);
    }
  }
}

namespace {

AVX2_FN void gemv_kn_avx2(const Gemm& g, int n0, int n1) { gemv_kn_body(g, n0, n1); }

// --- AVX2, M > kSmallM: B packed once, shared by the threads --------------------------
//
// B is packed once per call (per block of columns when K x N is large) into f32 panels of
// 16 columns, [k block][panel][kc][16], zero-padded: bf16 and int8 are widened here, once,
// instead of once per block of rows. One parallel pass packs, one computes, and nothing else
// waits: on a shared machine a thread that loses its core delays only its own tasks. A task
// owns up to MC2 rows x NG2 columns of y; per k block (kc <= 256) it holds 6 rows of x
// (6 KB) in L1 and runs the 6x16 register kernel across its B panels (NG2 x kc, 256 KB), which
// stay in L2 for all its rows. The first k block writes y = acc + bias (+ y if accumulating);
// later ones add.

constexpr int MR2 = 6, NR2 = 16;
constexpr int KC2 = 256, MC2 = 258, NG2 = 256;  // MC2, NG2: most rows / columns per task
static_assert(MC2 % MR2 == 0 && NG2 % NR2 == 0);
constexpr int64_t kMaxPackedB = int64_t(4) << 20;  // floats of packed B per column block (16 MB)

// acc[r][j] = sum_k xr[r][k] * b[k][j]; then c[r][j] = acc + (add_c ? c : 0) + (bias ? bias[j] : 0).
AVX2_FN void micro_6x16(int kc, const float* const* xr, const float* b, float* c, int64_t ldc, bool add_c,
                        const float* bias) {
  for (int r = 0; r < MR2; ++r) _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
  __m256 acc[12];
  for (__m256& v : acc) v = _mm256_setzero_ps();
  row_sums<6>(0, kc, xr, [&](int k, __m256& b0, __m256& b1) AVX2_FN {
    b0 = _mm256_load_ps(b + k * 16), b1 = _mm256_load_ps(b + k * 16 + 8);
  }, acc);
  const __m256 z = _mm256_setzero_ps();
  const __m256 bias0 = bias ? _mm256_loadu_ps(bias) : z, bias1 = bias ? _mm256_loadu_ps(bias + 8) : z;
  for (int r = 0; r < MR2; ++r) {
    float* p = c + r * ldc;
    __m256 v0 = _mm256_add_ps(acc[2 * r], bias0), v1 = _mm256_add_ps(acc[2 * r + 1], bias1);
    if (add_c) v0 = _mm256_add_ps(v0, _mm256_loadu_ps(p)), v1 = _mm256_add_ps(v1, _mm256_loadu_ps(p + 8));
    _mm256_storeu_ps(p, v0);
    _mm256_storeu_ps(p + 8, v1);
  }
}

void gemm_avx2_blocked(const Gemm& g, bool parallel) {
  const int kcb = block_size(g.K, KC2, 8), nkb = (g.K + kcb - 1) / kcb;
  const int ncb = block_size(g.N, std::max(NR2, int(kMaxPackedB / (int64_t(nkb) * kcb)) / NR2 * NR2), NR2);
  thread_local ThreadScratch<float> tls;
  ThreadScratch<float> own;
  ScratchHold<float> hold(tls, own);
  float* const B = hold.get(size_t(nkb) * kcb * ncb);
  const int mpan = (g.M + MR2 - 1) / MR2, QP = block_size(mpan, MC2 / MR2, 1);
  for (int n0 = 0; n0 < g.N; n0 += ncb) {
    const int nc = std::min(ncb, g.N - n0), npan = (nc + NR2 - 1) / NR2;
    // Panel p of k block kb: B + (kb * kcb * npan + p * kc) * 16 (kc of that block).
    auto panel = [&](int kb, int p) { return B + (int64_t(kb) * kcb * npan + int64_t(p) * std::min(kcb, g.K - kb * kcb)) * NR2; };
    const int bgroups = (npan + 3) / 4;
    run_tasks(nkb * bgroups, parallel, [&](int t) {
      const int kb = t / bgroups, p0 = t % bgroups * 4, k0 = kb * kcb, kc = std::min(kcb, g.K - k0);
      for (int p = p0; p < std::min(npan, p0 + 4); ++p) pack_avx2<NR2>(g, k0, kc, n0 + p * NR2, panel(kb, p));
    });
    const int PP = block_size(npan, NG2 / NR2, 1), mt = (mpan + QP - 1) / QP, nt = (npan + PP - 1) / PP;
    run_tasks(mt * nt, parallel, [&](int t) {
      const int ti = t / nt, tj = t % nt, q0 = ti * QP, q1 = std::min(mpan, q0 + QP);
      const int p0 = tj * PP, p1 = std::min(npan, p0 + PP);
      for (int kb = 0; kb < nkb; ++kb) {
        const int k0 = kb * kcb, kc = std::min(kcb, g.K - k0);
        const bool add_c = k0 > 0 || g.accumulate;
        const float* bias = k0 == 0 && g.bias ? g.bias + n0 : nullptr;
        for (int q = q0; q < q1; ++q) {
          const int row = q * MR2, mr = std::min(MR2, g.M - row);
          const float* xr[MR2];  // rows past M repeat the last one; only the edge path sees them
          for (int i = 0; i < MR2; ++i) xr[i] = g.x + int64_t(row + std::min(i, mr - 1)) * g.ldx + k0;
          for (int p = p0; p < p1; ++p) {
            const float* bp = panel(kb, p);
            const int col = n0 + p * NR2, nr = std::min(NR2, g.N - col);
            const float* bb = bias ? bias + p * NR2 : nullptr;
            float* y = g.y + int64_t(row) * g.ldy + col;
            if (mr == MR2 && nr == NR2) {
              micro_6x16(kc, xr, bp, y, g.ldy, add_c, bb);
              continue;
            }
            alignas(32) float tile[MR2 * NR2];
            micro_6x16(kc, xr, bp, tile, NR2, false, nullptr);
            for (int i = 0; i < mr; ++i)
              for (int j = 0; j < nr; ++j) {
                const float v = tile[i * NR2 + j] + (bb ? bb[j] : 0.0f);
                float& out = y[int64_t(i) * g.ldy + j];
                out = add_c ? out + v : v;
              }
          }
        }
      }
    });
  }
}

// --- element-wise and softmax ------------------------------------------------------------

}  // namespace

// gelu_tanh(x) = 0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3):
// the sigmoid form has no cancellation near 0. The last n % 8 values go through the same
// vector arithmetic (padded), so every value gets the same function wherever it lies: the
// AMX products' fused GELU matches this pass. (Shared: the AVX-512 level's tail.)
static AVX2_FN inline __m256 gelu8(__m256 v) {
  const __m256 inner = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(0.044715f), v), _mm256_mul_ps(v, v), v);
  const __m256 e = exp_avx2(_mm256_mul_ps(_mm256_set1_ps(-2.0f * 0.7978845608028654f), inner));
  return _mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

AVX2_FN void gelu_avx2(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu8(_mm256_loadu_ps(x + i)));
  if (i < n) {
    float tail[8] = {};
    std::copy(x + i, x + n, tail);
    _mm256_storeu_ps(tail, gelu8(_mm256_loadu_ps(tail)));
    std::copy(tail, tail + (n - i), x + i);
  }
}

AVX2_FN void silu_mul_avx2(float* gate, const float* up, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(gate + i);
    __m256 s = _mm256_div_ps(v, _mm256_add_ps(one, exp_avx2(_mm256_sub_ps(zero, v))));
    _mm256_storeu_ps(gate + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

// Shared with the AVX-512 level's attention (kernels/common.h).
AVX2_FN float max_avx2(const float* s, int n) {
  __m256 m8 = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int i = 0;
  for (; i + 8 <= n; i += 8) m8 = _mm256_max_ps(m8, _mm256_loadu_ps(s + i));
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
  float mx = _mm_cvtss_f32(m4);
  for (; i < n; ++i) mx = std::max(mx, s[i]);
  return mx;
}

AVX2_FN float exp_scaled_avx2(float* s, int n, float scale, float mx) {
  alignas(32) const float zero[8] = {};
  return exp_scaled_avx2_from(s, n, scale, mx, zero);
}

AVX2_FN float exp_scaled_avx2_from(float* s, int n, float scale, float mx, const float* sums) {
  const __m256 sc = _mm256_set1_ps(scale), m = _mm256_set1_ps(mx);
  __m256 sum8 = _mm256_loadu_ps(sums);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 e = exp_avx2(_mm256_fmsub_ps(_mm256_loadu_ps(s + i), sc, m));
    _mm256_storeu_ps(s + i, e);
    sum8 = _mm256_add_ps(sum8, e);
  }
  float sum = hsum256(sum8);
  for (; i < n; ++i) sum += (s[i] = std::exp(s[i] * scale - mx));
  return sum;
}

// Shared with the AVX-512 level (its tail). Two chains of sums, so that a vocabulary's 100k
// exps are not held up by the adds.
AVX2_FN float sum_exp_avx2(const float* x, int n, float mx) {
  const __m256 m = _mm256_set1_ps(mx);
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_add_ps(s0, exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), m)));
    s1 = _mm256_add_ps(s1, exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), m)));
  }
  float sum = hsum256(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) sum += std::exp(x[i] - mx);
  return sum;
}

namespace {

AVX2_FN void softmax_avx2(float* x, int n) {
  __m256 mx8 = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int i = 0;
  for (; i + 8 <= n; i += 8) mx8 = _mm256_max_ps(mx8, _mm256_loadu_ps(x + i));
  float buf[8];
  _mm256_storeu_ps(buf, mx8);
  float mx = buf[0];
  for (int j = 1; j < 8; ++j) mx = std::max(mx, buf[j]);
  for (; i < n; ++i) mx = std::max(mx, x[i]);
  const __m256 m = _mm256_set1_ps(mx);
  __m256 sum8 = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    __m256 e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
    _mm256_storeu_ps(x + i, e);
    sum8 = _mm256_add_ps(sum8, e);
  }
  float sum = hsum256(sum8);
  for (; i < n; ++i) sum += (x[i] = std::exp(x[i] - mx));
  const __m256 inv = _mm256_set1_ps(1.0f / sum);
  for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
  for (; i < n; ++i) x[i] *= 1.0f / sum;
}

// argmax_scalar's answer, 256 values at a time: the block's largest by vector (vmaxps(v, m)
// is v > m ? v : m, so a NaN never wins, as there), then, only for a block that beats the
// best so far, the first index that holds it: the one the scalar loop would end on.
AVX2_FN int argmax_avx2(const float* x, int n) {
  constexpr int kBlock = 256;
  int best = 0;
  float top = x[0];
  for (int b = 0; b < n; b += kBlock) {
    const int e = std::min(n, b + kBlock);
    __m256 m8 = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
    int i = b;
    for (; i + 8 <= e; i += 8) m8 = _mm256_max_ps(_mm256_loadu_ps(x + i), m8);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, m8);
    float mx = lanes[0];
    for (int j = 1; j < 8; ++j) mx = lanes[j] > mx ? lanes[j] : mx;
    for (; i < e; ++i) mx = x[i] > mx ? x[i] : mx;
    if (!(mx > top)) continue;
    best = b;
    while (!(x[best] == mx)) ++best;
    top = mx;
  }
  return best;
}

// --- attention ---------------------------------------------------------------------------

F16_FN void f32_to_f16_row_f16c(const float* x, int n, uint16_t* out) {
  const __m256 hi = _mm256_set1_ps(65504.0f), lo = _mm256_set1_ps(-65504.0f);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    // max/min with the value as the second operand return it when it is NaN.
    __m256 v = _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_loadu_ps(x + i)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) out[i] = f32_to_f16(x[i]);
}

struct Avx2Softmax {
  static constexpr bool kVec = true;
  static float max(const float* s, int n) { return max_avx2(s, n); }
  static float exp_scaled(float* s, int n, float scale, float mx) { return exp_scaled_avx2(s, n, scale, mx); }
};

struct Avx2Ops : Avx2Softmax, KvPasses<Avx2Ops> {
  template <class T>
  static void micro(int mr, int kc, const float* const* xr, const T* b, int64_t ldb, float* c, int64_t ldc,
                    bool add_c) {
    kernels::micro::micro_rows<kKvCols / 8>(mr, kc, xr, b, ldb, c, ldc, add_c);
  }
};

void attend_f16(const KvAttention& a, int g, int i0, int i1) { attend<Avx2Ops, uint16_t>(a, g, i0, i1); }
void attend_f32(const KvAttention& a, int g, int i0, int i1) { attend<Avx2Ops, float>(a, g, i0, i1); }
float online_softmax_row_avx2(float* s, int n, int bk, float scale, float& m, float& l, float* o, int hd) {
  return softmax_step<Avx2Ops>(s, n, bk, scale, m, l, o, hd);
}

}  // namespace

KernelTable avx2_kernels() {
  KernelTable t;
  t.isa = Isa::Avx2;
  t.gemv_nk = gemv_nk_avx2;
  t.gemv_panel = gemv_panel_avx2;
  t.gemv_kn = gemv_kn_avx2;
  t.gemm_large = gemm_avx2_blocked;
  t.attend_f16 = attend_f16;
  t.attend_f32 = attend_f32;
  t.online_softmax_row = online_softmax_row_avx2;
  t.f32_to_f16_row = f32_to_f16_row_f16c;
  t.gelu_tanh = gelu_avx2;
  t.silu_mul = silu_mul_avx2;
  t.softmax = softmax_avx2;
  t.argmax = argmax_avx2;
  t.sum_exp = sum_exp_avx2;
  t.gemm_i8 = gemm_i8_avx2;
  return t;
}

}  // namespace docling::kernels::detail
